// Overflow-checked integer arithmetic for sizes computed from user input (study points, row counts):
// an empty result means the exact value does not fit in T, so callers report it instead of wrapping.
#pragma once

#include <concepts>
#include <optional>

namespace bitsim {

template <std::integral T>
std::optional<T> checked_mul(T a, T b) {
  T out;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

template <std::integral T>
std::optional<T> checked_add(T a, T b) {
  T out;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// Either empty input propagates: checked_mul(checked_mul(a, b), c) needs no test in between.
template <std::integral T>
std::optional<T> checked_mul(std::optional<T> a, T b) {
  return a ? checked_mul(*a, b) : std::nullopt;
}

template <std::integral T>
std::optional<T> checked_add(std::optional<T> a, T b) {
  return a ? checked_add(*a, b) : std::nullopt;
}

}  // namespace bitsim
