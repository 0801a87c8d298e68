// Rate–distortion curves: for every weight and activation tensor, the quantizer settings a solver
// may choose from, each with its rate (total bits of the tensor) and its distortion (its output-error
// contribution). Read from the CSV format in the README, or modelled (alloc/modelled_curves.h).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/diagnostics.h"
#include "sim/base/names.h"

namespace bitsim::alloc {

// Which size the solvers budget and the simulator charges.
enum class RateKind {
  Fixed,    // bits per value x values
  Entropy,  // empirical entropy of the indices x values (seed 004's estimate)
  Coded,    // the exact size the entropy coder produced, tables included
};
inline constexpr NameTable kRateKindNames{std::array{NamedValue<RateKind>{RateKind::Fixed, "fixed"},
                                                     NamedValue<RateKind>{RateKind::Entropy, "entropy"},
                                                     NamedValue<RateKind>{RateKind::Coded, "coded"}}};
static_assert(kRateKindNames.complete());
constexpr std::string_view rate_kind_name(RateKind k) { return kRateKindNames.name(k); }

enum class CurveTensorKind { Weight, Activation };
inline constexpr NameTable kCurveTensorKindNames{
    std::array{NamedValue<CurveTensorKind>{CurveTensorKind::Weight, "weight"},
               NamedValue<CurveTensorKind>{CurveTensorKind::Activation, "activation"}}};
static_assert(kCurveTensorKindNames.complete());

// How an option is stored off chip. ByRate: as the curves' rate kind says (fixed length at rate
// fixed, else entropy-coded); alloc::with_storage_formats() makes the choice explicit per option.
enum class StorageFormat : std::uint8_t { ByRate, Fixed, Coded };

struct CurveOption {
  std::string name;        // e.g. "t=15,beta=0.25" or "b4"
  double rate_bits = 0;    // total bits of the tensor at this choice: what the budget counts
  double distortion = 0;   // output-error contribution (or its model)
  int bits = 0;            // fixed-length bits per value; 0 = not given
  int levels = 0;          // quantizer levels t; 0 = not given
  double beta = -1;        // dead-zone parameter as a fraction of the step; < 0 = not given
  double fixed_bits = -1;  // the three sizes, where known (< 0 = not given)
  double entropy_bits = -1;
  double coded_bits = -1;
  bool on_chip = false;  // not quantized: the value stays inside a fused datapath (alloc::curves_for_hardware)
  StorageFormat format = StorageFormat::ByRate;
  SourceLocation where;
};

struct TensorCurve {
  std::string tensor;  // "<layer>:w" or "<layer>:a"
  std::string layer;
  CurveTensorKind kind = CurveTensorKind::Weight;
  std::int64_t count = 0;  // values in the tensor (per image for activations); 0 = not given
  std::vector<CurveOption> options;
  // A tensor a fused datapath keeps inside (alloc::pin_unquantized): its one option, on_chip.
  bool on_chip() const { return options.size() == 1 && options.front().on_chip; }
};

struct RateDistortionCurves {
  std::string source;      // file, or a description of the model
  std::string provenance;  // "measured", or "modelled: ..." for curves not measured on a network
  RateKind rate = RateKind::Fixed;
  std::vector<TensorCurve> tensors;

  std::int64_t total_values() const;  // sum of counts (0 where not given)
  double min_rate_bits() const;       // the cheapest plan
  double max_rate_bits() const;       // the most expensive useful plan
};

// Is the option stored entropy-coded (decoded on chip) under curves of rate kind `rate`?
inline bool entropy_coded(RateKind rate, const CurveOption& o) {
  return o.format == StorageFormat::Coded || (o.format == StorageFormat::ByRate && rate != RateKind::Fixed);
}

// Reads the curves CSV; throws InputError naming file, line and column for every problem found.
RateDistortionCurves load_curves(const std::string& path);
// The same from a stream; `source` names it in errors (lines count from `first_line`).
RateDistortionCurves read_curves(std::istream& in, const std::string& source, int first_line = 1);
void write_curves(std::ostream& out, const RateDistortionCurves& curves);

// Indices of the options on the tensor's Pareto front (no other option has lower-or-equal rate and
// lower distortion), by increasing rate; ties broken by (distortion, rate, index).
std::vector<int> pareto_front(const TensorCurve& curve);

}  // namespace bitsim::alloc
