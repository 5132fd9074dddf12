// A scale-out topology, chosen by cluster.scale_out.topology: how the NIC
// ports are wired (the graph, for path and bisection queries), the parts
// that takes (counted in closed form for power and cost), and what the
// collectives see (switch tiers, the worst path, which ranks share a leaf).
// Each implementation is one file; registry.cpp lists them by name.
#pragma once

#include <memory>
#include <vector>

#include "models/hardware.hpp"
#include "topologies/fabric_counts.hpp"
#include "topologies/registry.hpp"

namespace danlu {

struct Network;
struct FabricBuilder;
struct FabricPorts;
enum class LinkKind;

// The scale-out ports counted, as FabricPorts holds them.
struct PortCounts {
  int ports = 0;
  std::vector<int> rails;  // ports per rail, when one_nic_per_gpu
  bool one_nic_per_gpu = false;
};

// What the collective model needs of the fabric.
struct ScaleOutShape {
  int tiers = 1;          // switch tiers
  int worst_hops = 1;     // switches on the longest minimal path
  int gpus_per_leaf = 1;  // span of ranks one leaf reaches (per rail)
  bool rails = false;     // one fabric per rail: GPU k of each node on rail k
};

// NIC ports per node (at least one), and whether each GPU has its own.
int nics_per_node(const ClusterSpec& c);
inline bool one_nic_per_gpu(const ClusterSpec& c) { return nics_per_node(c) == c.system.accelerators_per_node; }

class ScaleOutTopology {
 public:
  virtual ~ScaleOutTopology() = default;
  virtual const char* name() const = 0;
  // Wires the ports (at least two) with switches and links.
  virtual void build(FabricBuilder& b, const FabricPorts& ports, const ClusterSpec& c, LinkKind kind) const = 0;
  // Counts what build() adds: switches and links.
  virtual void count(const PortCounts& ports, const ClusterSpec& c, FabricCounts& out) const = 0;
  virtual ScaleOutShape shape(const ClusterSpec& c) const = 0;
  // The leaf switch a rank's NIC hangs from (numbered across rails).
  virtual int leaf_of(int rank, const Network& net) const;
  // A torus system that fits one slice has no scale-out fabric, unless the
  // topology wires every host's NICs regardless.
  virtual bool wires_a_lone_slice() const { return false; }
};

// One folded Clos over every NIC port: the fat-tree, and the data-centre
// network of other topologies.
class ClosOverPorts : public ScaleOutTopology {
 public:
  explicit ClosOverPorts(const char* name) : name_(name) {}
  const char* name() const override { return name_; }
  void build(FabricBuilder& b, const FabricPorts& ports, const ClusterSpec& c, LinkKind kind) const override;
  void count(const PortCounts& ports, const ClusterSpec& c, FabricCounts& out) const override;
  ScaleOutShape shape(const ClusterSpec& c) const override;

 private:
  const char* name_;
};

// What the collectives see of a Clos: over every NIC port, or one per rail
// over the nodes (a rail leaf reaches one GPU of each of `down` nodes).
ScaleOutShape clos_shape(const ClusterSpec& c, bool per_rail);

}  // namespace danlu
