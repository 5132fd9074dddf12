// The layer kinds by name. A new one is a file defining its class and make_
// function, plus its two lines here (and its name in CMakeLists.txt).
#include "core/registry.hpp"
#include "workload/layer.hpp"

namespace danlu {

std::unique_ptr<LayerKind> make_attention_layer();
std::unique_ptr<LayerKind> make_mla_layer();
std::unique_ptr<LayerKind> make_mlp_layer();
std::unique_ptr<LayerKind> make_moe_layer();
std::unique_ptr<LayerKind> make_dsa_layer();
std::unique_ptr<LayerKind> make_mamba2_layer();
std::unique_ptr<LayerKind> make_mamba1_layer();
std::unique_ptr<LayerKind> make_linear_attention_layer();

namespace {
const Registry<LayerKind>& registry() {
  static const auto all =
      make_registry<LayerKind>(make_attention_layer, make_mla_layer, make_mlp_layer, make_moe_layer, make_dsa_layer,
                               make_mamba2_layer, make_linear_attention_layer, make_mamba1_layer);
  return all;
}
}  // namespace

const LayerKind& layer_kind(std::string_view name) { return registry().at(name, "layer kind"); }
std::vector<std::string> layer_kind_names() { return registry().names(); }

}  // namespace danlu
