// Dataset loading: Fashion-MNIST IDX files (gzip) from Debian's dataset-fashion-mnist, NumPy .npy and
// .npz files (alloc/npy.h), folders of PNG/JPEG images (alloc/image_data.h), and seeded synthetic
// images.
#include "alloc/dataset.h"

#include <fmt/format.h>
#include <zlib.h>
#include <charconv>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "alloc/image_data.h"
#include "alloc/npy.h"
#include "sim/base/checked.h"
#include "sim/base/diagnostics.h"
#include "sim/base/text.h"

namespace bitsim::alloc {
namespace {

const char* kFashionMnist = "/usr/share/datasets/fashion-mnist";

enum class Layout { Nchw, Nhwc };

// A --data spec taken apart.
struct DataSpec {
  enum class Kind { FashionMnist, Npy, Npz, ImageFolder, Random };
  Kind kind = Kind::FashionMnist;
  std::string name;         // fashion-mnist: the set's name; files: the path
  std::int64_t limit = -1;  // the first N images; -1: all
  std::optional<Layout> layout;
  std::uint64_t seed = 0;
  ImageFolderSpec folder;
};

// Where ".npy" or ".npz" ends the path: followed by the end or by ':'.
std::optional<std::size_t> numpy_path_end(const std::string& spec) {
  std::optional<std::size_t> end;
  for (const char* ext : {".npy", ".npz"})
    for (std::size_t at = spec.find(ext); at != std::string::npos; at = spec.find(ext, at + 1))
      if (at > 0 && (at + 4 == spec.size() || spec[at + 4] == ':') && (!end || at + 4 > *end)) end = at + 4;
  return end;
}

DataSpec parse_spec(const std::string& spec) {
  DataSpec s;
  if (spec.rfind("random:", 0) == 0) {
    s.kind = DataSpec::Kind::Random;
    const std::string rest = spec.substr(7);
    const std::size_t colon = rest.find(':');
    const auto n = parse_integer(rest.substr(0, colon));
    const auto seed =
        colon == std::string::npos ? std::optional<std::int64_t>(0) : parse_integer(rest.substr(colon + 1));
    if (!n || *n < 1 || !seed || *seed < 0)
      throw InputError(
          {}, fmt::format("--data: expected random:N or random:N:SEED (N >= 1 images, SEED >= 0), got '{}'", spec));
    s.limit = *n;
    s.seed = static_cast<std::uint64_t>(*seed);
    return s;
  }
  if (const auto end = numpy_path_end(spec)) {
    s.kind = spec.compare(*end - 4, 4, ".npy") == 0 ? DataSpec::Kind::Npy : DataSpec::Kind::Npz;
    s.name = spec.substr(0, *end);
    std::size_t at = *end;
    while (at < spec.size()) {
      const std::size_t next = std::min(spec.find(':', at + 1), spec.size());
      const std::string token = spec.substr(at + 1, next - at - 1);
      at = next;
      if ((token == "nchw" || token == "nhwc") && !s.layout) {
        s.layout = token == "nchw" ? Layout::Nchw : Layout::Nhwc;
        continue;
      }
      const auto n = parse_integer(token);
      if (n && *n >= 1 && s.limit < 0) {
        s.limit = *n;
        continue;
      }
      throw InputError({}, fmt::format("--data: expected PATH.npy or PATH.npz, then optionally :N (the first N >= 1 "
                                       "images) and :nchw or :nhwc (the layout), got '{}'",
                                       spec));
    }
    return s;
  }
  const auto colon = spec.find(':');
  s.name = spec.substr(0, colon);
  const bool named = s.name == "fashion-mnist" || s.name == "fashion-mnist-train";
  if (!named) {
    if (auto folder = parse_image_folder_spec(spec)) {
      s.kind = DataSpec::Kind::ImageFolder;
      s.folder = std::move(*folder);
      return s;
    }
    std::error_code ec;
    if (std::filesystem::exists(spec, ec))
      throw InputError({spec, 0, 0},
                       "is a file, not a folder: --data reads PATH.npy, PATH.npz, or a folder of PNG "
                       "and JPEG images (DIR[:N][:SPEC.yaml])");
  }
  if (colon != std::string::npos) {
    s.limit = parse_integer(spec.substr(colon + 1)).value_or(0);
    if (s.limit < 1) throw InputError({}, fmt::format("--data: expected NAME or NAME:N with N >= 1, got '{}'", spec));
  }
  if (!named)
    throw InputError({}, fmt::format("--data: unknown data set '{}'; expected fashion-mnist or fashion-mnist-train "
                                     "(optionally :N for the first N images), PATH.npy, PATH.npz, a folder of images "
                                     "DIR[:N][:SPEC.yaml] or random:N[:SEED]",
                                     s.name));
  return s;
}

std::string shape_name(const sim::Shape& s) { return fmt::format("{}x{}x{}", s.channels, s.height, s.width); }

Dataset load_fashion_mnist(const DataSpec& s, const std::string& spec) {
  const std::string prefix = s.name == "fashion-mnist" ? "t10k" : "train";
  std::vector<std::uint32_t> idims, ldims;
  const auto pixels = read_idx(fmt::format("{}/{}-images-idx3-ubyte.gz", kFashionMnist, prefix), idims);
  const auto labels = read_idx(fmt::format("{}/{}-labels-idx1-ubyte.gz", kFashionMnist, prefix), ldims);
  if (idims.size() != 3 || ldims.size() != 1 || idims[0] != ldims[0])
    throw InputError({kFashionMnist, 0, 0}, "image and label files do not match");
  Dataset d;
  d.name = spec;
  d.count = static_cast<int>(s.limit > 0 ? std::min<std::int64_t>(s.limit, idims[0]) : idims[0]);
  d.shape = {1, idims[1], idims[2]};
  const std::size_t per = static_cast<std::size_t>(idims[1]) * idims[2];
  d.images.resize(static_cast<std::size_t>(d.count) * per);
  for (std::size_t i = 0; i < d.images.size(); ++i) d.images[i] = static_cast<float>(pixels[i]) / 255.0f;
  d.labels.assign(labels.begin(), labels.begin() + d.count);
  return d;
}

// The array of an .npz archive named `a` or `b` (one of them at most), or null.
const NpyArray* named_array(const std::vector<NpyArray>& arrays, const char* a, const char* b) {
  const NpyArray* found = nullptr;
  for (const NpyArray& x : arrays) {
    if (x.name != a && x.name != b) continue;
    if (found)
      throw InputError({x.file, 0, 0}, fmt::format("the archive holds both '{}' and '{}': keep one of them", a, b));
    found = &x;
  }
  return found;
}

std::string describe(const NpyArray& a) { return fmt::format("'{}' {} {}", a.name, a.descr, a.shape_text()); }

// The images of an archive: 'images' or 'x', else its only float array other than the labels.
const NpyArray& images_of(const std::string& path, const std::vector<NpyArray>& arrays, const NpyArray* labels) {
  if (const NpyArray* named = named_array(arrays, "images", "x")) return *named;
  std::vector<const NpyArray*> floats;
  for (const NpyArray& a : arrays)
    if (&a != labels && a.dtype && npy_is_float(*a.dtype)) floats.push_back(&a);
  if (floats.size() == 1) return *floats.front();
  std::vector<std::string> all;
  all.reserve(arrays.size());
  for (const NpyArray& a : arrays) all.push_back(describe(a));
  throw InputError(
      {path, 0, 0},
      fmt::format("no array named 'images' or 'x', and {} float arrays: expected the images named 'images' "
                  "or 'x' (the archive holds {})",
                  floats.size(),
                  all.empty() ? std::string("no .npy entries") : fmt::format("{}", fmt::join(all, ", "))));
}

// "[i, a, b, c]": the index in the array's own layout of value `j` of image `i`.
std::string index_text(const NpyArray& a, std::uint64_t i, std::uint64_t j) {
  std::vector<std::uint64_t> index(a.shape.size());
  index[0] = i;
  for (std::size_t k = a.shape.size(); k-- > 1;) {
    index[k] = j % a.shape[k];
    j /= a.shape[k];
  }
  return fmt::format("[{}]", fmt::join(index, ", "));
}

// The per-image shape of `a` ([N, C, H, W], [N, H, W, C] or [N, H, W]) and whether it is NHWC.
std::pair<sim::Shape, Layout> image_layout(const NpyArray& a, const DataSpec& s, const std::optional<sim::Shape>& input,
                                           std::vector<std::string>& notes) {
  const auto dim = [&](std::size_t k) { return static_cast<std::int64_t>(a.shape[k]); };
  const auto fail = [&](const std::string& message) { throw InputError({a.file, 0, 0}, message); };
  const std::string input_text = input ? shape_name(*input) : std::string();
  if (a.shape.size() == 3) {
    const sim::Shape shape{1, dim(1), dim(2)};
    if (input && !(shape == *input))
      fail(fmt::format("{} {} is [N, H, W], one channel of {}x{}; the model's input is {}", a.label(), a.shape_text(),
                       dim(1), dim(2), input_text));
    return {shape, Layout::Nchw};
  }
  const sim::Shape nchw{dim(1), dim(2), dim(3)}, nhwc{dim(3), dim(1), dim(2)};
  if (s.layout) {
    const sim::Shape shape = *s.layout == Layout::Nchw ? nchw : nhwc;
    if (input && !(shape == *input))
      fail(fmt::format("{} {} read as {} holds images of {}; the model's input is {}", a.label(), a.shape_text(),
                       *s.layout == Layout::Nchw ? "NCHW" : "NHWC", shape_name(shape), input_text));
    return {shape, *s.layout};
  }
  if (!input) {
    notes.emplace_back("no model shape to match: a 4-D array is read as NCHW");
    return {nchw, Layout::Nchw};
  }
  const bool as_nchw = nchw == *input, as_nhwc = nhwc == *input;
  if (as_nchw && as_nhwc)
    fail(fmt::format("{} {}: both NCHW and NHWC match the model's input {}: add :nchw or :nhwc to --data", a.label(),
                     a.shape_text(), input_text));
  if (!as_nchw && !as_nhwc)
    fail(
        fmt::format("{} {} is neither [N, C, H, W] = [N, {}, {}, {}] (NCHW) nor [N, H, W, C] = [N, {}, {}, {}] "
                    "(NHWC) for the model's input {}",
                    a.label(), a.shape_text(), input->channels, input->height, input->width, input->height,
                    input->width, input->channels, input_text));
  return {*input, as_nchw ? Layout::Nchw : Layout::Nhwc};
}

Dataset load_numpy(const DataSpec& s, const std::string& spec, const std::optional<sim::Shape>& input) {
  std::vector<NpyArray> arrays;
  if (s.kind == DataSpec::Kind::Npy)
    arrays.push_back(open_npy(s.name));
  else
    arrays = open_npz(s.name);
  const NpyArray* labels = s.kind == DataSpec::Kind::Npz ? named_array(arrays, "labels", "y") : nullptr;
  const NpyArray& images = s.kind == DataSpec::Kind::Npy ? arrays.front() : images_of(s.name, arrays, labels);
  const auto fail = [&](const std::string& message) { throw InputError({s.name, 0, 0}, message); };

  if (!images.dtype || !npy_is_float(*images.dtype))
    fail(
        fmt::format("{} is {}: expected float32 (or float64) images; convert them with the model's preprocessing, "
                    "e.g. x.astype(np.float32) / 255",
                    images.label(), images.dtype ? std::string(npy_dtype_name(*images.dtype)) : images.descr));
  if (images.fortran_order)
    fail(fmt::format("{} is in Fortran order: save a C-order array (np.ascontiguousarray)", images.label()));
  if (images.shape.size() != 3 && images.shape.size() != 4)
    fail(fmt::format("{} has shape {}: expected [N, C, H, W], [N, H, W, C] or [N, H, W]", images.label(),
                     images.shape_text()));
  const std::uint64_t n = images.shape[0];
  if (n == 0 || images.values == 0)
    fail(fmt::format("{} has shape {}: it holds no images", images.label(), images.shape_text()));
  const std::uint64_t count = s.limit > 0 ? std::min(static_cast<std::uint64_t>(s.limit), n) : n;
  const std::uint64_t per = images.values / n;
  check_data_bytes(s.name, images.label(), count, per,
                   fmt::format("take fewer with {}:N", s.name));  // every dimension now fits easily in an int64

  Dataset d;
  d.name = spec;
  d.count = static_cast<int>(count);
  const auto [shape, layout] = image_layout(images, s, input, d.notes);
  d.shape = shape;

  // Image by image: read, convert, check, and transpose NHWC to NCHW.
  const NpyDtype dtype = *images.dtype;
  const std::size_t values = static_cast<std::size_t>(per);
  std::vector<unsigned char> raw(values * npy_dtype_bytes(dtype));
  std::vector<float> converted(values);
  d.images.resize(static_cast<std::size_t>(count) * values);
  const std::size_t channels = static_cast<std::size_t>(shape.channels);
  const std::size_t pixels = static_cast<std::size_t>(shape.height * shape.width);
  for (std::uint64_t i = 0; i < count; ++i) {
    images.data->read(raw);
    npy_to_float(dtype, raw.data(), values, converted.data());
    for (std::size_t j = 0; j < values; ++j) {
      if (std::isfinite(converted[j])) continue;
      const double original = npy_value(dtype, &raw[j * npy_dtype_bytes(dtype)]);
      fail(fmt::format("{}: value {} at index {} {}", images.label(), original, index_text(images, i, j),
                       std::isfinite(original) ? "does not fit in float32" : "is not a finite number"));
    }
    float* out = d.images.data() + static_cast<std::size_t>(i) * values;
    if (layout == Layout::Nchw) {
      std::copy(converted.begin(), converted.end(), out);
    } else {
      for (std::size_t p = 0; p < pixels; ++p)
        for (std::size_t c = 0; c < channels; ++c) out[c * pixels + p] = converted[p * channels + c];
    }
  }

  std::string note =
      fmt::format("{}: images from {}, {} {}", s.name, images.label(), npy_dtype_name(dtype), images.shape_text());
  note += images.shape.size() == 3 ? ", one channel"
          : layout == Layout::Nchw ? ", read as NCHW"
                                   : ", read as NHWC (transposed to NCHW)";
  if (count < n) note += fmt::format(", the first {} of {}", count, n);
  if (dtype == NpyDtype::Float64) note += ", float64 rounded to float32";
  d.notes.push_back(note);

  if (!labels) {
    d.notes.push_back(
        fmt::format("{}: no labels (an .npz array named 'labels' or 'y'): top-1 agreement with the float "
                    "model is reported instead of accuracy",
                    s.name));
    return d;
  }
  if (!labels->dtype || npy_is_float(*labels->dtype))
    fail(fmt::format("{} is {}: expected integer labels (int64, int32, uint8, ...)", labels->label(),
                     labels->dtype ? std::string(npy_dtype_name(*labels->dtype)) : labels->descr));
  if (labels->shape.size() != 1 || labels->shape[0] != n)
    fail(fmt::format("{} has shape {}: expected [{}], one label per image of {}", labels->label(), labels->shape_text(),
                     n, images.label()));
  std::vector<unsigned char> label_raw(static_cast<std::size_t>(count) * npy_dtype_bytes(*labels->dtype));
  labels->data->read(label_raw);
  std::vector<std::int64_t> values64(static_cast<std::size_t>(count));
  const bool fits = npy_to_int64(*labels->dtype, label_raw.data(), values64.size(), values64.data());
  for (std::size_t i = 0; i < values64.size(); ++i)
    if (!fits || values64[i] < 0 || values64[i] > INT_MAX)
      fail(fmt::format("{}: label {} at index {} is not a class number (0 to {})", labels->label(),
                       fits ? fmt::format("{}", values64[i]) : std::string("beyond 2^63"), i, INT_MAX));
  d.labels.assign(values64.begin(), values64.end());
  d.notes.push_back(fmt::format("{}: labels from {}, {} {}", s.name, labels->label(), npy_dtype_name(*labels->dtype),
                                labels->shape_text()));
  return d;
}

Dataset load_random(const DataSpec& s, const std::optional<sim::Shape>& input) {
  if (!input) throw InputError({}, "--data random:N needs the model's input shape (it draws images of that shape)");
  const std::uint64_t count = static_cast<std::uint64_t>(s.limit);
  check_data_bytes("", fmt::format("--data random:{}", s.limit), count, static_cast<std::uint64_t>(input->count()),
                   "ask for fewer");
  Dataset d;
  d.name = fmt::format("random:{}:{} (synthetic)", s.limit, s.seed);
  d.count = static_cast<int>(count);
  d.shape = *input;
  d.images.resize(static_cast<std::size_t>(count * static_cast<std::uint64_t>(input->count())));
  // The top 24 bits of each draw, scaled: exact float32 values in [0, 1), the same with any standard
  // library (std::mt19937_64's sequence is fixed by the standard; its distributions are not).
  std::mt19937_64 generator(s.seed);
  for (float& v : d.images) v = static_cast<float>(generator() >> 40) * 0x1p-24f;
  d.notes.push_back(
      fmt::format("{}: uniform in [0, 1) from std::mt19937_64 seeded with {}; no labels: top-1 agreement with "
                  "the float model is reported instead of accuracy",
                  d.name, s.seed));
  return d;
}

}  // namespace

void check_data_bytes(const std::string& file, const std::string& what, std::uint64_t count, std::uint64_t per,
                      const std::string& fewer) {
  const std::optional<std::uint64_t> bytes = checked_mul(checked_mul(count, per), std::uint64_t{sizeof(float)});
  if (!bytes || *bytes > kMaxDataBytes)
    throw InputError(
        {file, 0, 0},
        fmt::format("{}: {} images of {} values are {} bytes as float32, over the limit of {} bytes (1 GiB): "
                    "{}",
                    what, count, per, bytes ? fmt::format("{}", *bytes) : std::string("more than 2^64"), kMaxDataBytes,
                    fewer));
}

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

void check_input_shape(const Dataset& d, const std::optional<sim::Shape>& input) {
  if (!input || d.shape == *input) return;
  // Fashion-MNIST is the default --data: a model of other images needs its own, and the message says how.
  const bool fashion = d.name.starts_with("fashion-mnist");
  throw InputError({}, fmt::format("data set '{}': images are {}, the model's input is {}{}", d.name,
                                   shape_name(d.shape), shape_name(*input),
                                   fashion ? "; a model of other inputs needs its own images (--data, and allocate's "
                                             "--eval-data): PATH.npy, PATH.npz, a folder DIR[:N][:SPEC.yaml], or "
                                             "random:N[:SEED] (synthetic)"
                                           : ""));
}

Dataset load_dataset(const std::string& spec, const std::optional<sim::Shape>& input) {
  const DataSpec s = parse_spec(spec);
  Dataset d;
  switch (s.kind) {
    case DataSpec::Kind::FashionMnist:
      d = load_fashion_mnist(s, spec);
      break;
    case DataSpec::Kind::Npy:
    case DataSpec::Kind::Npz:
      d = load_numpy(s, spec, input);
      break;
    case DataSpec::Kind::ImageFolder:
      d = load_image_folder(s.folder, spec, input);
      break;
    case DataSpec::Kind::Random:
      d = load_random(s, input);
      break;
  }
  check_input_shape(d, input);
  return d;
}

namespace {

// FNV-1a 64 of `bytes`, continuing from `h`.
std::uint64_t fnv1a(std::uint64_t h, const char* bytes, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(bytes[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t fnv1a_file(std::uint64_t h, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError({path, 0, 0}, "is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path, 0, 0}, "cannot open file for reading");
  std::vector<char> buffer(std::size_t{1} << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    h = fnv1a(h, buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw InputError({path, 0, 0}, "cannot read the file");
  return h;
}

}  // namespace

std::string dataset_identity(const std::string& spec) {
  const DataSpec s = parse_spec(spec);
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  if (s.kind == DataSpec::Kind::ImageFolder) {
    // Each file's name (with its terminating zero) and bytes: a file renamed, moved to another class
    // folder, or changed is other data.
    for (const auto& [name, path] : image_folder_files(s.folder)) {
      h = fnv1a(h, name.c_str(), name.size() + 1);
      h = fnv1a_file(h, path);
    }
    return fmt::format("{}|fnv1a64={:016x}", spec, h);
  }
  if (s.kind != DataSpec::Kind::Npy && s.kind != DataSpec::Kind::Npz) return spec;
  return fmt::format("{}|fnv1a64={:016x}", spec, fnv1a_file(h, s.name));
}

}  // namespace bitsim::alloc
