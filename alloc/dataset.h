// Real input data for measuring output error and accuracy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/network.h"

namespace bitsim::alloc {

struct Dataset {
  std::string name;
  int count = 0;
  sim::Shape shape;           // per image
  std::vector<float> images;  // [count][C][H][W]
  std::vector<int> labels;    // [count], empty when the data has none
};

// "fashion-mnist[:N]" (the 10,000 test images, first N) or "fashion-mnist-train[:N]" (the 60,000
// training images): Debian's dataset-fashion-mnist, IDX files under /usr/share/datasets/fashion-mnist,
// as float32 in [0, 1], [N, 1, 28, 28]. Throws InputError for an unknown name or unreadable files.
Dataset load_dataset(const std::string& spec);

// One IDX file, gzip-compressed or not (big-endian header: magic 0x000008DD with D dimensions, then
// the sizes): its unsigned bytes after the header, and the sizes in `dims`. Throws InputError for a
// file that is not one, a header past the file's end, or data of another size than the header says.
inline constexpr std::size_t kMaxIdxBytes = std::size_t{1} << 30;  // decompressed
std::vector<unsigned char> read_idx(const std::string& path, std::vector<std::uint32_t>& dims);

}  // namespace bitsim::alloc
