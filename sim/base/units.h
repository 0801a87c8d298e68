// Quantities with explicit units, as written in hardware YAML: "13 GB/s", "181.5 KiB", "700 MHz".
// Decimal prefixes (k, M, G, T) are powers of 10; binary ones (Ki, Mi, Gi) are powers of 2.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bitsim {

enum class Dimension { Bytes, BytesPerSecond, Hertz, Seconds, Joules, SquareMeters };

// The unit names accepted for a dimension, for error messages, e.g. "B, KB, KiB, MB, MiB, GB, GiB".
std::string_view unit_examples(Dimension dim);

// Parses "<number> <unit>" (space optional) into base units (bytes, bytes/s, Hz, s, J, m^2).
// Returns std::nullopt when the text is not a finite non-negative number followed by a unit of `dim`.
std::optional<double> parse_quantity(std::string_view text, Dimension dim);

// Formats a base-unit value with a decimal prefix, e.g. 13e9 bytes/s -> "13 GB/s".
std::string format_quantity(double value, Dimension dim);

}  // namespace bitsim
