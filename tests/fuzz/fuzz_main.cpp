// A libFuzzer target for one loader, chosen when built (BITSIM_FUZZ_LOADER, a fuzz::Loader).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bitsim::fuzz::run(bitsim::fuzz::Loader::BITSIM_FUZZ_LOADER,
                    std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
