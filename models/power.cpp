#include "models/power.hpp"

#include <algorithm>
#include <stdexcept>

namespace danlu {

CoolingDefaults cooling_defaults(Cooling cooling) {
  switch (cooling) {
    case Cooling::air: return {1.4, 40e3};
    case Cooling::rear_door: return {1.3, 60e3};
    case Cooling::liquid: return {1.15, 140e3};
    case Cooling::immersion: return {1.08, 200e3};
  }
  throw std::logic_error("cooling_defaults: not a cooling type");
}

std::optional<Cooling> cooling_needed(double rack_w) {
  for (Cooling c : {Cooling::air, Cooling::rear_door, Cooling::liquid, Cooling::immersion})
    if (rack_w <= cooling_defaults(c).max_rack_w) return c;
  return std::nullopt;
}

std::string_view cooling_needed_name(std::optional<Cooling> needed) {
  return needed ? to_name(*needed) : "beyond immersion";
}

double gpu_state_w(const Accelerator& a, GpuState s) {
  double fraction = kIdlePowerFraction;
  switch (s) {
    case GpuState::matmul: fraction = kMatmulPowerFraction; break;
    case GpuState::memory: fraction = kMemoryPowerFraction; break;
    case GpuState::comm: fraction = kCommPowerFraction; break;
    case GpuState::idle: fraction = kIdlePowerFraction; break;
  }
  return a.idle_w + fraction * (a.max_w - a.idle_w);
}

PowerResult power(const PowerInputs& in) {
  const ClusterSpec& c = *in.cluster;
  const Accelerator& a = c.accelerator;
  const System& sys = c.system;
  PowerResult r;
  auto at = [&](GpuState s) { return gpu_state_w(a, s); };
  const StepActivity& act = in.activity;
  const double t = std::max(act.total(), 1e-12);
  r.gpu_w = (act.matmul_s * at(GpuState::matmul) + act.memory_s * at(GpuState::memory) +
             act.comm_s * at(GpuState::comm) + act.idle_s * at(GpuState::idle)) /
            t;
  r.gpu_peak_w = at(GpuState::matmul);
  r.gpu_trough_w = at(GpuState::comm);
  // The catalog's node maximum includes its accelerators at full power.
  const double host_max = std::max(0.0, sys.node_max_w - sys.accelerators_per_node * a.max_w);
  r.host_w = kHostLoadFraction * host_max;
  r.network_w = in.switches * c.fabric.switch_w + in.transceivers * c.fabric.optics_w_per_port;
  const double fixed = c.nodes * r.host_w + c.racks * sys.rack_overhead_w + r.network_w;
  r.it_w = c.gpus * r.gpu_w + fixed;
  r.peak_it_w = c.gpus * r.gpu_peak_w + fixed;
  r.trough_it_w = c.gpus * r.gpu_trough_w + fixed;
  if (!in.gpu_profile_w.empty()) {
    // The simulated timeline knows when GPUs are busy together.
    r.peak_it_w = r.trough_it_w = 0;
    for (double g : in.gpu_profile_w) r.it_profile_w.push_back(c.gpus * g + fixed);
    r.peak_it_w = *std::max_element(r.it_profile_w.begin(), r.it_profile_w.end());
    r.trough_it_w = *std::min_element(r.it_profile_w.begin(), r.it_profile_w.end());
  }
  r.facility_w = r.it_w * in.facility.pue;
  // Cooling is sized for what a rack can draw: its nodes at their rated
  // maximum (GB200 NVL72: 18 x 6.2 + 8.4 = 120 kW).
  r.racks = c.racks;
  r.rack_w = sys.nodes_per_rack * sys.node_max_w + sys.rack_overhead_w;
  r.cooling = in.facility.cooling;
  r.coolable = r.rack_w <= in.facility.max_rack_w;
  r.cooling_needed = cooling_needed(r.rack_w);
  r.energy_mwh = r.facility_w * in.run_hours / 1e6;
  return r;
}

}  // namespace danlu
