// Unit parsing for hardware configs.
#include "sim/base/units.h"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "sim/base/text.h"

namespace bitsim {
namespace {

struct Unit {
  std::string_view name;
  double scale;
};

constexpr std::array kBytes = {Unit{"B", 1.0},         Unit{"KB", 1e3},          Unit{"MB", 1e6},
                               Unit{"GB", 1e9},        Unit{"TB", 1e12},         Unit{"KiB", 1024.0},
                               Unit{"MiB", 1048576.0}, Unit{"GiB", 1073741824.0}};
constexpr std::array kBytesPerSecond = {Unit{"B/s", 1.0},         Unit{"KB/s", 1e3},          Unit{"MB/s", 1e6},
                                        Unit{"GB/s", 1e9},        Unit{"TB/s", 1e12},         Unit{"KiB/s", 1024.0},
                                        Unit{"MiB/s", 1048576.0}, Unit{"GiB/s", 1073741824.0}};
constexpr std::array kHertz = {Unit{"Hz", 1.0}, Unit{"kHz", 1e3}, Unit{"MHz", 1e6}, Unit{"GHz", 1e9}};
constexpr std::array kSeconds = {Unit{"s", 1.0}, Unit{"ms", 1e-3}, Unit{"us", 1e-6}, Unit{"ns", 1e-9}};
constexpr std::array kJoules = {Unit{"J", 1.0},   Unit{"mJ", 1e-3},  Unit{"uJ", 1e-6},
                                Unit{"nJ", 1e-9}, Unit{"pJ", 1e-12}, Unit{"fJ", 1e-15}};
constexpr std::array kSquareMeters = {Unit{"um2", 1e-12}, Unit{"mm2", 1e-6}, Unit{"m2", 1.0}};

template <typename F>
auto with_units(Dimension dim, F&& f) {
  switch (dim) {
    case Dimension::Bytes:
      return f(std::span<const Unit>(kBytes));
    case Dimension::BytesPerSecond:
      return f(std::span<const Unit>(kBytesPerSecond));
    case Dimension::Hertz:
      return f(std::span<const Unit>(kHertz));
    case Dimension::Seconds:
      return f(std::span<const Unit>(kSeconds));
    case Dimension::Joules:
      return f(std::span<const Unit>(kJoules));
    case Dimension::SquareMeters:
      return f(std::span<const Unit>(kSquareMeters));
  }
  return f(std::span<const Unit>());
}

}  // namespace

std::string_view unit_examples(Dimension dim) {
  switch (dim) {
    case Dimension::Bytes:
      return "B, KB, MB, GB, KiB, MiB, GiB";
    case Dimension::BytesPerSecond:
      return "B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s";
    case Dimension::Hertz:
      return "Hz, kHz, MHz, GHz";
    case Dimension::Seconds:
      return "s, ms, us, ns";
    case Dimension::Joules:
      return "fJ, pJ, nJ, uJ, mJ, J";
    case Dimension::SquareMeters:
      return "um2, mm2, m2";
  }
  return "";
}

std::optional<double> parse_quantity(std::string_view text, Dimension dim) {
  text = trim(text);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  if (!std::isfinite(value) || value < 0.0) return std::nullopt;
  const std::string_view unit = trim(text.substr(static_cast<std::size_t>(end - text.data())));
  return with_units(dim, [&](std::span<const Unit> units) -> std::optional<double> {
    for (const Unit& u : units)  // "1e308 GB/s" overflows: not a quantity (only 'unlimited' is infinite)
      if (u.name == unit) return std::isfinite(value * u.scale) ? std::optional<double>(value * u.scale) : std::nullopt;
    return std::nullopt;
  });
}

std::string format_quantity(double value, Dimension dim) {
  // The largest unit of each family (decimal, binary) that keeps the number >= 1; of the two
  // texts, the shorter wins, so 4 MiB prints as "4 MiB" and 13 GB/s as "13 GB/s". The text must
  // read back to exactly `value` (a resolved config written out reads back equal): if neither
  // does, the shortest that does at 6 significant digits in any unit ("0.03 pJ", not
  // "29.999999999999996 fJ"), then with more digits, else the base unit's round-trip text.
  return with_units(dim, [&](std::span<const Unit> units) {
    std::vector<const Unit*> picks;
    std::string best;
    for (const bool binary : {false, true}) {
      const Unit* pick = nullptr;
      for (const Unit& u : units) {
        if ((u.name.find("iB") != std::string_view::npos) != binary) continue;
        if (pick == nullptr || (u.scale <= value && (pick->scale > value || u.scale > pick->scale))) pick = &u;
      }
      if (pick == nullptr) continue;
      picks.push_back(pick);
      std::string text = fmt::format("{:.6g} {}", value / pick->scale, pick->name);
      if (best.empty() || text.size() < best.size()) best = std::move(text);
    }
    // (Subnormal values, far below any hardware's, only appear in messages: 6 digits will do.)
    if (!(std::isfinite(value) && value >= std::numeric_limits<double>::min()) || parse_quantity(best, dim) == value)
      return best;
    // Plain numbers before exponents, then shorter texts; the picked units before the others.
    auto better = [](const std::string& a, const std::string& b) {
      const bool ea = a.find('e') != std::string::npos, eb = b.find('e') != std::string::npos;
      return ea != eb ? !ea : a.size() < b.size();
    };
    std::vector<const Unit*> all;
    for (const Unit& u : units) all.push_back(&u);
    for (int digits = 6; digits <= 17; ++digits)
      for (const auto* candidates : {&picks, &all}) {
        std::string exact;
        for (const Unit* u : *candidates) {
          std::string text = fmt::format("{:.{}g} {}", value / u->scale, digits, u->name);
          if (parse_quantity(text, dim) == value && (exact.empty() || better(text, exact))) exact = std::move(text);
        }
        if (!exact.empty()) return exact;
      }
    const auto base = std::find_if(units.begin(), units.end(), [](const Unit& u) { return u.scale == 1.0; });
    return base == units.end() ? best : fmt::format("{} {}", value, base->name);
  });
}

}  // namespace bitsim
