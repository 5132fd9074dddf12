#include "workload/pattern.hpp"

#include <fmt/format.h>

namespace danlu {

namespace {

class Expander {
 public:
  Expander(std::string_view text, std::string_view alphabet, size_t max_items)
      : text_(text), alphabet_(alphabet), max_(max_items) {}

  std::string group(int depth) {
    std::string out;
    while (skip_spaces() < text_.size()) {
      const char c = text_[pos_];
      if (c == ')') {
        if (depth == 0) throw PatternError(pos_, "a ')' closes no '('");
        return out;
      }
      std::string item;
      if (c == '(') {
        const size_t open = pos_++;
        item = group(depth + 1);
        if (skip_spaces() >= text_.size()) throw PatternError(open, "a '(' is never closed");
        ++pos_;  // ')'
        if (item.empty()) throw PatternError(open, "an empty group '()'");
      } else if (alphabet_.find(c) != std::string_view::npos) {
        item = std::string(1, c);
        ++pos_;
      } else {
        throw PatternError(pos_,
                           fmt::format("'{}' is not a symbol here; expected one of \"{}\", '(' or ')'", c, alphabet_));
      }
      const size_t times = count();
      if (item.size() * times > max_ - std::min(max_, out.size()))
        throw PatternError(pos_ == 0 ? 0 : pos_ - 1, fmt::format("the pattern expands past {} items", max_));
      for (size_t i = 0; i < times; ++i) out += item;
    }
    return out;
  }

 private:
  size_t skip_spaces() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
    return pos_;
  }
  // `*N` after an item, else 1.
  size_t count() {
    if (skip_spaces() >= text_.size() || text_[pos_] != '*') return 1;
    const size_t star = pos_++;
    size_t n = 0, digits = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      n = n * 10 + static_cast<size_t>(text_[pos_++] - '0');
      if (n > max_) throw PatternError(star, fmt::format("the pattern expands past {} items", max_));
      ++digits;
    }
    if (digits == 0 || n == 0) throw PatternError(star, "expected a count of at least 1 after '*'");
    return n;
  }

  std::string_view text_, alphabet_;
  size_t max_;
  size_t pos_ = 0;
};

}  // namespace

std::string expand_pattern(std::string_view text, std::string_view alphabet, size_t max_items) {
  Expander e(text, alphabet, max_items);
  return e.group(0);
}

}  // namespace danlu
