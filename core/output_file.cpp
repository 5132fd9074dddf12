#include "core/output_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <unistd.h>

#include "core/error.hpp"

namespace danlu {

namespace {
[[noreturn]] void fail(const std::string& path, const char* what) {
  throw OutputError(fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
}
}  // namespace

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  namespace fs = std::filesystem;
  // A NUL would write a shorter path than the one given (Python can pass one).
  if (path_.find('\0') != std::string::npos)
    throw InputError(Location{path_.substr(0, path_.find('\0')) + "\\0...", 0, 0}, "",
                     "the output path holds a NUL character, which no file name can; write the path out");
  std::error_code ec;
  const auto st = fs::status(path_, ec);
  const bool replace = ec || !fs::exists(st) || fs::is_regular_file(st);
  if (replace) tmp_ = fmt::format("{}.tmp-{}", path_, getpid());
  file_ = std::fopen((replace ? tmp_ : path_).c_str(), "wb");
  if (!file_) fail(path_, "cannot open the file for writing");
}

OutputFile::~OutputFile() {
  if (file_) std::fclose(file_);
  if (!tmp_.empty()) std::remove(tmp_.c_str());
}

void OutputFile::write(const std::string& text) {
  if (!failed_ && std::fwrite(text.data(), 1, text.size(), file_) != text.size()) failed_ = true;
}

void OutputFile::commit() {
  const bool flushed = std::fflush(file_) == 0 && !std::ferror(file_);
  const int saved = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (failed_ || !flushed || !closed) {
    errno = failed_ || !flushed ? saved : errno;
    fail(path_, "could not write the whole file (disk full?)");
  }
  if (!tmp_.empty()) {
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail(path_, "could not put the file in place");
    tmp_.clear();
  }
}

void write_output_file(const std::string& path, const std::string& text) {
  OutputFile f(path);
  f.write(text);
  f.commit();
}

}  // namespace danlu
