// Files danlu writes (reports, profiles, traces): a reader sees either the
// old file or the whole new one, and a failed write is an error, never a
// silently short file. The bytes go to a temporary beside the target,
// renamed over it once every write, the flush and the close succeeded. A
// target that is not a regular file (/dev/stdout, a pipe, /dev/full) is
// written in place, its errors checked the same way.
#pragma once

#include <cstdio>
#include <string>

namespace danlu {

class OutputFile {
 public:
  // Throws OutputError when it cannot be opened for writing (InputError for
  // a path holding a NUL).
  explicit OutputFile(std::string path);
  ~OutputFile();  // an uncommitted temporary is removed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  std::FILE* get() { return file_; }
  void write(const std::string& text);
  // Flush, close and put the file in place; throws OutputError on any failure.
  void commit();

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
  bool failed_ = false;
};

// The whole of `text` into `path`, as above.
void write_output_file(const std::string& path, const std::string& text);

}  // namespace danlu
