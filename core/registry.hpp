// Implementations of an extension point, by name (topologies, pipeline
// schedules). T has `const char* name() const`; each registry.cpp builds
// one Registry<T> from its make_ functions.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace danlu {

template <class T>
class Registry {
 public:
  explicit Registry(std::vector<std::unique_ptr<T>> items) : items_(std::move(items)) {}

  // The implementation of that name; logic_error for a name the loader
  // would have refused (`what` names the extension point).
  const T& at(std::string_view name, const char* what) const {
    for (const auto& t : items_)
      if (name == t->name()) return *t;
    throw std::logic_error("unknown " + std::string(what) + " '" + std::string(name) + "' (the loader checks names)");
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& t : items_) out.emplace_back(t->name());
    return out;
  }

 private:
  std::vector<std::unique_ptr<T>> items_;
};

// Registry<T> from make_ functions, in the order listed.
template <class T, class... Make>
Registry<T> make_registry(Make... make) {
  std::vector<std::unique_ptr<T>> v;
  (v.push_back(make()), ...);
  return Registry<T>(std::move(v));
}

}  // namespace danlu
