// The typed readers of a scenario's parts, each in its own file; the loader
// (scenario/loader.cpp) calls them in order. Internal to scenario/.
#pragma once

#include "core/reader.hpp"
#include "models/catalog.hpp"
#include "scenario/scenario.hpp"
#include "scenario/schema.hpp"

namespace danlu::readers {

// scenario/read_model.cpp
// Model presets and a Hugging Face config merge under `model:` before
// reading, so every field can be overridden and still reports its origin.
void merge_model_sources(Node& tree, const Catalog& catalog, Scenario& s);
ModelSpec read_model(DeclaredFields f);

// scenario/read_layers.cpp: the layer kinds' blocks and the layer patterns.
void read_layer_kinds(DeclaredFields& f, ModelSpec& m);

// scenario/read_training.cpp
void read_training(DeclaredFields& root, Scenario& s, const ParamCounts& params);

}  // namespace danlu::readers
