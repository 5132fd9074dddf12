// The hardware and model catalog: the YAML files under models/catalog/, compiled
// into the executable, plus any directory given with --catalog (its entries add
// to or replace the built-in ones by name).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/node.hpp"
#include "models/calibration.hpp"
#include "models/hardware.hpp"

namespace danlu {

class Catalog {
 public:
  // The catalog compiled into the binary; `calibrated` applies the built-in
  // calibration profile (models/catalog/calibration.yaml) over the
  // microbenchmark figures.
  static Catalog builtin(bool calibrated = true);

  // Replaces kernel figures and constants with a profile's values. Throws
  // InputError at `where` for an accelerator the catalog does not have.
  void apply_profile(const Profile& p, const std::string& where);
  const ComputeConstants& constants() const { return constants_; }
  // Relative uncertainty of a prediction on a chip of `vendor` for a dense or
  // MoE model (0 when the profile gives none).
  double uncertainty(const std::string& vendor, bool moe) const;
  const Profile& profile() const { return profile_; }

  // Adds the entries of DIR/{accelerators,systems,fabrics,models}.yaml (any
  // that exist). Throws InputError for a bad file or a directory with none.
  void add_dir(const std::string& dir);

  // Lookups throw InputError at `where`/`path` with a did-you-mean.
  const Accelerator& accelerator(const std::string& name, const Location& where = {},
                                 const std::string& path = "") const;
  const System& system(const std::string& name, const Location& where = {}, const std::string& path = "") const;
  const Fabric& fabric(const std::string& name, const Location& where = {}, const std::string& path = "") const;
  // A model preset is kept as a tree and merged under the scenario's `model:`.
  const Node& model_preset(const std::string& name, const Location& where = {}, const std::string& path = "") const;

  std::vector<std::string> accelerator_names() const;
  std::vector<std::string> system_names() const;
  std::vector<std::string> fabric_names() const;
  std::vector<std::string> model_names() const;

 private:
  void add_text(const std::string& kind, const std::string& text, const std::string& file);
  void check_references() const;

  std::map<std::string, Accelerator> accelerators_;
  std::map<std::string, System> systems_;
  std::map<std::string, Fabric> fabrics_;
  std::map<std::string, Node> models_;
  ComputeConstants constants_;
  Profile profile_;  // the applied profile (empty: microbenchmark figures)
};

// The embedded files, generated at build time from models/catalog/*.yaml.
struct EmbeddedFile {
  const char* name;  // e.g. "accelerators.yaml"
  const char* text;
};
extern const EmbeddedFile kEmbeddedCatalog[];
extern const int kEmbeddedCatalogCount;

}  // namespace danlu
