// The solver implementations, for the registry in solver_registry.cpp only. Each is described in
// its own .cpp file.
#pragma once

#include <memory>

#include "alloc/solvers/solver.h"

namespace bitsim::alloc {

std::unique_ptr<Solver> make_equal_solver();
std::unique_ptr<Solver> make_lagrangian_solver();
std::unique_ptr<Solver> make_exact_solver();
std::unique_ptr<Solver> make_sqnr_solver();
std::unique_ptr<Solver> make_sensitivity_solver();

}  // namespace bitsim::alloc
