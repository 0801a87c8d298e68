// --data beyond Fashion-MNIST: NumPy .npy and .npz files (built byte by byte here, and one written by
// numpy itself), the layout matched to the model's input, labels, damaged files refused with
// located messages, and seeded synthetic images; and measuring without labels (top-1 agreement).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "alloc/dataset.h"
#include "alloc/inference.h"
#include "alloc/npy.h"
#include "alloc/solvers/solver.h"
#include "alloc/study/allocation_report.h"
#include "alloc/study/measure.h"
#include "sim/workload.h"
#include "tests/test_util.h"

namespace bitsim::alloc {
namespace {

using namespace std::string_literals;

const std::string kSource = BITSIM_SOURCE_DIR;
const std::string kModel = kSource + "/workloads/fmnist_cnn.onnx";

bool have_fashion_mnist() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
}

std::string le(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

std::string f32(const std::vector<float>& values) {
  std::string out;
  for (float v : values) out += le(std::bit_cast<std::uint32_t>(v), 4);
  return out;
}

std::string f64(const std::vector<double>& values) {
  std::string out;
  for (double v : values) out += le(std::bit_cast<std::uint64_t>(v), 8);
  return out;
}

std::string ints(const std::vector<std::int64_t>& values, int bytes) {
  std::string out;
  for (std::int64_t v : values) out += le(static_cast<std::uint64_t>(v), bytes);
  return out;
}

// A .npy file as numpy writes one: magic, version, header length, the dict padded with spaces to a
// multiple of 64 bytes and ended by '\n', then the data.
std::string npy(const std::string& descr, const std::string& shape, const std::string& data, bool fortran = false,
                int major = 1) {
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
  const std::size_t prefix = major == 1 ? 10 : 12;
  dict += std::string((64 - (prefix + dict.size() + 1) % 64) % 64, ' ') + '\n';
  return "\x93NUMPY"s + static_cast<char>(major) + '\0' + le(dict.size(), major == 1 ? 2 : 4) + dict + data;
}

// A version 1 .npy file of only a header: `dict` as it is, its length in front.
std::string header_only(const std::string& dict) { return "\x93NUMPY\x01\x00"s + le(dict.size(), 2) + dict; }

// Raw deflate (as zip stores it) of `data`; with `finish` false the stream is flushed but not ended.
std::string deflate_raw(const std::string& data, bool finish = true) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, finish ? Z_FINISH : Z_SYNC_FLUSH), finish ? Z_STREAM_END : Z_OK);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Entry {
  Entry(std::string n, std::string d, int m = 0) : name(std::move(n)), data(std::move(d)), method(m) {}
  std::string name;
  std::string data;
  int method;                                 // 0 stored, 8 deflate
  std::optional<std::uint64_t> claimed_size;  // the directory's uncompressed size, if not data's
  bool finish = true;                         // deflate: end the stream
};

// A zip archive as Python's zipfile writes one; `zip64` puts the sizes and offsets in zip64 extra
// fields and a zip64 end record, as archives over 4 GiB have them.
std::string zip(const std::vector<Entry>& entries, bool zip64 = false) {
  std::string out, dir;
  for (const Entry& e : entries) {
    const std::string payload = e.method == 8 ? deflate_raw(e.data, e.finish) : e.data;
    const std::uint64_t crc = crc32(0, reinterpret_cast<const Bytef*>(e.data.data()), static_cast<uInt>(e.data.size()));
    const std::uint64_t size = e.claimed_size.value_or(e.data.size());
    const std::uint64_t local_at = out.size();
    out += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(static_cast<std::uint64_t>(e.method), 2) + le(0, 4) +
           le(crc, 4) + le(payload.size(), 4) + le(size, 4) + le(e.name.size(), 2) + le(0, 2) + e.name + payload;
    const std::string extra = zip64 ? le(1, 2) + le(24, 2) + le(size, 8) + le(payload.size(), 8) + le(local_at, 8) : "";
    const std::uint64_t m = zip64 ? 0xffffffff : 0;
    dir += le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(static_cast<std::uint64_t>(e.method), 2) +
           le(0, 4) + le(crc, 4) + le(zip64 ? m : payload.size(), 4) + le(zip64 ? m : size, 4) + le(e.name.size(), 2) +
           le(extra.size(), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(zip64 ? m : local_at, 4) + e.name +
           extra;
  }
  const std::uint64_t dir_at = out.size();
  out += dir;
  if (zip64) {
    const std::uint64_t z64_at = out.size();
    out += le(0x06064b50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4) + le(entries.size(), 8) +
           le(entries.size(), 8) + le(dir.size(), 8) + le(dir_at, 8);
    out += le(0x07064b50, 4) + le(0, 4) + le(z64_at, 8) + le(1, 4);
    return out + le(0x06054b50, 4) + le(0, 4) + le(0xffff, 2) + le(0xffff, 2) + le(0xffffffff, 4) + le(0xffffffff, 4) +
           le(0, 2);
  }
  return out + le(0x06054b50, 4) + le(0, 4) + le(entries.size(), 2) + le(entries.size(), 2) + le(dir.size(), 4) +
         le(dir_at, 4) + le(0, 2);
}

// The data set of a file holding `bytes`, `name` ending in .npy or .npz, with `suffix` after the path.
Dataset load(const std::string& name, const std::string& bytes, std::optional<sim::Shape> input,
             const std::string& suffix = "") {
  return load_dataset(testing::write_temp(name, bytes) + suffix, input);
}

// Its InputError message, the path replaced by F.
std::string error_of(const std::string& name, const std::string& bytes, std::optional<sim::Shape> input,
                     const std::string& suffix = "") {
  const std::string path = testing::write_temp(name, bytes);
  try {
    load_dataset(path + suffix, input);
  } catch (const InputError& e) {
    return testing::scrub(e.what(), path);
  }
  return "(no error)";
}

// 2 images of 2x2x3 (C, H, W), values 0..23 in NCHW order.
std::vector<float> counting(int n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(i);
  return v;
}

TEST(NumpyData, NchwFloat32IsReadAsItIs) {
  const Dataset d = load("a.npy", npy("<f4", "(2, 2, 2, 3)", f32(counting(24))), sim::Shape{2, 2, 3});
  EXPECT_EQ(d.count, 2);
  EXPECT_EQ(d.shape, (sim::Shape{2, 2, 3}));
  EXPECT_EQ(d.images, counting(24));
  EXPECT_TRUE(d.labels.empty());
  ASSERT_EQ(d.notes.size(), 2u);
  EXPECT_NE(d.notes[0].find("images from the array, float32 [2, 2, 2, 3], read as NCHW"), std::string::npos)
      << d.notes[0];
}

TEST(NumpyData, NhwcIsTransposedWhenItIsTheLayoutThatMatches) {
  // [1, H=2, W=2, C=3]: as NCHW it would be 2x2x3, as NHWC 3x2x2, the model's input.
  const std::vector<float> nhwc = counting(12);
  const Dataset d = load("a.npy", npy("<f4", "(1, 2, 2, 3)", f32(nhwc)), sim::Shape{3, 2, 2});
  EXPECT_EQ(d.shape, (sim::Shape{3, 2, 2}));
  ASSERT_EQ(d.images.size(), 12u);
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 4; ++p)
      EXPECT_EQ(d.images[static_cast<std::size_t>(c * 4 + p)], nhwc[static_cast<std::size_t>(p * 3 + c)]);
  EXPECT_NE(d.notes[0].find("read as NHWC (transposed to NCHW)"), std::string::npos) << d.notes[0];
  // The same array matching as NCHW is left as it is.
  EXPECT_EQ(load("b.npy", npy("<f4", "(1, 2, 2, 3)", f32(nhwc)), sim::Shape{2, 2, 3}).images, nhwc);
}

TEST(NumpyData, BothOrNeitherLayoutMatchingIsAnErrorNamingTheShapes) {
  const std::string cube = npy("<f4", "(1, 2, 2, 2)", f32(counting(8)));
  EXPECT_EQ(error_of("a.npy", cube, sim::Shape{2, 2, 2}),
            "F: error: the array [1, 2, 2, 2]: both NCHW and NHWC match the model's input 2x2x2: add :nchw or :nhwc "
            "to --data");
  // The spec settles it.
  const Dataset nhwc = load("b.npy", cube, sim::Shape{2, 2, 2}, ":nhwc");
  EXPECT_EQ(nhwc.images, (std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7}));
  EXPECT_EQ(load("c.npy", cube, sim::Shape{2, 2, 2}, ":nchw").images, counting(8));
  EXPECT_EQ(error_of("d.npy", npy("<f4", "(1, 2, 2, 3)", f32(counting(12))), sim::Shape{1, 28, 28}),
            "F: error: the array [1, 2, 2, 3] is neither [N, C, H, W] = [N, 1, 28, 28] (NCHW) nor [N, H, W, C] = "
            "[N, 28, 28, 1] (NHWC) for the model's input 1x28x28");
  EXPECT_EQ(error_of("e.npy", npy("<f4", "(1, 2, 2, 3)", f32(counting(12))), sim::Shape{2, 2, 3}, ":nhwc"),
            "F: error: the array [1, 2, 2, 3] read as NHWC holds images of 3x2x2; the model's input is 2x2x3");
}

TEST(NumpyData, ThreeDimensionsAreOneChannelAndNTakesTheFirstImages) {
  const std::string file = npy("<f4", "(3, 2, 2)", f32(counting(12)));
  const Dataset d = load("a.npy", file, sim::Shape{1, 2, 2}, ":2");
  EXPECT_EQ(d.count, 2);
  EXPECT_EQ(d.shape, (sim::Shape{1, 2, 2}));
  EXPECT_EQ(d.images, counting(8));
  EXPECT_NE(d.notes[0].find("one channel, the first 2 of 3"), std::string::npos) << d.notes[0];
  EXPECT_EQ(load("b.npy", file, sim::Shape{1, 2, 2}, ":50").count, 3);  // all there are
  EXPECT_EQ(error_of("c.npy", file, sim::Shape{3, 2, 2}),
            "F: error: the array [3, 2, 2] is [N, H, W], one channel of 2x2; the model's input is 3x2x2");
  // Version 2 and 3 headers (4-byte lengths) read the same.
  EXPECT_EQ(load("d.npy", npy("<f4", "(3, 2, 2)", f32(counting(12)), false, 2), sim::Shape{1, 2, 2}).images,
            counting(12));
}

TEST(NumpyData, DtypesOtherThanFloatAreRefusedFloat64IsRounded) {
  const Dataset d = load("a.npy", npy("<f8", "(1, 1, 1, 2)", f64({0.1, 2.5})), sim::Shape{1, 1, 2});
  EXPECT_EQ(d.images, (std::vector<float>{0.1f, 2.5f}));
  EXPECT_NE(d.notes[0].find("float64 rounded to float32"), std::string::npos) << d.notes[0];
  EXPECT_EQ(error_of("b.npy", npy("|u1", "(1, 1, 1, 2)", "\x01\x02"), sim::Shape{1, 1, 2}),
            "F: error: the array is uint8: expected float32 (or float64) images; convert them with the model's "
            "preprocessing, e.g. x.astype(np.float32) / 255");
  EXPECT_EQ(error_of("c.npy", npy(">f4", "(1, 1, 1, 1)", "\0\0\0\0"s), sim::Shape{1, 1, 1}),
            "F: error: the array is >f4: expected float32 (or float64) images; convert them with the model's "
            "preprocessing, e.g. x.astype(np.float32) / 255");
  EXPECT_EQ(error_of("d.npy", npy("<f4", "(1, 1, 2, 1)", f32({1, 2}), true), sim::Shape{1, 2, 1}),
            "F: error: the array is in Fortran order: save a C-order array (np.ascontiguousarray)");
  EXPECT_EQ(error_of("e.npy", npy("<f4", "(2, 3)", f32(counting(6))), sim::Shape{1, 1, 3}),
            "F: error: the array has shape [2, 3]: expected [N, C, H, W], [N, H, W, C] or [N, H, W]");
  EXPECT_EQ(error_of("f.npy", npy("<f4", "(0, 1, 2, 2)", ""), sim::Shape{1, 2, 2}),
            "F: error: the array has shape [0, 1, 2, 2]: it holds no images");
}

TEST(NumpyData, NonFiniteValuesAreRefusedWithTheirIndex) {
  std::vector<float> v = counting(12);
  v[7] = std::numeric_limits<float>::quiet_NaN();  // image 1, [0, 1, 0] in [N, 1, 2, 3]
  EXPECT_EQ(error_of("a.npy", npy("<f4", "(2, 1, 2, 3)", f32(v)), sim::Shape{1, 2, 3}),
            "F: error: the array: value nan at index [1, 0, 0, 1] is not a finite number");
  v[7] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(error_of("b.npy", npy("<f4", "(2, 1, 2, 3)", f32(v)), sim::Shape{1, 2, 3}),
            "F: error: the array: value -inf at index [1, 0, 0, 1] is not a finite number");
  // Only the images read are checked: the first one is fine.
  EXPECT_EQ(load("c.npy", npy("<f4", "(2, 1, 2, 3)", f32(v)), sim::Shape{1, 2, 3}, ":1").count, 1);
  EXPECT_EQ(error_of("d.npy", npy("<f8", "(1, 1, 1, 2)", f64({1, 1e300})), sim::Shape{1, 1, 2}),
            "F: error: the array: value 1e+300 at index [0, 0, 0, 1] does not fit in float32");
}

TEST(NumpyData, DamagedHeadersAreRefusedWithTheirByte) {
  const std::optional<sim::Shape> in = sim::Shape{1, 1, 2};
  EXPECT_EQ(error_of("a.npy", "GIF89a-not-numpy", in),
            "F: error: not a NumPy .npy file (it does not start with \\x93NUMPY)");
  EXPECT_EQ(error_of("b.npy", "\x93NUMPY", in), "F: error: the file holds 6 bytes, less than a .npy header (10 bytes)");
  EXPECT_EQ(error_of("c.npy", "\x93NUMPY\x04\x00\x10\x00{}"s, in),
            "F: error: .npy format version 4.0 (bitsim reads versions 1, 2 and 3)");
  // The header length says more than the file holds.
  EXPECT_EQ(error_of("d.npy", "\x93NUMPY\x01\x00\xff\x00{'descr': '<f4'}"s, in),
            "F: error: the header length at byte 8 says 255 bytes from byte 10, past the end of the file (26 bytes)");
  EXPECT_EQ(error_of("e.npy", "\x93NUMPY\x02\x00\xff\xff\xff\x7f"s, in),
            "F: error: the header length at byte 8 says 2147483647 bytes from byte 12, past the end of the file (12 "
            "bytes)");
  // A shape whose product overflows 64 bits, and one that needs more data than there is.
  EXPECT_EQ(error_of("f.npy", npy("<f4", "(4294967296, 4294967296, 2)", f32({1, 2})), in),
            "F: error: shape [4294967296, 4294967296, 2] holds more than 2^64 values");
  EXPECT_EQ(error_of("g.npy", npy("<f4", "(2305843009213693952, 1, 1, 2)", ""), in),
            "F: error: shape [2305843009213693952, 1, 1, 2] of float32 needs more than 2^64 bytes of data, the file "
            "holds 0 after its 128-byte header");
  EXPECT_EQ(error_of("h.npy", npy("<f4", "(3, 1, 1, 2)", f32({1, 2, 3, 4, 5})), in),
            "F: error: shape [3, 1, 1, 2] of float32 needs 24 bytes of data, the file holds 20 after its 128-byte "
            "header");
  // Not numpy's dict.
  EXPECT_EQ(error_of("i.npy", header_only("{'a': "), in),
            "F: error: header byte 11: unknown key 'a' (a .npy header holds descr, fortran_order and shape)");
  EXPECT_EQ(error_of("j.npy", header_only("{'shape': (1, x)}"), in),
            "F: error: header byte 24: expected a size (a whole number), got 'x'");
  EXPECT_EQ(error_of("k.npy", header_only("{'shape': (1,)}"), in), "F: error: header: no key 'descr'");
  EXPECT_EQ(error_of("l.npy", header_only("{'fortran_order': Maybe}\n"), in),
            "F: error: header byte 28: expected True or False, got 'M'");
}

TEST(NumpyArchive, StoredAndDeflatedEntriesWithLabels) {
  const std::string images = npy("<f4", "(2, 1, 1, 3)", f32(counting(6)));
  for (const int method : {0, 8}) {
    for (const bool zip64 : {false, true}) {
      const std::string archive =
          zip({{"images.npy", images, method}, {"labels.npy", npy("<i8", "(2,)", ints({3, 0}, 8)), method}}, zip64);
      const Dataset d = load("a.npz", archive, sim::Shape{1, 1, 3});
      EXPECT_EQ(d.images, counting(6)) << method << zip64;
      EXPECT_EQ(d.labels, (std::vector<int>{3, 0})) << method << zip64;
      ASSERT_EQ(d.notes.size(), 2u);
      EXPECT_NE(d.notes[1].find("labels from array 'labels' (entry 'labels.npy'), int64 [2]"), std::string::npos)
          << d.notes[1];
    }
  }
  // 'x' and 'y', other entries skipped, int32 labels; :1 takes the first image and label.
  const std::string xy =
      zip({{"README.txt", "hello"}, {"y.npy", npy("<i4", "(2,)", ints({7, 1}, 4))}, {"x.npy", images, 8}});
  const Dataset d = load("b.npz", xy, sim::Shape{1, 1, 3}, ":1");
  EXPECT_EQ(d.count, 1);
  EXPECT_EQ(d.images, (std::vector<float>{0, 1, 2}));
  EXPECT_EQ(d.labels, (std::vector<int>{7}));
  // Unnamed: the only float array; no labels.
  const Dataset only = load("c.npz", zip({{"ids.npy", npy("<i8", "(3,)", ints({1, 2, 3}, 8))}, {"pixels.npy", images}}),
                            sim::Shape{1, 1, 3});
  EXPECT_EQ(only.images, counting(6));
  EXPECT_TRUE(only.labels.empty());
}

TEST(NumpyArchive, WrongArraysAreNamed) {
  const std::optional<sim::Shape> in = sim::Shape{1, 1, 3};
  const std::string images = npy("<f4", "(2, 1, 1, 3)", f32(counting(6)));
  EXPECT_EQ(error_of("a.npz", zip({{"a.npy", images}, {"b.npy", images}}), in),
            "F: error: no array named 'images' or 'x', and 2 float arrays: expected the images named 'images' or 'x' "
            "(the archive holds 'a' <f4 [2, 1, 1, 3], 'b' <f4 [2, 1, 1, 3])");
  EXPECT_EQ(error_of("b.npz", zip({{"images.npy", images}, {"x.npy", images}}), in),
            "F: error: the archive holds both 'images' and 'x': keep one of them");
  EXPECT_EQ(
      error_of("c.npz", zip({{"images.npy", images}, {"labels.npy", npy("<i8", "(3,)", ints({1, 2, 3}, 8))}}), in),
      "F: error: array 'labels' (entry 'labels.npy') has shape [3]: expected [2], one label per image of array "
      "'images' (entry 'images.npy')");
  EXPECT_EQ(error_of("d.npz", zip({{"images.npy", images}, {"labels.npy", npy("<f4", "(2,)", f32({1, 2}))}}), in),
            "F: error: array 'labels' (entry 'labels.npy') is float32: expected integer labels (int64, int32, uint8, "
            "...)");
  EXPECT_EQ(error_of("e.npz", zip({{"images.npy", images}, {"y.npy", npy("<i8", "(2,)", ints({1, -4}, 8))}}), in),
            "F: error: array 'y' (entry 'y.npy'): label -4 at index 1 is not a class number (0 to 2147483647)");
  EXPECT_EQ(error_of("f.npz", zip({{"notes.txt", "x"}}), in),
            "F: error: no array named 'images' or 'x', and 0 float arrays: expected the images named 'images' or 'x' "
            "(the archive holds no .npy entries)");
}

// Where a field of the first central directory record is: its signature plus `offset`.
std::size_t directory_field(const std::string& archive, std::size_t offset) {
  return archive.find("PK\x01\x02") + offset;
}

void put(std::string& bytes, std::size_t at, std::uint64_t v, int n) {
  bytes.replace(at, static_cast<std::size_t>(n), le(v, n));
}

TEST(NumpyArchive, DamagedArchivesAreRefusedWithTheirByte) {
  const std::optional<sim::Shape> in = sim::Shape{1, 1, 3};
  const std::string images = npy("<f4", "(2, 1, 1, 3)", f32(counting(6)));
  // Local header 40 bytes, entry 152 (a 128-byte header and 24 of data), directory 56 at 192, end at 248.
  const std::string good = zip({{"images.npy", images}});
  EXPECT_EQ(error_of("a.npz", "PK", in),
            "F: error: the file holds 2 bytes: not a zip archive (no end-of-central-directory record)");
  EXPECT_EQ(error_of("b.npz", std::string(100, 'x'), in),
            "F: error: not a zip archive (no end-of-central-directory record in its last 100 bytes)");
  EXPECT_EQ(error_of("c.npz", good.substr(0, good.size() - 1), in),
            "F: error: not a zip archive (no end-of-central-directory record in its last 269 bytes)");
  // The entry's compressed size past the end of the data.
  std::string long_entry = good;
  put(long_entry, directory_field(good, 20), 5000, 4);
  EXPECT_EQ(error_of("d.npz", long_entry, in),
            "F: error: entry 'images.npy': 5000 bytes of data from byte 40 run past the central directory at byte "
            "192");
  // Its local header offset past the directory, and at a place that holds no local header.
  std::string far = good;
  put(far, directory_field(good, 42), 4000000000, 4);
  EXPECT_EQ(error_of("e.npz", far, in),
            "F: error: entry 'images.npy': the local header at byte 4000000000 runs past the central directory at "
            "byte 192");
  std::string moved = good;
  put(moved, directory_field(good, 42), 2, 4);
  EXPECT_EQ(error_of("f.npz", moved, in),
            "F: error: entry 'images.npy': no local header at byte 2 (expected the signature PK\\3\\4)");
  // The directory's size or offset past the end record, a name past the directory's end.
  std::string dir = good;
  put(dir, good.find("PK\x05\x06") + 16, 240, 4);
  EXPECT_EQ(error_of("g.npz", dir, in),
            "F: error: the central directory (56 bytes from byte 240) runs past byte 248, where the end record starts");
  std::string name = good;
  put(name, directory_field(good, 28), 60000, 2);
  EXPECT_EQ(error_of("h.npz", name, in),
            "F: error: central directory record 1 at byte 192: its name, extra field and comment (60000 bytes) run "
            "past the directory's end (byte 248)");
  std::string count = good;
  put(count, good.find("PK\x05\x06") + 8, 2, 2);
  put(count, good.find("PK\x05\x06") + 10, 2, 2);
  EXPECT_EQ(error_of("i.npz", count, in),
            "F: error: central directory record 2 at byte 248 runs past the directory's end (byte 248)");
  // Another compression method, encryption, sizes that differ for a stored entry.
  std::string method = good;
  put(method, directory_field(good, 10), 12, 2);
  EXPECT_EQ(error_of("j.npz", method, in),
            "F: error: entry 'images.npy': compression method 12 (bitsim reads stored (0) and deflate (8))");
  std::string encrypted = good;
  put(encrypted, directory_field(good, 8), 1, 2);
  EXPECT_EQ(error_of("k.npz", encrypted, in),
            "F: error: entry 'images.npy': encrypted (bitsim reads unencrypted archives)");
  std::string sizes = good;
  put(sizes, directory_field(good, 24), 80, 4);
  EXPECT_EQ(error_of("l.npz", sizes, in),
            "F: error: entry 'images.npy': stored (not compressed), yet its sizes differ: 152 and 80 bytes");
  // A flipped data byte: the CRC-32 no longer matches once the entry was read whole.
  std::string flipped = good;
  flipped[40 + 128 + 5] ^= 0x01;  // 1.0f becomes 1.0000001f
  const auto crc = [](const std::string& bytes) {
    return crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
  };
  EXPECT_EQ(error_of("m.npz", flipped, in),
            fmt::format("F: error: entry 'images.npy': CRC-32 of the 152 bytes is {:08x}, the zip directory says "
                        "{:08x} (damaged data)",
                        crc(flipped.substr(40, 152)), crc(images)));
}

TEST(NumpyArchive, DamagedDeflateStreamsAreRefused) {
  const std::optional<sim::Shape> in = sim::Shape{1, 1, 3};
  const std::string images = npy("<f4", "(2, 1, 1, 3)", f32(counting(6)));
  // The directory says more than the stream holds (the npy header is read first, so it says the data's size).
  Entry longer{"images.npy", images, 8};
  longer.claimed_size = images.size() + 12;
  EXPECT_EQ(error_of("a.npz", zip({longer}), in),
            "F: error: entry 'images.npy': shape [2, 1, 1, 3] of float32 needs 24 bytes of data, the entry holds 36 "
            "after its 128-byte header");
  // A stream cut short: flushed, never ended.
  Entry cut{"images.npy", images, 8};
  cut.finish = false;
  EXPECT_EQ(error_of("b.npz", zip({cut}), in),
            fmt::format("F: error: entry 'images.npy': the deflated data ({} bytes) ends before the stream does, "
                        "after 152 of the 152 bytes the zip directory says",
                        deflate_raw(images, false).size()));
  // Garbage instead of deflate data.
  std::string garbage = zip({{"images.npy", images, 8}});
  garbage.replace(40, 4, "\xff\xff\xff\xff");
  EXPECT_NE(error_of("c.npz", garbage, in).find("entry 'images.npy': damaged deflate data ("), std::string::npos)
      << error_of("c2.npz", garbage, in);
}

// A deflated entry that claims 1.6 GB of images (within the 4 GiB of a plain zip): refused up front
// with the figure, and its first images read without inflating the rest (the stream holds only them).
TEST(NumpyArchive, TheSizeLimitIsCheckedBeforeReading) {
  const std::string header = npy("<f4", "(100000000, 1, 2, 2)", "");
  Entry big{"images.npy", header + f32(counting(16 * 4)), 8};
  big.claimed_size = header.size() + std::uint64_t{100000000} * 16;
  big.finish = false;
  const std::string archive = zip({big});
  EXPECT_EQ(error_of("a.npz", archive, sim::Shape{1, 2, 2}),
            "F: error: array 'images' (entry 'images.npy'): 100000000 images of 4 values are 1600000000 bytes as "
            "float32, over the limit of 1073741824 bytes (1 GiB): take fewer with F:N");
  const Dataset d = load("b.npz", archive, sim::Shape{1, 2, 2}, ":16");
  EXPECT_EQ(d.count, 16);
  EXPECT_EQ(d.images, counting(64));
  EXPECT_EQ(error_of("c.npz", archive, sim::Shape{1, 2, 2}, ":17"),
            fmt::format("F: error: entry 'images.npy': the deflated data ({} bytes) ends before the stream does, "
                        "after 384 of the 1600000128 bytes the zip directory says",
                        deflate_raw(big.data, false).size()));
}

TEST(NumpyData, BadSpecsAreNamed) {
  const auto spec_error = [](const std::string& spec, std::optional<sim::Shape> in = sim::Shape{1, 2, 2}) {
    try {
      load_dataset(spec, in);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(spec_error("missing.npz"), "missing.npz: error: cannot open file for reading");
  EXPECT_EQ(spec_error("x.npz:0"),
            "error: --data: expected PATH.npy or PATH.npz, then optionally :N (the first N >= 1 images) and :nchw or "
            ":nhwc (the layout), got 'x.npz:0'");
  EXPECT_EQ(spec_error("x.npy:4:nhwc:nchw"),
            "error: --data: expected PATH.npy or PATH.npz, then optionally :N (the first N >= 1 images) and :nchw or "
            ":nhwc (the layout), got 'x.npy:4:nhwc:nchw'");
  EXPECT_EQ(spec_error("random:0"),
            "error: --data: expected random:N or random:N:SEED (N >= 1 images, SEED >= 0), got 'random:0'");
  EXPECT_EQ(spec_error("random:2:-1"),
            "error: --data: expected random:N or random:N:SEED (N >= 1 images, SEED >= 0), got 'random:2:-1'");
  EXPECT_EQ(spec_error("random:2", std::nullopt),
            "error: --data random:N needs the model's input shape (it draws images of that shape)");
  EXPECT_EQ(spec_error("random:100000000"),
            "error: --data random:100000000: 100000000 images of 4 values are 1600000000 bytes as float32, over the "
            "limit of 1073741824 bytes (1 GiB): ask for fewer");
  if (have_fashion_mnist()) {
    EXPECT_EQ(spec_error("fashion-mnist:2"),
              "error: data set 'fashion-mnist:2': images are 1x28x28, the model's input is 1x2x2; a model of other "
              "inputs needs its own images (--data, and allocate's --eval-data): PATH.npy, PATH.npz, a folder "
              "DIR[:N][:SPEC.yaml], or random:N[:SEED] (synthetic)");
  }
}

TEST(RandomData, SeededSyntheticAndTheSameEveryTime) {
  const sim::Shape in{3, 4, 5};
  const Dataset a = load_dataset("random:6", in), b = load_dataset("random:6:0", in);
  EXPECT_EQ(a.name, "random:6:0 (synthetic)");
  EXPECT_EQ(a.count, 6);
  EXPECT_EQ(a.shape, in);
  EXPECT_TRUE(a.labels.empty());
  ASSERT_EQ(a.images.size(), 6u * 60);
  EXPECT_EQ(a.images, b.images);  // bit for bit
  for (float v : a.images) ASSERT_TRUE(v >= 0 && v < 1) << v;
  const Dataset c = load_dataset("random:6:1", in);
  EXPECT_EQ(c.name, "random:6:1 (synthetic)");
  EXPECT_NE(a.images, c.images);
  // The first image of 6 is the first image of 2: one stream, cut.
  const Dataset two = load_dataset("random:2", in);
  EXPECT_TRUE(std::equal(two.images.begin(), two.images.end(), a.images.begin()));
  // std::mt19937_64 seeded with 0: its first output is 2947667278772165694 (computed with the
  // reference algorithm, mt19937-64.c, in Python, which also gives the standard's check value
  // 9981545732273789042 for the 10000th output of the default seed), whose top 24 bits are 2680887.
  EXPECT_EQ(a.images[0], 2680887.0f / 16777216.0f);
  double mean = 0;
  for (float v : a.images) mean += v;
  EXPECT_NEAR(mean / static_cast<double>(a.images.size()), 0.5, 0.05);
}

TEST(DatasetIdentity, AFileIsKeyedByItsBytes) {
  EXPECT_EQ(dataset_identity("fashion-mnist-train:64"), "fashion-mnist-train:64");
  EXPECT_EQ(dataset_identity("random:8:2"), "random:8:2");
  const std::string path = testing::temp_path("a.npy");
  const auto write = [&](const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
    return dataset_identity(path + ":4");
  };
  const std::string one = write(npy("<f4", "(1, 1, 1, 1)", f32({1})));
  EXPECT_EQ(one.rfind(path + ":4|fnv1a64=", 0), 0u) << one;
  EXPECT_EQ(write(npy("<f4", "(1, 1, 1, 1)", f32({1}))), one);
  EXPECT_NE(write(npy("<f4", "(1, 1, 1, 1)", f32({2}))), one);
  const std::string folder = testing::temp_path("f.npz");
  std::filesystem::create_directory(folder);
  for (const auto& read : {std::function<void()>([&] { dataset_identity(folder); }), std::function<void()>([&] {
                             load_dataset(folder, sim::Shape{1, 1, 1});
                           })}) {
    try {
      read();
      ADD_FAILURE() << "expected an InputError";
    } catch (const InputError& e) {
      EXPECT_EQ(testing::scrub(e.what(), folder), "F: error: is a folder, not a file");
    }
  }
}

// tools/scripts/make_numpy_data.py wrote the first 16 Fashion-MNIST test images with numpy itself:
// compressed NCHW with int64 'labels', and stored NHWC as 'x' with uint8 'y'. Both read bit for bit
// as bitsim reads the IDX files.
TEST(NumpyArchive, WrittenByNumpyMatchesTheIdxFiles) {
  const sim::Shape in{1, 28, 28};
  const Dataset nchw = load_dataset(kSource + "/tests/data/numpy/fmnist16.npz", in);
  const Dataset nhwc = load_dataset(kSource + "/tests/data/numpy/fmnist16_nhwc.npz", in);
  EXPECT_EQ(nchw.count, 16);
  EXPECT_EQ(nchw.labels, (std::vector<int>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5, 7, 3, 4, 1}));
  EXPECT_EQ(nhwc.labels, nchw.labels);
  EXPECT_EQ(nhwc.images, nchw.images);
  EXPECT_NE(nhwc.notes[0].find("read as NHWC"), std::string::npos) << nhwc.notes[0];
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const Dataset idx = load_dataset("fashion-mnist:16", in);
  EXPECT_EQ(nchw.images, idx.images);
  EXPECT_EQ(nchw.labels, idx.labels);
}

TEST(MeasurePlan, AgreementAndSqnrOnHandCheckedRows) {
  // Rows 0 and 2 have their largest entry at the same place, row 1 does not: 2 of 3.
  const std::vector<float> a = {1, 5, 2, 9, 0, 0, 3, 3.5f, 1}, b = {0, 4, 1, 1, 2, 0, 2, 7, 6};
  EXPECT_DOUBLE_EQ(top1_agreement(a, b, 3), 2.0 / 3.0);
  EXPECT_EQ(top1_agreement(a, a, 3), 1.0);
  // Signal 3^2 + 4^2 = 25, noise 1^2: 10 log10(25) dB.
  EXPECT_DOUBLE_EQ(sqnr_db(std::vector<float>{3, 4}, std::vector<float>{3, 3}), 10 * std::log10(25.0));
  EXPECT_EQ(sqnr_db(std::vector<float>{3, 4}, std::vector<float>{3, 4}), std::numeric_limits<double>::infinity());
}

// Without labels, measuring reports how often the plan's top-1 is the float network's, and the SQNR.
// Measured on random:32 with seeds 1 to 5: at 8 bits SQNR 27.8 to 28.4 dB, agreement 1; at 2 bits
// (seed 3) 1.1 dB and agreement 0 (on noise the float network names one class, the 2-bit one another).
TEST(MeasurePlan, WithoutLabelsTopOneAgreement) {
  const sim::Network net = sim::load_workload(kModel);
  const Dataset data = load_dataset("random:32:3", net.layer(0).output);
  const study::PlanMeasurement f = study::measure_plan(net, nullptr, data, {}, 0);
  EXPECT_FALSE(f.labelled);
  EXPECT_EQ(f.agreement, 1.0);
  EXPECT_EQ(f.output_mse, 0.0);
  EXPECT_EQ(f.output_sqnr_db, std::numeric_limits<double>::infinity());
  // 8 bits: nearly the float network; 2 bits: much further from it.
  const sim::BitPlan p8 = sim::BitPlan::uniform(net, 8, 8), p2 = sim::BitPlan::uniform(net, 2, 2);
  const study::PlanMeasurement q8 = study::measure_plan(net, &p8, data, data.images, data.count);
  const study::PlanMeasurement q2 = study::measure_plan(net, &p2, data, data.images, data.count);
  EXPECT_GT(q8.output_sqnr_db, 20.0);
  EXPECT_GT(q8.output_sqnr_db, q2.output_sqnr_db + 10.0);
  EXPECT_GE(q8.agreement, 0.9);
  EXPECT_GT(q8.agreement, q2.agreement);
}

// allocate --model: the record carries accuracy with labels, agreement and SQNR without.
TEST(MeasurePlan, TheAllocationRecordSaysWhichItMeasured) {
  const RateDistortionCurves curves;
  study::AllocationOutcome o;
  o.solver = &find_solver("equal");
  o.curves = &curves;
  o.eval_data = "d";
  o.measured.emplace();
  o.measured->accuracy = 0.75;
  o.measured->agreement = 0.5;
  o.measured->output_sqnr_db = 12.5;
  const auto text = [&] {
    std::ostringstream out;
    study::allocation_record(o).write_text(out);
    return out.str();
  };
  const std::string labelled = text();
  EXPECT_NE(labelled.find("\naccuracy "), std::string::npos) << labelled;
  EXPECT_NE(labelled.find("\nfloat_accuracy "), std::string::npos) << labelled;
  EXPECT_EQ(labelled.find("agreement"), std::string::npos) << labelled;
  o.measured->labelled = false;
  const std::string unlabelled = text();
  EXPECT_EQ(unlabelled.find("accuracy"), std::string::npos) << unlabelled;
  EXPECT_NE(unlabelled.find("\ntop1_agreement "), std::string::npos) << unlabelled;
  EXPECT_NE(unlabelled.find("\nmeasured_output_sqnr_db "), std::string::npos) << unlabelled;
  EXPECT_NE(unlabelled.find("12.5"), std::string::npos) << unlabelled;
}

}  // namespace
}  // namespace bitsim::alloc
