// The pipeline schedules by name. A new one is a file defining its class
// and make_ function, plus its two lines here.
#include "core/registry.hpp"
#include "models/pipeline.hpp"

namespace danlu {

std::unique_ptr<PipelineSchedule> make_gpipe();
std::unique_ptr<PipelineSchedule> make_one_f_one_b();
std::unique_ptr<PipelineSchedule> make_interleaved();
std::unique_ptr<PipelineSchedule> make_zero_bubble();

namespace {
const Registry<PipelineSchedule>& registry() {
  static const auto all =
      make_registry<PipelineSchedule>(make_gpipe, make_one_f_one_b, make_interleaved, make_zero_bubble);
  return all;
}
}  // namespace

const PipelineSchedule& pipeline_schedule(std::string_view name) { return registry().at(name, "pipeline schedule"); }
std::vector<std::string> pipeline_schedule_names() { return registry().names(); }

}  // namespace danlu
