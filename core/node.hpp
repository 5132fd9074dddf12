// A YAML document as a plain tree that remembers where every value came from.
//
// yaml-cpp nodes know their line and column but not their file, and a scenario is
// assembled from several sources (the file, the files it `extends`, catalog
// presets, `--set` overrides). Converting once into this tree keeps the origin of
// every value through deep merges, so an error found after merging still points
// at the line the user wrote. Nothing past the loaders sees a YAML::Node.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace danlu {

struct Node {
  enum class Kind { Null, Scalar, Seq, Map };

  // Declared here, defaulted below where Node is complete: clang with
  // libstdc++ instantiates the members of vector<pair<string, Node>> at the
  // implicit declarations, before the class is complete, and refuses.
  Node();
  Node(const Node&);
  Node(Node&&) noexcept;
  Node& operator=(const Node&);
  Node& operator=(Node&&) noexcept;
  ~Node();

  Kind kind = Kind::Null;
  std::string scalar;                             // Kind::Scalar
  bool quoted = false;                            // scalar was written in quotes
  std::vector<Node> items;                        // Kind::Seq
  std::vector<std::pair<std::string, Node>> map;  // Kind::Map, in file order
  Location loc;                                   // where this value was written
  std::vector<Location> key_locs;                 // Kind::Map: location of each key

  bool is_null() const { return kind == Kind::Null; }
  bool is_scalar() const { return kind == Kind::Scalar; }
  bool is_seq() const { return kind == Kind::Seq; }
  bool is_map() const { return kind == Kind::Map; }

  const Node* find(const std::string& key) const;
  Node* find(const std::string& key);
  // Inserts (at the end) or replaces the value under `key`.
  void set(const std::string& key, Node value, Location key_loc = {});
  void erase(const std::string& key);

  // Short human description for "found ..." in messages: the scalar in quotes,
  // "a list", "a mapping", "nothing".
  std::string describe() const;

  // Called once a map's entries are in place (the YAML reader fills `map`).
  void index_keys();

 private:
  size_t position(const std::string& key) const;  // map.size() when absent
  // A wide map (100,000 --set keys, or a dict of overrides) finds its keys by
  // hash, so applying N overrides is linear, not quadratic. Kept up to date
  // by every change, never built inside a const call: threads share trees.
  static constexpr size_t kIndexedWidth = 32;
  std::unordered_map<std::string, size_t> index_;
};

inline Node::Node() = default;
inline Node::Node(const Node&) = default;
inline Node::Node(Node&&) noexcept = default;
inline Node& Node::operator=(const Node&) = default;
inline Node& Node::operator=(Node&&) noexcept = default;
inline Node::~Node() = default;

// Parses YAML text; `name` is the file name used in locations. Throws InputError
// with the parser's position on malformed YAML.
Node parse_yaml(const std::string& text, const std::string& name);
Node load_yaml_file(const std::string& path);

// The file a scenario value names (`extends:`, `model.hf_config:`): a path
// relative to `base_dir`, checked before it is opened so a mistake is an
// error at the value's line:col naming `field`: empty, holding a NUL (the
// operating system would read a shorter path), missing, or not a regular file.
std::string referenced_file(const Node& value, const std::string& field, const std::string& base_dir,
                            const std::string& what);

// Deep merge: maps merge key by key (overlay wins), anything else is replaced.
void deep_merge(Node& base, const Node& overlay);

// Sets a value at a dotted path ("training.parallelism.tp"), creating maps on the
// way. Throws InputError if the path crosses a non-map value.
void set_path(Node& root, const std::string& dotted, const Node& value);

// Splits "a.b.c" into {"a","b","c"} (split_path: on '.').
std::vector<std::string> split(const std::string& text, char sep);
inline std::vector<std::string> split_path(const std::string& dotted) { return split(dotted, '.'); }

// Renders a node back as compact YAML (flow style for leaves), for --explain and
// for echoing values in messages.
std::string to_yaml(const Node& n, int indent = 0);

}  // namespace danlu
