// Sweeps over Open MPI ranks: `mpirun -n 2 danlu sweep` must write exactly the
// rows a single process writes. Built only with -DDANLU_MPI=ON.
#include <doctest/doctest.h>

#ifdef DANLU_MPI

#include <filesystem>
#include <fstream>

#include "tests/util.hpp"

using namespace danlu;

TEST_CASE("mpirun -n 2 sweep: sharded over ranks, rows identical to one process") {
  namespace fs = std::filesystem;
  const std::string dir = (fs::temp_directory_path() / ("danlu-mpi-" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  const std::string sweep = "scenarios/sweeps/llama3-70b-systems.yaml";
  REQUIRE(test::run_danlu("sweep " + sweep + " -o " + dir + "/one.jsonl").status == 0);
  // mpirun refuses root unless told; CI runs as root.
  auto r = test::run_shell(
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -n 2 {danlu} sweep " + sweep +
      " -o " + dir + "/two.jsonl");
  CHECK(r.status == 0);
  CHECK(r.output.find("sharded 30 points over 2 MPI ranks") != std::string::npos);
  auto read = [](const std::string& f) {
    std::ifstream in(f);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  CHECK(read(dir + "/one.jsonl") == read(dir + "/two.jsonl"));
  CHECK(!read(dir + "/two.jsonl").empty());
  fs::remove_all(dir);
}

#endif
