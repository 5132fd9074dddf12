// Power and cooling: from what the GPUs do over a step to watts per GPU, per
// rack and for the whole facility.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "models/hardware.hpp"

namespace danlu {

struct FacilitySpec {
  Cooling cooling = Cooling::air;
  double pue = 1.2;
  double electricity_usd_per_kwh = 0.0862;
  double max_rack_w = 0;
};

// Each cooling type's default PUE and rack limit.
// PUE: industry average 1.55-1.59, new large sites <= 1.3, optimised liquid
// ~1.1 (Uptime Institute surveys 2020-2023; indicative). Rack limits: optimised air 20-40 kW,
// rear-door heat exchangers 40-60 kW; direct liquid ~140 kW (GB200/GB300
// NVL72-class racks); immersion tanks ~200 kW.
struct CoolingDefaults {
  double pue;
  double max_rack_w;
};
CoolingDefaults cooling_defaults(Cooling cooling);
// The first cooling type whose limit holds `rack_w`; none beyond immersion.
std::optional<Cooling> cooling_needed(double rack_w);
// Its name, or "beyond immersion".
std::string_view cooling_needed_name(std::optional<Cooling> needed);

// A GPU's draw by state, as a fraction of the way from idle to max power.
// Matrix-bound kernels run at the board limit (H100s sit near 700 W in
// large-model training); memory-bound kernels at ~60% of the range; while
// only communicating the SMs idle but NVLink, HBM and clocks stay up (~30%);
// waiting in a pipeline bubble ~10% (clocks up, nothing issued).
inline constexpr double kMatmulPowerFraction = 1.0;
inline constexpr double kMemoryPowerFraction = 0.6;
inline constexpr double kCommPowerFraction = 0.3;
inline constexpr double kIdlePowerFraction = 0.1;
enum class GpuState { matmul, memory, comm, idle };
// Watts of one GPU in that state; both engines' power comes from this.
double gpu_state_w(const Accelerator& a, GpuState s);
// Hosts (CPUs, memory, fans, NICs, NVSwitches: node max minus its GPUs) draw
// about 65% of their maximum in training (DGX H100 nodes measure ~8 kW of
// 10.2 kW with GPUs near 700 W).
inline constexpr double kHostLoadFraction = 0.65;

// Seconds of one GPU's step in each state (the slowest stage's GPU).
struct StepActivity {
  double matmul_s = 0, memory_s = 0, comm_s = 0, idle_s = 0;
  double total() const { return matmul_s + memory_s + comm_s + idle_s; }
};

struct PowerInputs {
  const ClusterSpec* cluster = nullptr;
  StepActivity activity;
  std::vector<double> gpu_profile_w;  // optional: per-GPU draw over the step (DES)
  int switches = 0;                   // scale-out switches (from the topology)
  int transceivers = 0;               // optical modules
  FacilitySpec facility;
  double run_hours = 0;  // wall-clock hours of the whole run
};

struct PowerResult {
  double gpu_w = 0;         // average per GPU over the step
  double gpu_peak_w = 0;    // in a matmul phase
  double gpu_trough_w = 0;  // communicating or waiting
  double host_w = 0;        // per node
  double network_w = 0;     // switches and optics, whole cluster
  double it_w = 0;          // average IT power
  double peak_it_w = 0;     // every GPU in a matmul phase at once (synchronous data parallelism)
  double trough_it_w = 0;   // every GPU communicating or waiting at once
  double facility_w = 0;    // it_w x PUE
  double rack_w = 0;        // a compute rack at its rated maximum (what cooling must hold)
  int racks = 0;
  bool coolable = true;
  Cooling cooling = Cooling::air;
  std::optional<Cooling> cooling_needed;  // none: beyond immersion
  double energy_mwh = 0;                  // facility energy for the whole run
  std::vector<double> it_profile_w;       // IT power over the step, when the engine gave a profile
};

PowerResult power(const PowerInputs& in);

}  // namespace danlu
