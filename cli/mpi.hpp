// Optional Open MPI support (built with -DDANLU_MPI=ON): `mpirun -n N danlu
// sweep FILE` shards the points over ranks and rank 0 writes every row.
// Without the build switch, or when not launched by mpirun, there is one rank.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace danlu {

struct MpiWorld {
  int rank = 0;
  int size = 1;
  bool active() const { return size > 1; }
};

// Initialises MPI only under mpirun; finalises when destroyed.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  const MpiWorld& world() const { return world_; }

 private:
  MpiWorld world_;
  bool initialised_ = false;
};

const MpiWorld& mpi_world();

// Rank 0's list, on every rank.
std::vector<size_t> mpi_broadcast(const MpiWorld& w, std::vector<size_t> values);

// Every rank's (index, row) pairs, on rank 0 (others get an empty list).
std::vector<std::pair<long, std::string>> mpi_gather(const MpiWorld& w, std::vector<std::pair<long, std::string>> mine);

}  // namespace danlu
