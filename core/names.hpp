// One name table per enum: the words a scenario may write, in enum order.
// Specialise NameTable<E> with `static constexpr std::array<std::string_view, N>
// names`; to_name, names_of and from_name then serve the loader, --explain and
// every printed view from that one table.
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace danlu {

template <typename E>
struct NameTable;

template <typename E>
std::string_view to_name(E e) {
  return NameTable<E>::names.at(static_cast<std::size_t>(e));
}

template <typename E>
std::vector<std::string> names_of() {
  return {NameTable<E>::names.begin(), NameTable<E>::names.end()};
}

// `name` must be one of names_of<E>() (the loader checks it with Fields::choice).
template <typename E>
E from_name(std::string_view name) {
  const auto& t = NameTable<E>::names;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t[i] == name) return static_cast<E>(i);
  throw std::logic_error("from_name: unknown name " + std::string(name));
}

}  // namespace danlu
