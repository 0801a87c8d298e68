// A cache of measured curves, so that `allocate --model` does not measure the same model on the
// same images twice. The key is a hash of the model file's bytes, the calibration data, the rate
// kind and the measurement settings' version; the value is the curves CSV (which round-trips
// exactly). The folder is $BITSIM_CACHE_DIR, else $XDG_CACHE_HOME/bitsim, else ~/.cache/bitsim.
#pragma once

#include <optional>
#include <string>

#include "alloc/curves.h"

namespace bitsim::alloc {

std::string curves_cache_key(const std::string& model_path, const std::string& data, RateKind rate);
// The default folder (see above); empty when none can be determined.
std::string default_cache_dir();

std::optional<RateDistortionCurves> load_cached_curves(const std::string& dir, const std::string& key);
// Writes atomically (a temporary file renamed into place); failures to write are not errors.
void store_cached_curves(const std::string& dir, const std::string& key, const RateDistortionCurves& curves);

}  // namespace bitsim::alloc
