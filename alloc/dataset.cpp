// Dataset loading: Fashion-MNIST IDX files (gzip) from Debian's dataset-fashion-mnist.
#include "alloc/dataset.h"

#include <fmt/format.h>
#include <zlib.h>
#include <charconv>

#include "sim/base/checked.h"
#include "sim/base/diagnostics.h"
#include "sim/base/text.h"

namespace bitsim::alloc {
namespace {

const char* kFashionMnist = "/usr/share/datasets/fashion-mnist";

}  // namespace

std::vector<unsigned char> read_idx(const std::string& path, std::vector<std::uint32_t>& dims) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError({path, 0, 0}, "cannot open the data file (is Debian's dataset-fashion-mnist installed?)");
  std::vector<unsigned char> bytes;
  unsigned char buf[1 << 16];
  int got = 0;
  while ((got = gzread(f, buf, sizeof buf)) > 0 && bytes.size() <= kMaxIdxBytes)
    bytes.insert(bytes.end(), buf, buf + got);
  gzclose(f);
  if (bytes.size() > kMaxIdxBytes)
    throw InputError({path, 0, 0}, fmt::format("the IDX file holds more than {} bytes (decompressed)", kMaxIdxBytes));
  auto be32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(bytes[at]) << 24 | static_cast<std::uint32_t>(bytes[at + 1]) << 16 |
           static_cast<std::uint32_t>(bytes[at + 2]) << 8 | bytes[at + 3];
  };
  if (got < 0 || bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08)
    throw InputError({path, 0, 0}, "not an unsigned-byte IDX file");
  const int d = bytes[3];
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(d);
  if (bytes.size() < header)
    throw InputError({path, 0, 0}, fmt::format("the IDX header names {} dimensions ({} bytes), the file holds {} bytes",
                                               d, header, bytes.size()));
  std::optional<std::size_t> total = 1;
  dims.clear();
  for (int i = 0; i < d; ++i) {
    dims.push_back(be32(4 + 4 * static_cast<std::size_t>(i)));
    total = checked_mul(total, static_cast<std::size_t>(dims.back()));
  }
  if (!total || bytes.size() - header != *total)
    throw InputError({path, 0, 0},
                     fmt::format("IDX file holds {} bytes of data, its header says {}", bytes.size() - header,
                                 total ? fmt::format("{}", *total) : std::string("more than 2^64")));
  return {bytes.begin() + static_cast<long>(header), bytes.end()};
}

Dataset load_dataset(const std::string& spec) {
  const auto colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  long limit = -1;
  if (colon != std::string::npos) {
    const std::string n = spec.substr(colon + 1);
    limit = static_cast<long>(parse_integer(n).value_or(0));
    if (limit < 1) throw InputError({}, fmt::format("--data: expected NAME or NAME:N with N >= 1, got '{}'", spec));
  }
  std::string prefix;
  if (name == "fashion-mnist")
    prefix = "t10k";
  else if (name == "fashion-mnist-train")
    prefix = "train";
  else
    throw InputError({}, fmt::format("--data: unknown data set '{}'; expected fashion-mnist or fashion-mnist-train "
                                     "(optionally :N for the first N images)",
                                     name));
  std::vector<std::uint32_t> idims, ldims;
  const auto pixels = read_idx(fmt::format("{}/{}-images-idx3-ubyte.gz", kFashionMnist, prefix), idims);
  const auto labels = read_idx(fmt::format("{}/{}-labels-idx1-ubyte.gz", kFashionMnist, prefix), ldims);
  if (idims.size() != 3 || ldims.size() != 1 || idims[0] != ldims[0])
    throw InputError({kFashionMnist, 0, 0}, "image and label files do not match");
  Dataset d;
  d.name = spec;
  d.count = static_cast<int>(limit > 0 ? std::min<long>(limit, idims[0]) : idims[0]);
  d.shape = {1, idims[1], idims[2]};
  const std::size_t per = static_cast<std::size_t>(idims[1]) * idims[2];
  d.images.resize(static_cast<std::size_t>(d.count) * per);
  for (std::size_t i = 0; i < d.images.size(); ++i) d.images[i] = static_cast<float>(pixels[i]) / 255.0f;
  d.labels.assign(labels.begin(), labels.begin() + d.count);
  return d;
}

}  // namespace bitsim::alloc
