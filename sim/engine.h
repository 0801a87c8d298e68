// Which performance model times a plan: the analytical fast path (sim/analytical_model.h) or the
// SystemC discrete-event model (sim/detailed_model.h).
#pragma once

#include <string_view>

#include "sim/base/names.h"

namespace bitsim::sim {

enum class Engine { Analytical, SystemC };
inline constexpr NameTable kEngineNames{
    std::array{NamedValue<Engine>{Engine::Analytical, "analytical"}, NamedValue<Engine>{Engine::SystemC, "systemc"}}};
static_assert(kEngineNames.complete());
constexpr std::string_view engine_name(Engine e) { return kEngineNames.name(e); }

}  // namespace bitsim::sim
