#include "topologies/collective.hpp"

namespace danlu {

std::string_view to_string(CommKind k) {
  switch (k) {
    case CommKind::tp: return "tp";
    case CommKind::cp: return "cp";
    case CommKind::ep: return "ep";
    case CommKind::pp: return "pp";
    case CommKind::dp: return "dp";
  }
  return "tp";
}

std::string_view to_string(Collective c) {
  switch (c) {
    case Collective::all_reduce: return "all-reduce";
    case Collective::all_gather: return "all-gather";
    case Collective::reduce_scatter: return "reduce-scatter";
    case Collective::all_to_all: return "all-to-all";
    case Collective::send_recv: return "send-recv";
  }
  return "all-reduce";
}

double wire_bytes(const CommOp& op) {
  const double n = op.group;
  if (n <= 1 && op.op != Collective::send_recv) return 0.0;
  switch (op.op) {
    case Collective::all_reduce: return 2.0 * (n - 1) / n * op.bytes;
    case Collective::all_gather:
    case Collective::reduce_scatter:
    case Collective::all_to_all: return (n - 1) / n * op.bytes;
    case Collective::send_recv: return op.bytes;
  }
  return op.bytes;
}

}  // namespace danlu
