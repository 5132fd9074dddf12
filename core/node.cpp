#include "core/node.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_set>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace danlu {

size_t Node::position(const std::string& key) const {
  if (!index_.empty()) {
    const auto it = index_.find(key);
    return it == index_.end() ? map.size() : it->second;
  }
  for (size_t i = 0; i < map.size(); ++i)
    if (map[i].first == key) return i;
  return map.size();
}

const Node* Node::find(const std::string& key) const {
  const size_t i = position(key);
  return i == map.size() ? nullptr : &map[i].second;
}

Node* Node::find(const std::string& key) {
  const size_t i = position(key);
  return i == map.size() ? nullptr : &map[i].second;
}

void Node::index_keys() {
  index_.clear();
  if (map.size() < kIndexedWidth) return;
  for (size_t i = 0; i < map.size(); ++i) index_.emplace(map[i].first, i);
}

void Node::set(const std::string& key, Node value, Location key_loc) {
  kind = Kind::Map;
  if (const size_t i = position(key); i < map.size()) {
    map[i].second = std::move(value);
    if (!key_loc.file.empty()) key_locs[i] = std::move(key_loc);
    return;
  }
  map.emplace_back(key, std::move(value));
  key_locs.push_back(std::move(key_loc));
  if (!index_.empty())
    index_.emplace(key, map.size() - 1);
  else if (map.size() == kIndexedWidth)
    index_keys();
}

void Node::erase(const std::string& key) {
  if (const size_t i = position(key); i < map.size()) {
    map.erase(map.begin() + static_cast<long>(i));
    key_locs.erase(key_locs.begin() + static_cast<long>(i));
    if (!index_.empty()) index_keys();
  }
}

std::string Node::describe() const {
  switch (kind) {
    case Kind::Null: return "nothing";
    case Kind::Seq: return "a list";
    case Kind::Map: return "a mapping";
    case Kind::Scalar: break;
  }
  // A long or multi-line scalar may be a whole file (`extends: /etc/passwd`
  // parses as one text), which an error message must not echo.
  if (scalar.size() > 80 || scalar.find_first_of("\n\r") != std::string::npos)
    return fmt::format("a text of {} characters", scalar.size());
  // Control characters (a NUL cuts a C string, an escape code redraws the
  // terminal) are shown escaped.
  std::string shown;
  for (const char ch : scalar) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f)
      shown += fmt::format("\\x{:02x}", c);
    else
      shown += static_cast<char>(c);
  }
  return fmt::format("\"{}\"", shown);
}

namespace {

Location at(const YAML::Mark& m, const std::string& file) {
  if (m.line < 0) return {file, 0, 0};
  return {file, m.line + 1, m.column + 1};
}

// Aliases make a YAML document a graph: `a: &a [*a]` refers to itself and
// a few lines of nested aliases expand to billions of nodes. Conversion
// refuses what no scenario needs: nesting deeper than kMaxDepth, or more
// than kMaxNodes values in all. The largest real file (a catalog, a sweep of
// a thousand values on two axes) holds a few thousand values; 100,000 also
// keeps a refused bomb under a second in a sanitizer build.
constexpr int kMaxDepth = 64;
constexpr std::uintmax_t kMaxFileBytes = 16u << 20;
constexpr long kMaxNodes = 100'000;

// Where a second YAML document starts, if the text has one: YAML::Load
// reads the first and drops the rest without a word. (YAML::LoadAll is no
// help: on some malformed texts, ",=" for one, its parser reports empty
// documents forever without moving on, and the list grows until memory ends.)
struct DocumentStarts : YAML::EventHandler {
  std::optional<YAML::Mark> start;
  void OnDocumentStart(const YAML::Mark& m) override {
    if (!start) start = m;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};
// Not only after a "---" or "..." marker: a flow mapping or a quoted scalar
// ends the first document where it closes, and whatever follows on ("{...}
// gpus: 9", "{...} {...}", text) is another document yaml-cpp would drop.
std::optional<YAML::Mark> second_document(const std::string& text) {
  // A block mapping or list runs to the end of the text unless a marker
  // ends it; only a flow or quoted start (or anchors, tags, block scalars)
  // can close early. The check is a second parse, so it runs only then.
  size_t start_at = 0;
  for (size_t at = 0; at < text.size();) {
    start_at = text.find_first_not_of(" \t\r\n", at);
    if (start_at == std::string::npos || text[start_at] != '#') break;
    at = text.find('\n', start_at);
    if (at == std::string::npos) return std::nullopt;
  }
  const bool may_close = start_at != std::string::npos && std::strchr("{[\"'&!*?|>", text[start_at]) != nullptr;
  if (!may_close && text.find("---") == std::string::npos && text.find("...") == std::string::npos) return std::nullopt;
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts first, second;
  if (!parser.HandleNextDocument(first) || !parser.HandleNextDocument(second)) return std::nullopt;
  // A "document" that starts where the first did is the parser not moving on.
  if (!first.start || !second.start || second.start->pos <= first.start->pos) return std::nullopt;
  return second.start;
}

// A path for a message: its first three keys, so a self-referring alias
// does not print 64 copies of one key.
std::string shortened(const std::string& path) {
  int dots = 0;
  for (size_t i = 0; i < path.size(); ++i)
    if (path[i] == '.' && ++dots == 3) return path.substr(0, i) + ".…";
  return path;
}

struct Converter {
  const std::string& file;
  long nodes = 0;

  Node convert(const YAML::Node& y, const std::string& path, int depth) {
    Node n;
    n.loc = at(y.Mark(), file);
    if (depth > kMaxDepth)
      throw InputError(n.loc, shortened(path),
                       fmt::format("nested more than {} levels deep (a YAML alias that refers to itself?)", kMaxDepth));
    if (++nodes > kMaxNodes)
      throw InputError(
          n.loc, path,
          fmt::format("more than {} values, counting each use of an alias; a scenario holds a few thousand",
                      kMaxNodes));
    switch (y.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: n.kind = Node::Kind::Null; break;
      case YAML::NodeType::Scalar:
        n.kind = Node::Kind::Scalar;
        n.scalar = y.Scalar();
        // yaml-cpp marks plain scalars with tag "?" and quoted ones with "!".
        n.quoted = y.Tag() == "!";
        break;
      case YAML::NodeType::Sequence:
        n.kind = Node::Kind::Seq;
        for (const auto& item : y) n.items.push_back(convert(item, path, depth + 1));
        break;
      case YAML::NodeType::Map: {
        n.kind = Node::Kind::Map;
        // Duplicate keys found with a set: a mapping of 100,000 keys stays linear.
        std::unordered_set<std::string> seen;
        for (const auto& kv : y) {
          Location key_loc = at(kv.first.Mark(), file);
          if (!kv.first.IsScalar())
            throw InputError(key_loc, path,
                             kv.first.IsNull() ? "a key with no name (~ or null); expected a field name"
                                               : "expected a plain key, found a complex key (a list or mapping)");
          std::string key = kv.first.Scalar();
          std::string child = path;
          if (!child.empty()) child += '.';
          child += key;
          // yaml-cpp reads YAML 1.1's merge key as an ordinary key.
          if (key == "<<" && kv.first.Tag() != "!")
            throw InputError(key_loc, path,
                             "YAML merge keys (<<) are not supported; use extends: for a shared base, "
                             "or write the fields out");
          if (!seen.insert(key).second) throw InputError(key_loc, child, "key appears twice in the same mapping");
          n.map.emplace_back(key, convert(kv.second, child, depth + 1));
          n.key_locs.push_back(key_loc);
        }
        n.index_keys();
        break;
      }
    }
    return n;
  }
};

}  // namespace

Node parse_yaml(const std::string& text, const std::string& name) {
  try {
    Converter c{name};
    const YAML::Node root = YAML::Load(text);
    if (root.IsNull()) {
      // Empty is fine (comments, markers, nothing); a line of something else
      // that yaml-cpp read as nothing (",=") is not.
      int line = 0;
      for (const std::string& row : split(text, '\n')) {
        ++line;
        const size_t first = row.find_first_not_of(" \t\r");
        if (first == std::string::npos || row[first] == '#' || row.compare(first, 3, "---") == 0 ||
            row.compare(first, 3, "...") == 0 || row.compare(first, 1, "~") == 0 ||
            row.compare(first, 4, "null") == 0 || row.compare(first, 4, "Null") == 0 ||
            row.compare(first, 4, "NULL") == 0)
          continue;
        throw InputError(Location{name, line, static_cast<int>(first) + 1}, "",
                         "malformed YAML: nothing could be read from this line");
      }
    }
    if (const auto second = second_document(text)) {
      const bool marked = text.compare(static_cast<size_t>(second->pos), 3, "---") == 0;
      throw InputError(at(*second, name), "",
                       marked ? "a second YAML document (after ---); a file holds one scenario"
                              : "content after the end of the first value (a closed {...}, [...] or quoted "
                                "text); a file holds one mapping or JSON object: remove the rest or merge it in");
    }
    return c.convert(root, "", 0);
  } catch (const YAML::DeepRecursion& e) {
    throw InputError(
        at(e.mark, name), "",
        fmt::format("malformed YAML: brackets or blocks nested {} levels deep; a scenario needs a few", e.depth()));
  } catch (const YAML::Exception& e) {
    // A tab in the indentation is the commonest cause, and yaml-cpp's words
    // for it ("illegal map value") do not say so.
    std::string hint;
    if (e.mark.line >= 0) {
      size_t begin = 0;
      for (int line = 0; line < e.mark.line && begin != std::string::npos; ++line) {
        begin = text.find('\n', begin);
        if (begin != std::string::npos) ++begin;
      }
      if (begin != std::string::npos) {
        const std::string_view row = std::string_view(text).substr(begin, text.find('\n', begin) - begin);
        const size_t indent_end = row.find_first_not_of(" \t");
        if (row.substr(0, indent_end).find('\t') != std::string_view::npos)
          hint = " (this line is indented with a tab; YAML indents with spaces)";
      }
    }
    throw InputError(at(e.mark, name), "", fmt::format("malformed YAML: {}{}", e.msg, hint));
  }
}

Node load_yaml_file(const std::string& path) {
  // Only regular files of a scenario's size: a FIFO would block forever,
  // /dev/zero never ends, a directory is not text.
  namespace fs = std::filesystem;
  // A NUL ends the path the operating system reads: "a.yaml\0x" would open
  // a.yaml. Only the Python module can pass one (argv cannot).
  if (path.find('\0') != std::string::npos)
    throw InputError(Location{path.substr(0, path.find('\0')) + "\\0...", 0, 0}, "",
                     "the path holds a NUL character, which no file name can; write the path out");
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw InputError(Location{path, 0, 0}, "", "cannot open the file (does it exist?)");
  if (fs::is_directory(st)) throw InputError(Location{path, 0, 0}, "", "is a directory, not a scenario file");
  if (!fs::is_regular_file(st))
    throw InputError(Location{path, 0, 0}, "", "is not a regular file (a pipe, socket or device); give a file");
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxFileBytes)
    throw InputError(
        Location{path, 0, 0}, "",
        fmt::format("is {} MB; a scenario or catalog file is at most {} MB", size >> 20, kMaxFileBytes >> 20));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(Location{path, 0, 0}, "", "cannot open the file (is it readable?)");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_yaml(ss.str(), path);
}

std::string referenced_file(const Node& value, const std::string& field, const std::string& base_dir,
                            const std::string& what) {
  namespace fs = std::filesystem;
  if (!value.is_scalar() || value.scalar.empty())
    throw InputError(
        value.loc, field,
        fmt::format("expected a path to {}, found {}", what, value.is_scalar() ? "an empty text" : value.describe()));
  if (value.scalar.find('\0') != std::string::npos)
    throw InputError(value.loc, field, "the path holds a NUL character, which no file name can; write the path out");
  const fs::path path = fs::path(base_dir) / value.scalar;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  const std::string relative = base_dir.empty() ? "the working directory" : "this file's folder";
  if (ec || !fs::exists(st))
    throw InputError(value.loc, field,
                     fmt::format("no such file {} (paths are relative to {})", value.describe(), relative));
  if (!fs::is_regular_file(st))
    throw InputError(value.loc, field,
                     fmt::format("{} is {}; expected {}", value.describe(),
                                 fs::is_directory(st) ? "a directory" : "not a regular file (a pipe or device)", what));
  return path.string();
}

void deep_merge(Node& base, const Node& overlay) {
  if (base.is_map() && overlay.is_map()) {
    for (size_t i = 0; i < overlay.map.size(); ++i) {
      const auto& [k, v] = overlay.map[i];
      if (Node* existing = base.find(k)) {
        deep_merge(*existing, v);
      } else {
        base.set(k, v, overlay.key_locs[i]);
      }
    }
    return;
  }
  base = overlay;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return parts;
}

void set_path(Node& root, const std::string& dotted, const Node& value) {
  auto parts = split_path(dotted);
  Node* cur = &root;
  std::string so_far;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& part = parts[i];
    if (part.empty()) throw InputError(value.loc, dotted, "empty component in dotted path");
    if (!cur->is_map() && !cur->is_null())
      throw InputError(value.loc, so_far, fmt::format("is {}, cannot set \"{}\" inside it", cur->describe(), part));
    if (cur->is_null()) cur->kind = Node::Kind::Map;
    so_far += (i ? "." : "") + part;
    if (i + 1 == parts.size()) {
      Node* existing = cur->find(part);
      if (existing && existing->is_map() && value.is_map()) {
        deep_merge(*existing, value);
      } else {
        cur->set(part, value, value.loc);
      }
      return;
    }
    Node* next = cur->find(part);
    if (!next) {
      Node empty;
      empty.kind = Node::Kind::Map;
      empty.loc = value.loc;
      cur->set(part, empty, value.loc);
      next = cur->find(part);
    }
    cur = next;
  }
}

std::string to_yaml(const Node& n, int indent) {
  std::string pad(static_cast<size_t>(indent), ' ');
  switch (n.kind) {
    case Node::Kind::Null: return "null";
    case Node::Kind::Scalar: {
      bool plain = !n.scalar.empty() && n.scalar.find_first_of(":#{}[],&*!|>'\"%@`") == std::string::npos;
      return plain ? n.scalar : fmt::format("\"{}\"", n.scalar);
    }
    case Node::Kind::Seq: {
      std::string out = "[";
      for (size_t i = 0; i < n.items.size(); ++i) out += (i ? ", " : "") + to_yaml(n.items[i], 0);
      return out + "]";
    }
    case Node::Kind::Map: {
      std::string out;
      for (const auto& [k, v] : n.map) {
        if (v.is_map() && !v.map.empty())
          out += fmt::format("{}{}:\n{}", pad, k, to_yaml(v, indent + 2));
        else
          out += fmt::format("{}{}: {}\n", pad, k, to_yaml(v, indent + 2));
      }
      return out;
    }
  }
  return {};
}

}  // namespace danlu
