// Real input data for measuring output error and accuracy.
#pragma once

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

}  // namespace bitsim::alloc
