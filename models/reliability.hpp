// Failures, checkpoints and goodput.
#pragma once

namespace danlu {

struct ReliabilitySpec {
  bool given = false;  // false: goodput 1, with a note
  double gpu_mtbf_s = 0;
  double checkpoint_interval_s = 0;  // 0: Young/Daly optimum
  double checkpoint_write_s = 0;
  double restart_s = 0;
};

struct Goodput {
  double goodput = 1;           // useful fraction of wall time
  double job_mtbf_s = 0;        // the whole job: one GPU's MTBF / GPUs
  double interval_s = 0;        // the checkpoint interval used
  double young_daly_s = 0;      // sqrt(2 x write x job MTBF)
  double checkpoint_share = 0;  // of wall time spent writing checkpoints
  double failure_share = 0;     // lost to failures: redone work and restarts
};

// First-order model (Young 1974, Daly 2006): each interval of tau pays one
// checkpoint write delta; each failure (one per job MTBF M) loses on average
// half an interval plus the restart R. Goodput = 1 - delta/tau - (tau/2 + R)/M.
Goodput goodput(const ReliabilitySpec& r, int gpus);

}  // namespace danlu
