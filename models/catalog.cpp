#include "models/catalog.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/reader.hpp"
#include "models/power.hpp"

namespace danlu {

namespace {

const std::vector<std::string> kKinds = {"accelerators", "systems", "fabrics", "models"};

template <typename Map>
std::vector<std::string> keys(const Map& m) {
  std::vector<std::string> out;
  out.reserve(m.size());
  for (const auto& kv : m) out.push_back(kv.first);
  return out;
}

template <typename Map>
const auto& lookup(const Map& m, const std::string& name, const char* what, const Location& where,
                   const std::string& path) {
  auto it = m.find(name);
  if (it == m.end())
    throw InputError(where, path, fmt::format("unknown {} \"{}\"{}", what, name, suggestion(name, keys(m))));
  return it->second;
}

// The `kernels:` block: what the chip's kernels achieve in microbenchmarks.
// Every figure may be left out: a chip nobody has measured gets generic
// figures (the median of the measured chips in accelerators.yaml).
void read_kernel_figures(Fields k, Accelerator& a) {
  KernelFigures& f = a.kernels;
  Fields gemm = k.sub("gemm");
  for (const auto& p : precision_names()) {
    if (!gemm.has(p)) continue;
    if (a.peak(precision_from(p)) <= 0)
      throw InputError(gemm.loc_of(p), gemm.path_of(p), fmt::format("{} has no {} peak", a.name, p));
    f.gemm_efficiency[static_cast<size_t>(precision_from(p))] =
        gemm.quantity(p, Quantity::Fraction, std::nullopt, Range::UnitInterval);
  }
  double& bf16 = f.gemm_efficiency[static_cast<size_t>(Precision::bf16)];
  if (bf16 <= 0) bf16 = 0.75;
  gemm.finish();
  Fields attn = k.sub("attention");
  f.attention_forward = attn.quantity("forward", Quantity::Fraction, 0.55, Range::UnitInterval);
  f.attention_backward = attn.quantity("backward", Quantity::Fraction, 0.45, Range::UnitInterval);
  attn.finish();
  f.hbm_efficiency = k.quantity("hbm", Quantity::Fraction, 0.82, Range::UnitInterval);
  f.compute_units = static_cast<int>(k.integer("compute_units", 128, 1, 100000));
  f.tile_m = 128;
  f.tile_n = 256;
  if (const Node* tile = k.raw("tile")) {
    if (!tile->is_seq() || tile->items.size() != 2)
      throw InputError(tile->loc, k.path_of("tile"),
                       "expected the GEMM output tile as [rows, columns], e.g. [128, 256]");
    auto side = [&](const Node& n) {
      double v = n.is_scalar() ? std::atof(n.scalar.c_str()) : 0;
      if (v < 1 || v > 4096 || v != std::floor(v))
        throw InputError(n.loc, k.path_of("tile"),
                         fmt::format("expected a tile side from 1 to 4096, found {}", n.describe()));
      return static_cast<int>(v);
    };
    f.tile_m = side(tile->items[0]);
    f.tile_n = side(tile->items[1]);
  }
  // XLA (TPU) launches compiled programs, not kernels.
  f.launch_s = k.quantity("launch", Quantity::Time, a.vendor == "google" ? 0.0 : 5e-6, Range::NonNegative);
  k.finish();
}

Accelerator read_accelerator(const std::string& name, Fields f) {
  Accelerator a;
  a.name = name;
  a.vendor = f.choice("vendor", std::nullopt, {"nvidia", "amd", "google", "intel", "aws"});
  a.description = f.text("description", std::nullopt);
  Fields peak = f.sub("peak");
  for (const auto& p : precision_names())
    a.peak_flops[static_cast<size_t>(precision_from(p))] =
        peak.has(p) ? peak.quantity(p, Quantity::FlopRate, std::nullopt) : 0.0;
  peak.finish();
  a.hbm_bytes = f.quantity("hbm", Quantity::Bytes, std::nullopt);
  a.hbm_usable_bytes = f.quantity("hbm_usable", Quantity::Bytes, std::nullopt);
  if (a.hbm_usable_bytes > a.hbm_bytes * 1.0001)
    throw InputError(f.loc_of("hbm_usable"), f.path_of("hbm_usable"), "must not exceed hbm");
  a.hbm_bytes_per_s = f.quantity("hbm_bandwidth", Quantity::ByteRate, std::nullopt);
  // Scale-up bandwidth is per direction; vendors quote NVLink both ways added
  // (1.8 TB/s), which is accepted only under its own name.
  if (f.has("scale_up") == f.has("scale_up_bidirectional"))
    throw InputError(f.loc(), f.path(),
                     "expected one of scale_up (per direction) or scale_up_bidirectional (both directions added)");
  a.scale_up_bytes_per_s = f.has("scale_up")
                               ? f.quantity("scale_up", Quantity::ByteRate, std::nullopt)
                               : f.quantity("scale_up_bidirectional", Quantity::ByteRate, std::nullopt) / 2;
  a.scale_up_links = static_cast<int>(f.integer("scale_up_links", std::nullopt));
  a.idle_w = f.quantity("idle_w", Quantity::Power, std::nullopt);
  a.max_w = f.quantity("max_w", Quantity::Power, std::nullopt);
  if (a.idle_w >= a.max_w) throw InputError(f.loc_of("idle_w"), f.path_of("idle_w"), "must be below max_w");
  a.launch_year = static_cast<int>(f.integer("launch_year", std::nullopt, 2000, 2100));
  a.rent_usd_per_hour = f.quantity("rent_per_hour", Quantity::Money, std::nullopt);
  a.rent_list_usd_per_hour = f.quantity("rent_list_per_hour", Quantity::Money, a.rent_usd_per_hour);
  read_kernel_figures(f.sub("kernels"), a);
  f.finish();
  return a;
}

System read_system(const std::string& name, Fields f) {
  System s;
  s.name = name;
  s.description = f.text("description", std::nullopt);
  s.accelerator = f.text("accelerator", std::nullopt);
  s.unit = from_name<SystemUnit>(f.choice("unit", std::nullopt, names_of<SystemUnit>()));
  // A node holds a few to a few dozen chips, a rack a few dozen nodes; the
  // ceilings keep racks x nodes x chips inside the cluster's 10M-GPU bound.
  s.accelerators_per_node = static_cast<int>(f.integer("accelerators_per_node", std::nullopt, 1, 1024));
  s.nodes_per_rack = static_cast<int>(f.integer("nodes_per_rack", std::nullopt, 1, 1024));
  Fields up = f.sub("scale_up");
  std::string kind = up.choice("kind", std::nullopt, {"switched", "fully-connected", "torus"});
  s.scale_up = kind == "switched"          ? ScaleUpKind::Switched
               : kind == "fully-connected" ? ScaleUpKind::FullyConnected
                                           : ScaleUpKind::Torus;
  s.scale_up_domain = static_cast<int>(up.integer("domain", std::nullopt));
  if (s.scale_up == ScaleUpKind::Torus) {
    const Node* dims = up.raw("torus_dims");
    if (!dims || !dims->is_seq() || dims->items.size() < 2 || dims->items.size() > 3)
      throw InputError(up.loc_of("torus_dims"), up.path_of("torus_dims"),
                       "expected a list of 2 or 3 torus dimensions like [16, 16]");
    int product = 1;
    for (const auto& d : dims->items) {
      int v = 0;
      try {
        v = static_cast<int>(parse_quantity(d.scalar, Quantity::Count));
      } catch (const UnitError& e) {
        throw InputError(d.loc, up.path_of("torus_dims"), e.what());
      }
      if (v < 1) throw InputError(d.loc, up.path_of("torus_dims"), "dimensions must be positive");
      s.torus_dims.push_back(v);
      product *= v;
    }
    if (product != s.scale_up_domain)
      throw InputError(up.loc_of("torus_dims"), up.path_of("torus_dims"),
                       fmt::format("product {} differs from domain {}", product, s.scale_up_domain));
  }
  s.scale_up_latency_s = up.quantity("latency", Quantity::Time, std::nullopt);
  up.finish();
  s.node_max_w = f.quantity("node_max_power", Quantity::Power, std::nullopt);
  s.rack_overhead_w = f.quantity("rack_overhead_power", Quantity::Power, 0.0, Range::NonNegative);
  s.default_cooling = from_name<Cooling>(f.choice("cooling", std::nullopt, names_of<Cooling>()));
  s.default_fabric = f.text("fabric", std::nullopt);
  s.nics_per_accelerator = f.quantity("nics_per_accelerator", Quantity::Real, std::nullopt);
  s.for_sale = f.boolean("for_sale", true);
  if (s.for_sale) {
    s.list_price_usd = f.quantity("list_price", Quantity::Money, std::nullopt);
  } else if (f.has("list_price")) {
    throw InputError(f.loc_of("list_price"), f.path_of("list_price"),
                     "a system that is not for sale has no list price; remove one of for_sale: false and list_price");
  }
  // PCIe Gen5 x16 (64 GB/s a direction, ~55 achieved) unless the system says.
  s.host_bytes_per_s = f.quantity("host_link", Quantity::ByteRate, 55e9);
  f.finish();
  return s;
}

Fabric read_fabric(const std::string& name, Fields f) {
  Fabric b;
  b.name = name;
  b.description = f.text("description", std::nullopt);
  b.kind = from_name<FabricKind>(f.choice("kind", std::nullopt, names_of<FabricKind>()));
  b.port_bytes_per_s = f.quantity("port_rate", Quantity::LinkRate, std::nullopt);
  b.switch_radix = static_cast<int>(f.integer("switch_radix", std::nullopt, 4));
  b.switch_latency_s = f.quantity("switch_latency", Quantity::Time, std::nullopt);
  b.nic_latency_s = f.quantity("nic_latency", Quantity::Time, std::nullopt);
  b.switch_w = f.quantity("switch_power", Quantity::Power, std::nullopt);
  b.optics_w_per_port = f.quantity("optics_power_per_port", Quantity::Power, std::nullopt, Range::NonNegative);
  b.nic_w = f.quantity("nic_power", Quantity::Power, std::nullopt);
  b.usd_per_port = f.quantity("usd_per_port", Quantity::Money, std::nullopt);
  f.finish();
  return b;
}

}  // namespace

Catalog Catalog::builtin(bool calibrated) {
  Catalog c;
  const char* profile = nullptr;
  for (int i = 0; i < kEmbeddedCatalogCount; ++i) {
    std::string file = kEmbeddedCatalog[i].name;
    if (file == "calibration.yaml") {
      profile = kEmbeddedCatalog[i].text;
      continue;
    }
    c.add_text(file.substr(0, file.find('.')), kEmbeddedCatalog[i].text, "catalog/" + file);
  }
  c.check_references();
  if (calibrated && profile)
    c.apply_profile(parse_profile(profile, "catalog/calibration.yaml"), "catalog/calibration.yaml");
  return c;
}

void Catalog::apply_profile(const Profile& p, const std::string& where) {
  for (const auto& [name, value] : p.constants) set_param(constants_, name, value);
  for (const auto& [acc, values] : p.accelerators) {
    auto it = accelerators_.find(acc);
    if (it == accelerators_.end())
      throw InputError(Location{where, 0, 0}, "accelerators." + acc,
                       fmt::format("unknown accelerator \"{}\"{}", acc, suggestion(acc, keys(accelerators_))));
    for (const auto& [name, value] : values) {
      if (name.rfind("gemm.", 0) == 0 && it->second.peak(precision_from(name.substr(5))) <= 0)
        throw InputError(Location{where, 0, 0}, fmt::format("accelerators.{}.{}", acc, name),
                         fmt::format("{} has no {} peak", acc, name.substr(5)));
      set_param(it->second.kernels, name, value);
    }
  }
  profile_ = p;
}

double Catalog::uncertainty(const std::string& vendor, bool moe) const {
  if (auto it = profile_.uncertainty.find(uncertainty_class(vendor, moe)); it != profile_.uncertainty.end())
    return it->second;
  if (auto it = profile_.uncertainty.find(uncertainty_class("unmeasured", moe)); it != profile_.uncertainty.end())
    return it->second;
  return 0;
}

void Catalog::add_text(const std::string& kind, const std::string& text, const std::string& file) {
  Node root = parse_yaml(text, file);
  if (root.is_null()) return;
  if (!root.is_map()) throw InputError(root.loc, kind, "expected a mapping of name: entry");
  for (size_t i = 0; i < root.map.size(); ++i) {
    const auto& [name, entry] = root.map[i];
    const std::string at = fmt::format("{}.{}", kind, name);
    Fields f(&entry, at, nullptr);
    if (!entry.is_map()) throw InputError(entry.loc, at, fmt::format("expected a mapping, found {}", entry.describe()));
    if (kind == "accelerators")
      accelerators_[name] = read_accelerator(name, f);
    else if (kind == "systems")
      systems_[name] = read_system(name, f);
    else if (kind == "fabrics")
      fabrics_[name] = read_fabric(name, f);
    else
      models_[name] = entry;
  }
}

void Catalog::add_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(Location{dir, 0, 0}, "--catalog", "not a directory");
  int found = 0;
  for (const auto& kind : kKinds) {
    fs::path p = fs::path(dir) / (kind + ".yaml");
    if (!fs::exists(p, ec)) continue;
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    add_text(kind, ss.str(), p.string());
    ++found;
  }
  if (found == 0)
    throw InputError(Location{dir, 0, 0}, "--catalog",
                     "holds none of accelerators.yaml, systems.yaml, fabrics.yaml, models.yaml");
  check_references();
}

void Catalog::check_references() const {
  // A system's accelerator and fabric must exist: checked once a set is whole.
  for (const auto& [name, s] : systems_) {
    accelerator(s.accelerator, {}, "systems." + name + ".accelerator");
    fabric(s.default_fabric, {}, "systems." + name + ".fabric");
  }
}

const Accelerator& Catalog::accelerator(const std::string& name, const Location& where, const std::string& path) const {
  return lookup(accelerators_, name, "accelerator", where, path);
}
const System& Catalog::system(const std::string& name, const Location& where, const std::string& path) const {
  return lookup(systems_, name, "system", where, path);
}
const Fabric& Catalog::fabric(const std::string& name, const Location& where, const std::string& path) const {
  return lookup(fabrics_, name, "fabric", where, path);
}
const Node& Catalog::model_preset(const std::string& name, const Location& where, const std::string& path) const {
  return lookup(models_, name, "model preset", where, path);
}

std::vector<std::string> Catalog::accelerator_names() const { return keys(accelerators_); }
std::vector<std::string> Catalog::system_names() const { return keys(systems_); }
std::vector<std::string> Catalog::fabric_names() const { return keys(fabrics_); }
std::vector<std::string> Catalog::model_names() const { return keys(models_); }

}  // namespace danlu
