#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "tests/util.hpp"

using namespace danlu;

TEST_CASE("every name the issue fixes is in the catalog") {
  const Catalog& c = test::catalog();
  for (const char* n : {"a100-sxm-80gb", "h100-sxm", "h800-sxm", "h200-sxm", "b200", "gb200", "b300", "gb300",
                        "mi300x", "mi325x", "mi350x", "mi355x", "tpu-v4", "tpu-v5e", "tpu-v5p", "tpu-v6e",
                        "tpu-v7", "gaudi3", "trainium2"})
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
    if (a.peak(Precision::tf32) > 0) CHECK(a.peak(Precision::tf32) < bf16);
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
    CHECK(s.list_price_usd > 0);
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
