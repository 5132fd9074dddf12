#include "cli/mpi.hpp"

#include <cstdlib>

#ifdef DANLU_MPI
#include <mpi.h>
#endif

namespace danlu {

namespace {
MpiWorld g_world;
}

const MpiWorld& mpi_world() { return g_world; }

#ifdef DANLU_MPI

MpiSession::MpiSession(int* argc, char*** argv) {
  // Only under a launcher: a plain `danlu` stays a plain process.
  if (!std::getenv("OMPI_COMM_WORLD_SIZE") && !std::getenv("PMI_SIZE")) return;
  MPI_Init(argc, argv);
  initialised_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_.size);
  g_world = world_;
}

MpiSession::~MpiSession() {
  if (initialised_) MPI_Finalize();
}

std::vector<size_t> mpi_broadcast(const MpiWorld& w, std::vector<size_t> values) {
  if (!w.active()) return values;
  unsigned long n = values.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG, 0, MPI_COMM_WORLD);
  std::vector<unsigned long> buf(values.begin(), values.end());
  buf.resize(n);
  MPI_Bcast(buf.data(), static_cast<int>(n), MPI_UNSIGNED_LONG, 0, MPI_COMM_WORLD);
  return std::vector<size_t>(buf.begin(), buf.end());
}

std::vector<std::pair<long, std::string>> mpi_gather(const MpiWorld& w,
                                                     std::vector<std::pair<long, std::string>> mine) {
  if (!w.active()) return mine;
  if (w.rank != 0) {
    long n = static_cast<long>(mine.size());
    MPI_Send(&n, 1, MPI_LONG, 0, 1, MPI_COMM_WORLD);
    for (const auto& [index, row] : mine) {
      long meta[2] = {index, static_cast<long>(row.size())};
      MPI_Send(meta, 2, MPI_LONG, 0, 2, MPI_COMM_WORLD);
      MPI_Send(row.data(), static_cast<int>(row.size()), MPI_CHAR, 0, 3, MPI_COMM_WORLD);
    }
    return {};
  }
  for (int from = 1; from < w.size; ++from) {
    long n = 0;
    MPI_Recv(&n, 1, MPI_LONG, from, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    for (long i = 0; i < n; ++i) {
      long meta[2];
      MPI_Recv(meta, 2, MPI_LONG, from, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      std::string row(static_cast<size_t>(meta[1]), '\0');
      MPI_Recv(row.data(), static_cast<int>(meta[1]), MPI_CHAR, from, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      mine.emplace_back(meta[0], std::move(row));
    }
  }
  return mine;
}

#else

MpiSession::MpiSession(int*, char***) {}
MpiSession::~MpiSession() = default;
std::vector<size_t> mpi_broadcast(const MpiWorld&, std::vector<size_t> values) { return values; }
std::vector<std::pair<long, std::string>> mpi_gather(const MpiWorld&, std::vector<std::pair<long, std::string>> mine) {
  return mine;
}

#endif

}  // namespace danlu
