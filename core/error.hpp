// Errors that cross the library boundary. Library code throws these; only cli/
// prints them and turns them into exit codes: OutputError -> 1, InputError
// -> 2, BudgetError -> 4 (cli/main.cpp holds the whole contract).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace danlu {

// Where a value came from: a file position (1-based line and column, as editors
// count), or a pseudo-source such as "--set training.tp=4" with no position.
struct Location {
  std::string file;
  int line = 0;    // 0 = unknown
  int column = 0;  // 0 = unknown

  std::string str() const;  // "file:line:col", "file" or "" when unknown
};

// Bad user input: a scenario, a catalog file, a command-line value.
// what() is the full one-line message "file:line:col: path: detail".
class InputError : public std::runtime_error {
 public:
  InputError(Location loc, std::string path, std::string detail);
  InputError(std::string path, std::string detail);  // no location (cross-field checks)

  // A constraint between fields (tp*pp*dp*cp = gpus, a precision the chip
  // lacks): the value may be right in another combination, as in a sweep.
  bool constraint() const { return constraint_; }
  InputError& as_constraint() {
    constraint_ = true;
    return *this;
  }

  const Location& location() const { return loc_; }
  const std::string& path() const { return path_; }
  const std::string& detail() const { return detail_; }

 private:
  Location loc_;
  std::string path_;
  std::string detail_;
  bool constraint_ = false;
};

// Output that could not be written: a full disk, a closed pipe, a folder
// that does not exist. Not the input's fault; the CLI exits with status 1.
// what() is "path: what failed: the system's reason".
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Work stopped at a budget the user set (--max-seconds, --max-memory) or
// the machine's limits: neither bad input nor a failure. The CLI exits with
// status 4. `one_evaluation`: the budget refused this evaluation alone (its
// memory estimate), so a sweep records the point and goes on.
class BudgetError : public std::runtime_error {
 public:
  explicit BudgetError(const std::string& what, bool one_evaluation = false)
      : std::runtime_error(what), one_evaluation_(one_evaluation) {}
  bool one_evaluation() const { return one_evaluation_; }

 private:
  bool one_evaluation_ = false;
};

// The nearest of `candidates` to `word` by edit distance, or "" when nothing is
// close enough to be a plausible typo. Used for every "did you mean".
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates);

// "; did you mean \"x\"?" or "; valid: a, b, c" when nothing is close.
std::string suggestion(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace danlu
