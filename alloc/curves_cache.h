// A cache of measured curves, so that `allocate --model` does not measure the same model on the
// same images twice. The key is a hash of the model file's bytes, how it was imported (an input
// shape given for symbolic dimensions, softmax outputs left out), the calibration data, the rate
// kind and the measurement settings' version; the value is the curves CSV (which round-trips
// exactly) under a checksum line, verified on every read. The folder is $BITSIM_CACHE_DIR, else $XDG_CACHE_HOME/bitsim,
// else ~/.cache/bitsim.
#pragma once

#include <optional>
#include <string>

#include "alloc/curves.h"
#include "sim/workload.h"

namespace bitsim::alloc {

std::string curves_cache_key(const std::string& model_path, const sim::WorkloadOptions& import, const std::string& data,
                             RateKind rate);
// The default folder (see above); empty when none can be determined.
std::string default_cache_dir();

// A cache lookup: the curves, or nothing; `problem` says why an entry that is there was not used
// (for a one-line warning: the curves are then measured again and the entry replaced).
struct CachedCurves {
  std::optional<RateDistortionCurves> curves;
  std::string problem;
};

// The entry's file: <dir>/curves-<key>.csv.
std::string cached_curves_path(const std::string& dir, const std::string& key);

// An entry is a header line "# bitsim-cache fnv1a64=<16 hex digits> bytes=<n>" over the curves CSV
// that follows it; an entry whose payload does not match (truncated, corrupted) is not used.
CachedCurves load_cached_curves(const std::string& dir, const std::string& key);
// Writes the entry whole or not at all (sim/base/files.h: a temporary unique to this writer,
// renamed into place). A failure is no error (the cache is an optimization): returns what failed,
// empty on success.
std::string store_cached_curves(const std::string& dir, const std::string& key, const RateDistortionCurves& curves);

}  // namespace bitsim::alloc
