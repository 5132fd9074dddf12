#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "tests/util.hpp"

using namespace danlu;
using doctest::Approx;

TEST_CASE("every name the issue fixes is in the catalog") {
  const Catalog& c = test::catalog();
  for (const char* n :
       {"a100-sxm-80gb", "h100-sxm", "h800-sxm", "h200-sxm", "b200", "gb200", "b300", "gb300", "mi300x", "mi325x",
        "mi350x", "mi355x", "tpu-v4", "tpu-v5e", "tpu-v5p", "tpu-v6e", "tpu-v7", "gaudi3", "trainium2"})
    CHECK_NOTHROW(c.accelerator(n));
  for (const char* n : {"dgx-a100", "dgx-h100", "hgx-h800", "dgx-h200", "dgx-b200", "dgx-b300", "gb200-nvl72",
                        "gb300-nvl72", "mi300x-8", "mi325x-8", "mi355x-8", "gaudi3-8", "tpu-v4-pod", "tpu-v5e-pod",
                        "tpu-v5p-pod", "tpu-v6e-pod", "tpu-v7-pod", "trn2-16"})
    CHECK_NOTHROW(c.system(n));
  for (const char* n : {"infiniband-hdr", "infiniband-ndr", "infiniband-xdr", "roce-400g", "roce-800g", "tpu-dcn"})
    CHECK_NOTHROW(c.fabric(n));
  for (const char* n : {"gpt3-175b", "llama2-70b", "llama3-8b", "llama3-70b", "llama3-405b", "mixtral-8x7b",
                        "deepseek-v3", "nemotron4-340b"})
    CHECK_NOTHROW(c.model_preset(n));
}

TEST_CASE("accelerator figures are complete and physically sane") {
  const Catalog& c = test::catalog();
  for (const auto& name : c.accelerator_names()) {
    const Accelerator& a = c.accelerator(name);
    CAPTURE(name);
    double bf16 = a.peak(Precision::bf16);
    CHECK(bf16 >= 100e12);
    CHECK(bf16 <= 5000e12);
    // Lower precision is never slower; fp32 is never faster than bf16.
    if (a.peak(Precision::fp8) > 0) CHECK(a.peak(Precision::fp8) >= bf16);
    if (a.peak(Precision::fp4) > 0) CHECK(a.peak(Precision::fp4) >= a.peak(Precision::fp8));
    if (a.peak(Precision::fp32) > 0) CHECK(a.peak(Precision::fp32) < bf16);
    // Trainium2 runs tf32 at the bf16 rate (AWS Neuron docs).
    if (a.peak(Precision::tf32) > 0) CHECK(a.peak(Precision::tf32) <= bf16);
    CHECK(a.hbm_bytes >= 16e9);
    CHECK(a.hbm_bytes <= 320e9);
    CHECK(a.hbm_usable_bytes <= a.hbm_bytes);
    CHECK(a.hbm_usable_bytes >= 0.9 * a.hbm_bytes);
    CHECK(a.hbm_bytes_per_s >= 0.5e12);
    CHECK(a.hbm_bytes_per_s <= 10e12);
    CHECK(a.scale_up_bytes_per_s >= 100e9);
    CHECK(a.scale_up_bytes_per_s <= 1000e9);
    CHECK(a.scale_up_links >= 4);
    CHECK(a.max_w >= 150);
    CHECK(a.max_w <= 1500);
    CHECK(a.idle_w < 0.5 * a.max_w);  // TPU v4 measured 90 W idle of 192 W
    CHECK(a.launch_year >= 2020);
    CHECK(a.launch_year <= 2026);
    CHECK(a.rent_usd_per_hour >= 0.5);
    CHECK(a.rent_usd_per_hour <= 20);
    CHECK(!a.description.empty());
  }
}

TEST_CASE("systems refer to real parts and add up") {
  const Catalog& c = test::catalog();
  for (const auto& name : c.system_names()) {
    const System& s = c.system(name);
    CAPTURE(name);
    const Accelerator& a = c.accelerator(s.accelerator);
    CHECK_NOTHROW(c.fabric(s.default_fabric));
    // A node draws at least its accelerators at full power, and not absurdly more.
    CHECK(s.node_max_w >= s.accelerators_per_node * a.max_w);
    CHECK(s.node_max_w <= 2.5 * s.accelerators_per_node * a.max_w);
    CHECK(s.scale_up_domain >= s.accelerators_per_node);
    // Sold systems have a price; TPU pods and Trainium are only rented.
    const bool rented_only = s.accelerator.rfind("tpu-", 0) == 0 || s.accelerator == "trainium2";
    CHECK(s.for_sale == !rented_only);
    CHECK((s.list_price_usd > 0) == s.for_sale);
    CHECK(s.nics_per_accelerator > 0);
    CHECK(s.scale_up_latency_s >= 100e-9);
    CHECK(s.scale_up_latency_s <= 5e-6);
    if (s.scale_up == ScaleUpKind::Torus) CHECK(!s.torus_dims.empty());
  }
  const System& nvl = c.system("gb200-nvl72");
  double rack_w = nvl.nodes_per_rack * nvl.node_max_w + nvl.rack_overhead_w;
  CHECK(rack_w >= 115e3);  // ~120 kW, 132 in some sources
  CHECK(rack_w <= 135e3);
}

TEST_CASE("fabrics are within what ships") {
  const Catalog& c = test::catalog();
  for (const auto& name : c.fabric_names()) {
    const Fabric& f = c.fabric(name);
    CAPTURE(name);
    CHECK(f.port_bytes_per_s * 8 >= 100e9);
    CHECK(f.port_bytes_per_s * 8 <= 800e9);
    CHECK(f.switch_radix >= 32);
    CHECK(f.switch_latency_s >= 50e-9);
    CHECK(f.switch_latency_s <= 2e-6);
    CHECK(f.switch_w > 100);
    CHECK(f.usd_per_port > 0);
  }
  CHECK(c.fabric("infiniband-ndr").port_bytes_per_s == doctest::Approx(50e9));
  CHECK(c.fabric("roce-800g").port_bytes_per_s == doctest::Approx(100e9));
}

TEST_CASE("every model preset builds into a valid scenario") {
  for (const auto& name : test::catalog().model_names()) {
    CAPTURE(name);
    CHECK_NOTHROW(test::scenario("name: m\nmodel: {preset: " + name + "}\ncluster: {system: dgx-h100, gpus: 8}\n"));
  }
}

TEST_CASE("--catalog adds and replaces entries by name") {
  auto dir = std::filesystem::temp_directory_path() / ("danlu-cat-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "accelerators.yaml")
      << "h100-sxm:\n  vendor: nvidia\n  description: derated H100\n  peak: {bf16: 800TFLOP/s}\n"
         "  hbm: 80GB\n  hbm_usable: 79GB\n  hbm_bandwidth: 3TB/s\n  scale_up: 450GB/s\n  scale_up_links: 18\n"
         "  idle_w: 90W\n  max_w: 600W\n  launch_year: 2022\n  rent_per_hour: 2\n";
  Catalog c = Catalog::builtin();
  c.add_dir(dir.string());
  CHECK(c.accelerator("h100-sxm").max_w == 600);
  CHECK(c.accelerator("h100-sxm").peak(Precision::fp8) == 0);
  CHECK(c.accelerator("b200").max_w == 1000);  // untouched
  std::ofstream(dir / "accelerators.yaml") << "h100-sxm:\n  vendor: nvidia\n  watts: 3\n";
  Catalog d = Catalog::builtin();
  CHECK_THROWS_AS(d.add_dir(dir.string()), InputError);
  std::filesystem::remove_all(dir);
  CHECK_THROWS_AS(d.add_dir("/nonexistent-danlu"), InputError);
}

TEST_CASE("HBM capacity is what the devices report, less the runtime's 1 GiB") {
  const Catalog& c = test::catalog();
  const double MiB = 1024.0 * 1024, GiB = MiB * 1024;
  // nvidia-smi / rocm-smi / hl-smi totals in public logs.
  const std::pair<const char*, double> reported[] = {
      {"b200", 183359 * MiB},     {"gb200", 189471 * MiB}, {"b300", 275040 * MiB}, {"gb300", 284208 * MiB},
      {"mi300x", 205822885888.0}, {"mi355x", 309.2e9},     {"mi350x", 309.2e9},    {"gaudi3", 131072 * MiB},
      {"tpu-v6e", 32 * GiB},      {"mi325x", 256 * GiB}};
  for (const auto& [key, bytes] : reported) {
    const char* name = key;  // a plain name for CAPTURE's lambda
    CAPTURE(name);
    const Accelerator& a = c.accelerator(name);
    CHECK(a.hbm_bytes == Approx(bytes).epsilon(1e-6));
    // Usable: less the CUDA/HIP context and driver (XLA keeps the whole HBM).
    CHECK(a.hbm_bytes - a.hbm_usable_bytes == Approx(a.vendor == "google" ? 0.0 : GiB).epsilon(0.05));
  }
  // GB200 at 198.7 GB and B200 at 192.3 GB: the ~200 GB ceiling of the talk.
  CHECK(c.accelerator("gb200").hbm_bytes / 1e9 == Approx(198.7).epsilon(0.001));
  CHECK(c.accelerator("b200").hbm_bytes / 1e9 == Approx(192.3).epsilon(0.001));
}

TEST_CASE("catalog facts: fp6 on Blackwell Ultra, tf32 on Trainium2, GB200 fp32, DGX B300, TPU v5p slices") {
  const Catalog& c = test::catalog();
  // FP6 at the FP8 rate (NVIDIA Blackwell technical brief).
  CHECK(c.accelerator("b300").peak(Precision::fp6) == c.accelerator("b300").peak(Precision::fp8));
  CHECK(c.accelerator("gb300").peak(Precision::fp6) == c.accelerator("gb300").peak(Precision::fp8));
  CHECK_NOTHROW(
      test::scenario("name: t\nmodel: {preset: llama3-8b}\ncluster: {system: dgx-b300, gpus: 8}\n"
                     "training: {precision: fp6}\n"));
  // Trainium2: TF32 667 TFLOP/s (AWS Neuron documentation).
  CHECK(c.accelerator("trainium2").peak(Precision::tf32) == Approx(667e12));
  // GB200: 80 TFLOP/s fp32 per GPU, 5,760 per NVL72.
  CHECK(c.accelerator("gb200").peak(Precision::fp32) * 72 == Approx(5760e12));
  // DGX B300: air with rear-door heat exchangers; node_max_power is the peak.
  const System& b300 = c.system("dgx-b300");
  CHECK(b300.default_cooling == Cooling::rear_door);
  CHECK(b300.node_max_w == Approx(19.7e3));
  // TPU v5p: the largest documented slice, 16x16x24.
  const System& v5p = c.system("tpu-v5p-pod");
  CHECK(v5p.scale_up_domain == 6144);
  CHECK(v5p.torus_dims == std::vector<int>{16, 16, 24});
}

TEST_CASE("scale-up bandwidth is per direction; a bidirectional figure only under its own name") {
  // NVLink5: 1.8 TB/s as NVIDIA quotes it, 900 GB/s each way.
  CHECK(test::catalog().accelerator("gb200").scale_up_bytes_per_s == Approx(900e9));
  auto dir = std::filesystem::temp_directory_path() / ("danlu-bidi-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string common =
      "  vendor: nvidia\n  description: x\n  peak: {bf16: 800TFLOP/s}\n  hbm: 80GB\n  hbm_usable: 79GB\n"
      "  hbm_bandwidth: 3TB/s\n  scale_up_links: 18\n  idle_w: 90W\n  max_w: 600W\n  launch_year: 2022\n"
      "  rent_per_hour: 2\n";
  std::ofstream(dir / "accelerators.yaml") << "x1:\n" << common << "  scale_up_bidirectional: 900GB/s\n";
  Catalog a = Catalog::builtin();
  a.add_dir(dir.string());
  CHECK(a.accelerator("x1").scale_up_bytes_per_s == Approx(450e9));
  std::ofstream(dir / "accelerators.yaml") << "x1:\n"
                                           << common << "  scale_up: 450GB/s\n  scale_up_bidirectional: 900GB/s\n";
  Catalog b = Catalog::builtin();
  CHECK_THROWS_AS(b.add_dir(dir.string()), InputError);
  std::filesystem::remove_all(dir);
  auto r = test::run_danlu("catalog accelerators");
  CHECK(r.output.find("scale-up GB/s each way") != std::string::npos);
}

TEST_CASE("check --explain states the catalog's rates each way") {
  auto r = test::run_danlu("check scenarios/llama3-405b-gb200-nvl72.yaml --explain");
  CHECK(r.status == 0);
  CHECK(r.output.find("900GB/s each way per GPU") != std::string::npos);
  CHECK(r.output.find("[catalog] scale-up bandwidth") != std::string::npos);
  CHECK(r.output.find("400Gb/s each way") != std::string::npos);
}

TEST_CASE("--catalog: a system not for sale has no list price, said at the line with exit status 2") {
  auto dir = std::filesystem::temp_directory_path() / ("danlu-cat-sale-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "systems.yaml")
      << "tpu-v5e-pod:\n  description: priced\n  accelerator: tpu-v5e\n  unit: node\n  accelerators_per_node: 8\n"
         "  nodes_per_rack: 8\n  scale_up: {kind: torus, domain: 256, torus_dims: [16, 16], latency: 1us}\n"
         "  node_max_power: 2.4kW\n  cooling: air\n  fabric: tpu-dcn\n  nics_per_accelerator: 1\n"
         "  for_sale: false\n  list_price: 80000\n";
  auto r = test::run_danlu("--catalog " + dir.string() + " catalog systems tpu-v5e-pod");
  CHECK(r.status == 2);
  CHECK(r.output.find("systems.yaml:13:15: systems.tpu-v5e-pod.list_price: a system that is not for sale has no list "
                      "price") != std::string::npos);
  std::filesystem::remove_all(dir);
}
