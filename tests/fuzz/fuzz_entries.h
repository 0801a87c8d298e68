// One entry per loader for the fuzzing harness (tools/fuzz, libFuzzer) and for the tests that
// replay what it found (tests/test_fuzz_regressions.cpp): the bytes are written to a temporary file
// with the loader's extension and loaded. A bad input must end in InputError (caught here: a clean
// refusal); anything else — another exception, a sanitizer report, a crash — escapes.
#pragma once

#include <array>
#include <string_view>

#include "sim/base/names.h"

namespace bitsim::fuzz {

enum class Loader { HardwareYaml, ScaleSimCfg, WorkloadYaml, ScaleSimCsv, Onnx, Plan, Curves, Study, Idx, Numpy };
inline constexpr NameTable kLoaderNames{std::array{
    NamedValue<Loader>{Loader::HardwareYaml, "hardware_yaml"}, NamedValue<Loader>{Loader::ScaleSimCfg, "scalesim_cfg"},
    NamedValue<Loader>{Loader::WorkloadYaml, "workload_yaml"}, NamedValue<Loader>{Loader::ScaleSimCsv, "scalesim_csv"},
    NamedValue<Loader>{Loader::Onnx, "onnx"}, NamedValue<Loader>{Loader::Plan, "plan"},
    NamedValue<Loader>{Loader::Curves, "curves"}, NamedValue<Loader>{Loader::Study, "study"},
    NamedValue<Loader>{Loader::Idx, "idx"}, NamedValue<Loader>{Loader::Numpy, "numpy"}}};
static_assert(kLoaderNames.complete());

// Loads `bytes` as `loader` reads a file. True when the input loaded, false when it was refused
// with an InputError; any other outcome escapes.
bool run(Loader loader, std::string_view bytes);

}  // namespace bitsim::fuzz
