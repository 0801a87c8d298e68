// Names of closed sets (enum class): one table per enum gives its spelling in files, on the command
// line, in help text and in output, so that no name is written twice. Every enumerator is in the
// table exactly once (checked at compile time where the table is defined, see kNamesComplete).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitsim {

template <typename Enum>
struct NamedValue {
  Enum value;
  std::string_view name;
};

template <typename Enum, std::size_t N>
class NameTable {
 public:
  constexpr explicit NameTable(std::array<NamedValue<Enum>, N> items) : m_items(items) {}

  // The name of `value` ("?" only if the table were incomplete, which names_complete() rules out).
  constexpr std::string_view name(Enum value) const {
    for (const auto& v : m_items)
      if (v.value == value) return v.name;
    return "?";
  }
  // The value spelt `text`, exactly; nothing for any other text.
  constexpr std::optional<Enum> find(std::string_view text) const {
    for (const auto& v : m_items)
      if (v.name == text) return v.value;
    return std::nullopt;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& v : m_items) out.emplace_back(v.name);
    return out;
  }
  // "os, ws or is": the valid spellings, for "expected ..." messages.
  std::string alternatives() const {
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
      if (i) out += i + 1 == N ? " or " : ", ";
      out += m_items[i].name;
    }
    return out;
  }
  // "os | ws | is": the same list in the style of a type in a parameter table.
  std::string choices() const {
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
      if (i) out += " | ";
      out += m_items[i].name;
    }
    return out;
  }
  // True if the enumerators 0..N-1 each appear exactly once and the names are distinct.
  constexpr bool complete() const {
    for (std::size_t i = 0; i < N; ++i) {
      std::size_t same_value = 0, same_name = 0;
      for (const auto& v : m_items) {
        same_value += static_cast<std::size_t>(v.value) == i;
        same_name += v.name == m_items[i].name;
      }
      if (same_value != 1 || same_name != 1) return false;
    }
    return true;
  }
  constexpr auto begin() const { return m_items.begin(); }
  constexpr auto end() const { return m_items.end(); }
  constexpr std::size_t size() const { return N; }

 private:
  std::array<NamedValue<Enum>, N> m_items;
};

}  // namespace bitsim
