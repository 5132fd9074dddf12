#include "sim/des_observers.hpp"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/output_file.hpp"

namespace danlu {

GpuState power_state(Category c) {
  switch (c) {
    case kMatmul: return GpuState::matmul;
    case kMemory:
    case kOptimizer: return GpuState::memory;
    case kIdle:
    case kHost: return GpuState::idle;
    default: return GpuState::comm;
  }
}

std::vector<double> power_profile(const Accelerator& acc, const std::vector<RankTimeline>& ranks, double span_s) {
  constexpr int kSlices = 100;
  std::vector<double> w(kSlices, 0.0);
  auto at = [&](GpuState g) { return gpu_state_w(acc, g); };
  const double dt = span_s / kSlices;
  for (const RankTimeline& r : ranks) {
    const std::vector<Interval>& ivs = *r.intervals;
    std::vector<double> busy(kSlices, 0.0);  // seconds at each slice, by draw
    std::vector<double> covered(kSlices, 0.0);
    for (const Interval& iv : ivs) {
      const GpuState f = power_state(iv.cat);
      for (int k = std::max(0, static_cast<int>(iv.start / dt)); k < kSlices && k * dt < iv.end; ++k) {
        double overlap = std::min(iv.end, (k + 1) * dt) - std::max(iv.start, k * dt);
        if (overlap <= 0) continue;
        busy[static_cast<size_t>(k)] += overlap * at(f);
        covered[static_cast<size_t>(k)] += overlap;
      }
    }
    for (int k = 0; k < kSlices; ++k) {
      // time no interval covers is waiting
      double rest = std::max(0.0, dt - covered[static_cast<size_t>(k)]);
      w[static_cast<size_t>(k)] += (busy[static_cast<size_t>(k)] + rest * at(GpuState::idle)) / dt;
    }
  }
  for (double& x : w) x /= static_cast<double>(std::max<size_t>(1, ranks.size()));
  return w;
}

void write_trace(const EngineOptions& o, const std::vector<RankTimeline>& ranks) {
  const std::string& path = o.trace_path;
  OutputFile out(path);  // in place only once whole: a failed write leaves no short file
  // A full-fidelity trace runs to gigabytes: ".gz" compresses it as it goes.
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  z_stream zs{};
  if (gz && deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("DES: cannot start gzip compression");
  auto deliver = [&](const char* data, size_t size, bool last) {
    if (!gz) {
      out.write(std::string(data, size));
      return;
    }
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    zs.avail_in = static_cast<uInt>(size);
    char chunk[1 << 16];
    int rc = Z_OK;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(chunk);
      zs.avail_out = sizeof chunk;
      rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) throw std::runtime_error("DES: gzip compression failed");
      out.write(std::string(chunk, sizeof chunk - zs.avail_out));
    } while (zs.avail_out == 0 || (last && rc != Z_STREAM_END));
  };
  const bool all_ranks = o.trace_ranks.empty();
  std::unordered_map<const char*, std::string> quoted;  // names are literals: escape each once
  auto name = [&quoted](const char* text) -> const std::string& {
    auto [it, fresh] = quoted.try_emplace(text);
    if (fresh) it->second = nlohmann::json(text).dump();
    return it->second;
  };
  // Formatted into a buffer and handed over a megabyte at a time: the
  // file's own write checks every byte (fmt::print would throw mid-way).
  fmt::memory_buffer buf;
  auto spill = [&](bool last) {
    if (!last && buf.size() < (1u << 20)) return;
    deliver(buf.data(), buf.size(), last);
    buf.clear();
  };
  fmt::format_to(std::back_inserter(buf), "{{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
  const char* sep = "";
  for (const RankTimeline& r : ranks) {
    if (!all_ranks && std::find(o.trace_ranks.begin(), o.trace_ranks.end(), r.rank) == o.trace_ranks.end()) continue;
    fmt::format_to(std::back_inserter(buf),
                   "{}{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":0,\"tid\":{},\"args\":{{\"name\":\"rank {} "
                   "(stage {})\"}}}}",
                   sep, r.rank, r.rank, r.stage);
    sep = ",";
    for (const Interval& iv : *r.intervals) {
      if (iv.end <= o.trace_from_s || iv.start >= o.trace_to_s) continue;
      fmt::format_to(std::back_inserter(buf),
                     ",{{\"name\":{},\"cat\":\"{}\",\"ph\":\"X\",\"pid\":0,\"tid\":{},\"ts\":{},\"dur\":{}}}",
                     name(iv.name), kCategoryNames[static_cast<size_t>(iv.cat)], r.rank, iv.start * 1e6,
                     (iv.end - iv.start) * 1e6);
      spill(false);
    }
  }
  fmt::format_to(std::back_inserter(buf), "]}}\n");
  spill(true);
  if (gz) deflateEnd(&zs);
  out.commit();
}

}  // namespace danlu
