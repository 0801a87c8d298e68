// Measured-curves cache: content-addressed CSV files, each under a checksum header.
#include "alloc/curves_cache.h"

#include <fmt/format.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>

#include "sim/base/diagnostics.h"
#include "sim/base/files.h"

namespace bitsim::alloc {
namespace {

// Bump when the measurement (settings, quantizers, coder) changes what a curve would contain.
constexpr int kMeasurementVersion = 2;  // 2: entries carry a checksum header

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;

std::uint64_t fnv1a(std::uint64_t h, const std::string& bytes) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

constexpr std::string_view kHeaderPrefix = "# bitsim-cache ";

// The header line that vouches for `payload`: its FNV-1a 64 checksum and its size.
std::string entry_header(const std::string& payload) {
  return fmt::format("{}fnv1a64={:016x} bytes={}", kHeaderPrefix, fnv1a(kFnvOffset, payload), payload.size());
}

}  // namespace

std::string curves_cache_key(const std::string& model_path, const sim::WorkloadOptions& import, const std::string& data,
                             RateKind rate) {
  std::ifstream in(model_path, std::ios::binary);
  if (!in) throw InputError({model_path, 0, 0}, "cannot open file for reading");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t h = fnv1a(kFnvOffset, bytes);
  h = fnv1a(h, fmt::format("|{}|{}|{}", data, rate_kind_name(rate), kMeasurementVersion));
  // Import options only when given, so that the keys of models imported as they are stay as they were.
  if (const auto& s = import.input_shape)
    h = fnv1a(h, fmt::format("|input {}x{}x{}", s->channels, s->height, s->width));
  if (import.logits) h = fnv1a(h, "|logits");
  return fmt::format("{:016x}", h);
}

std::string default_cache_dir() {
  if (const char* d = std::getenv("BITSIM_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/bitsim";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/bitsim";
  return "";
}

std::string cached_curves_path(const std::string& dir, const std::string& key) {
  return dir + "/curves-" + key + ".csv";
}

CachedCurves load_cached_curves(const std::string& dir, const std::string& key) {
  CachedCurves out;
  if (dir.empty()) return out;
  const std::string path = cached_curves_path(dir, key);
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;  // not cached
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t eol = text.find('\n');
  const std::string header = text.substr(0, eol);
  const std::string payload = eol == std::string::npos ? std::string() : text.substr(eol + 1);
  if (header.rfind(kHeaderPrefix, 0) != 0) {
    out.problem = "not a bitsim cache entry (no checksum header)";
    return out;
  }
  if (header != entry_header(payload)) {
    out.problem = "damaged cache entry (checksum or size does not match: truncated or corrupted)";
    return out;
  }
  std::istringstream csv(payload);
  try {
    out.curves = read_curves(csv, path, 2);
  } catch (const InputError& e) {
    out.problem = fmt::format("unreadable cache entry ({})", e.what());
  }
  return out;
}

std::string store_cached_curves(const std::string& dir, const std::string& key, const RateDistortionCurves& curves) {
  if (dir.empty()) return {};  // no cache folder: caching is off
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("{}: cannot create the cache folder: {}", dir, ec.message());
  std::ostringstream csv;
  write_curves(csv, curves);
  try {
    write_file_atomically(cached_curves_path(dir, key), entry_header(csv.str()) + "\n" + csv.str());
  } catch (const InputError& e) {
    return e.what();
  }
  return {};
}

}  // namespace bitsim::alloc
