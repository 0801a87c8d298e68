// Measured-curves cache: content-addressed CSV files.
#include "alloc/curves_cache.h"

#include <fmt/format.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "sim/base/diagnostics.h"

namespace bitsim::alloc {
namespace {

// Bump when the measurement (settings, quantizers, coder) changes what a curve would contain.
constexpr int kMeasurementVersion = 1;

std::uint64_t fnv1a(std::uint64_t h, const std::string& bytes) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string curves_cache_key(const std::string& model_path, const std::string& data, RateKind rate) {
  std::ifstream in(model_path, std::ios::binary);
  if (!in) throw InputError({model_path, 0, 0}, "cannot open file for reading");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t h = 14695981039346656037ull;
  h = fnv1a(h, bytes);
  h = fnv1a(h, fmt::format("|{}|{}|{}", data, rate_kind_name(rate), kMeasurementVersion));
  return fmt::format("{:016x}", h);
}

std::string default_cache_dir() {
  if (const char* d = std::getenv("BITSIM_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/bitsim";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/bitsim";
  return "";
}

std::optional<RateDistortionCurves> load_cached_curves(const std::string& dir, const std::string& key) {
  if (dir.empty()) return std::nullopt;
  const std::string path = dir + "/curves-" + key + ".csv";
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    return load_curves(path);
  } catch (const InputError&) {
    return std::nullopt;  // a damaged cache entry is measured again
  }
}

void store_cached_curves(const std::string& dir, const std::string& key, const RateDistortionCurves& curves) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = dir + "/curves-" + key + ".csv";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) return;
    write_curves(out, curves);
    if (!out) return;
  }
  std::filesystem::rename(tmp, path, ec);
}

}  // namespace bitsim::alloc
