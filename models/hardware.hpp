// Typed catalog entries: accelerators, systems, scale-out fabrics.
// Units are SI base unless the field name says otherwise; rates are bytes/s
// per direction.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/names.hpp"

namespace danlu {

enum class Precision { fp4, fp6, fp8, bf16, fp16, tf32, fp32 };
inline constexpr int kPrecisions = 7;

const std::vector<std::string>& precision_names();
std::string_view to_string(Precision p);
Precision precision_from(std::string_view name);  // one of precision_names(); std::logic_error otherwise
// Storage size of one element; fp4/fp6 pack below a byte.
double bytes_per_element(Precision p);

// What a chip's kernels achieve, from microbenchmarks (catalog `kernels:`
// block, each figure with its source), before any calibration.
struct KernelFigures {
  // Large-GEMM throughput as a fraction of the dense peak, per precision
  // (0 = not measured: the 16-bit figure is used).
  std::array<double, kPrecisions> gemm_efficiency{};
  // FlashAttention-class kernels, as a fraction of the 16-bit dense peak at
  // head_dim 128 and long sequences, counting the kernel's own FLOPs (causal
  // work only; the backward as 2.5 forwards).
  double attention_forward = 0;
  double attention_backward = 0;
  double hbm_efficiency = 0;       // achievable fraction of HBM bandwidth (STREAM-like)
  int compute_units = 0;           // SMs, CUs, MXUs or MMEs that GEMM tiles are spread over
  int tile_m = 128, tile_n = 128;  // output tile of a large GEMM
  // Host cost of launching one kernel (framework dispatch included); XLA and
  // other whole-program compilers launch programs, not kernels: 0.
  double launch_s = 0;

  double gemm(Precision p) const;
};

struct Accelerator {
  std::string name;
  std::string vendor;
  std::string description;
  std::array<double, kPrecisions> peak_flops{};  // dense FLOP/s; 0 = not supported
  double hbm_bytes = 0;                          // nominal capacity
  double hbm_usable_bytes = 0;                   // what a framework can allocate
  double hbm_bytes_per_s = 0;
  double scale_up_bytes_per_s = 0;  // per chip, per direction, all links
  int scale_up_links = 0;           // links per chip (torus: ports)
  double idle_w = 0;
  double max_w = 0;
  int launch_year = 0;
  // Renting, per chip-hour: the market rate for 1-year reserved capacity on
  // the date of kRentBasis (what cost.rent.gpu_hour defaults to), and the
  // on-demand list price beside it.
  double rent_usd_per_hour = 0;
  double rent_list_usd_per_hour = 0;
  KernelFigures kernels;

  double peak(Precision p) const { return peak_flops[static_cast<size_t>(p)]; }
};

// How the accelerators of one scale-up domain are wired.
enum class ScaleUpKind { Switched, FullyConnected, Torus };

// Cooling types, in order of capacity.
enum class Cooling { air, rear_door, liquid, immersion };
template <>
struct NameTable<Cooling> {
  static constexpr std::array<std::string_view, 4> names{"air", "rear-door", "liquid", "immersion"};
};

// What a system's list price buys: a node, or a whole rack (rack-scale
// systems such as GB200 NVL72).
enum class SystemUnit { node, rack };
template <>
struct NameTable<SystemUnit> {
  static constexpr std::array<std::string_view, 2> names{"node", "rack"};
};

struct System {
  std::string name;
  std::string description;
  std::string accelerator;
  SystemUnit unit = SystemUnit::node;  // what list_price_usd buys
  int accelerators_per_node = 0;
  int nodes_per_rack = 0;
  ScaleUpKind scale_up = ScaleUpKind::Switched;
  int scale_up_domain = 0;        // accelerators that share the scale-up fabric
  std::vector<int> torus_dims;    // Torus: the largest slice (pod) shape
  double scale_up_latency_s = 0;  // one hop
  double node_max_w = 0;          // whole node at full load, accelerators included
  double rack_overhead_w = 0;     // per rack beyond its nodes (NVLink switch trays, ...)
  Cooling default_cooling = Cooling::air;
  std::string default_fabric;
  double nics_per_accelerator = 0;
  double host_bytes_per_s = 0;  // per accelerator and direction, to host memory (PCIe or C2C)
  bool for_sale = true;         // TPU pods and Trainium are rented, never sold
  double list_price_usd = 0;    // per `unit`; 0 when not for sale
};

// What every catalog rent_per_hour is, so that systems compare on one basis.
inline constexpr const char* kRentBasis = "market rate for 1-year reserved capacity, March 2026 (catalog)";

// A data-centre network (dcn) joins pods over their hosts' ports; its links
// are counted apart from the scale-out fabric's.
enum class FabricKind { infiniband, ethernet, dcn };
template <>
struct NameTable<FabricKind> {
  static constexpr std::array<std::string_view, 3> names{"infiniband", "ethernet", "dcn"};
};

struct Fabric {
  std::string name;
  std::string description;
  FabricKind kind = FabricKind::infiniband;
  double port_bytes_per_s = 0;  // per direction
  int switch_radix = 0;
  double switch_latency_s = 0;  // per hop
  double nic_latency_s = 0;     // per end (send or receive)
  double switch_w = 0;
  double optics_w_per_port = 0;  // per transceiver
  double nic_w = 0;
  double usd_per_port = 0;  // switch port share + cable/optics + NIC share
};

// The machine a scenario runs on: catalog parts and how many of them.
struct ClusterSpec {
  System system;
  Accelerator accelerator;
  Fabric fabric;
  int gpus = 0;
  int nodes = 0;         // ceil(gpus / accelerators_per_node)
  int racks = 0;         // ceil(nodes / nodes_per_rack)
  std::string topology;  // fat-tree | rail-optimized | torus-3d | dragonfly
  double oversubscription = 1;
  double nics_per_gpu = 1;
};

}  // namespace danlu
