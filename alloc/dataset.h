// Real input data for measuring output error and accuracy: Fashion-MNIST, NumPy files, folders of
// PNG/JPEG images, or synthetic images.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/network.h"

namespace bitsim::alloc {

struct Dataset {
  std::string name;  // the --data spec; "... (synthetic)" for random images
  int count = 0;
  sim::Shape shape;                // per image
  std::vector<float> images;       // [count][C][H][W], every value finite
  std::vector<int> labels;         // [count], empty when the data has none
  std::vector<std::string> notes;  // how a file was read (arrays, layout, conversions), for the user
};

// The most image data a data set may hold, as float32 (refused up front beyond: use PATH:N).
inline constexpr std::size_t kMaxDataBytes = std::size_t{1} << 30;

// `spec` is one of
//   fashion-mnist[:N]        the 10,000 test images (the first N) of Debian's dataset-fashion-mnist
//   fashion-mnist-train[:N]  its 60,000 training images; both float32 in [0, 1], [N, 1, 28, 28], labelled
//   PATH.npy[:N][:nchw|:nhwc]  a float32 (or float64, converted) array, [N, C, H, W], [N, H, W, C] or
//                            [N, H, W] (one channel), C order; no labels
//   PATH.npz[:N][:nchw|:nhwc]  an archive (np.savez or np.savez_compressed) whose images are the array
//                            named 'images' or 'x', else its only float array, with integer labels
//                            (N of them) named 'labels' or 'y' if it has them
//   DIR[:N][:SPEC.yaml]      a folder of .png/.jpg/.jpeg images (alloc/image_data.h), preprocessed as
//                            SPEC.yaml (default DIR/preprocess.yaml, which must exist) says; in the
//                            order of their paths relative to DIR (bytewise), the first N. Labelled
//                            by the spec's labels CSV (file,label), else by class folders (DIR/CLASS/x.png:
//                            the index of CLASS among the sorted subfolders), else unlabelled
//   random:N[:SEED]          N synthetic images of `input`, uniform in [0, 1) from a seeded
//                            std::mt19937_64 (SEED 0 unless given): the same on every platform; no labels
// `input` is the model's per-image shape: a 4-D array is read as NCHW or NHWC, whichever matches it
// (an error when both or neither do, unless the spec says which); every form is checked against
// it. Without `input`, 4-D arrays are read as NCHW unless the spec says otherwise, and random:N is
// refused. Throws InputError naming the file (and entry, byte or index) and what was expected:
// unknown names, unreadable or damaged files, other dtypes or layouts, NaN or infinite values, more
// than kMaxDataBytes of images; for folders, undecodable or oversized images and bad labels too.
Dataset load_dataset(const std::string& spec, const std::optional<sim::Shape>& input = std::nullopt);

// InputError when `d`'s images are not of the model's per-image shape `input` (nothing without one);
// for Fashion-MNIST (the commands' default --data) the message says which other data --data takes.
void check_input_shape(const Dataset& d, const std::optional<sim::Shape>& input);

// What `spec` reads, for cache keys: the spec itself, and for a file also the FNV-1a hash of its
// bytes (a file changed under the same name is other data); for a folder, of the names and bytes of
// the spec, the labels CSV and the images taken. InputError if a file cannot be read.
std::string dataset_identity(const std::string& spec);

// For the loaders: `count` images of `per` values as float32 must fit in kMaxDataBytes, else
// InputError at `file`: "{what}: N images of P values are B bytes as float32, over the limit ...: {fewer}".
void check_data_bytes(const std::string& file, const std::string& what, std::uint64_t count, std::uint64_t per,
                      const std::string& fewer);

// One IDX file, gzip-compressed or not (big-endian header: magic 0x000008DD with D dimensions, then
// the sizes): its unsigned bytes after the header, and the sizes in `dims`. Throws InputError for a
// file that is not one, a header past the file's end, or data of another size than the header says.
inline constexpr std::size_t kMaxIdxBytes = std::size_t{1} << 30;  // decompressed
std::vector<unsigned char> read_idx(const std::string& path, std::vector<std::uint32_t>& dims);

}  // namespace bitsim::alloc
