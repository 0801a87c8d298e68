// Image folders as data: the preprocessing spec (YAML, located errors), the folder's listing, labels
// from class folders or a CSV file, and the preprocessing arithmetic (channels, bilinear resize,
// centre crop, scale, mean, std).
#include "alloc/image_data.h"

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cfloat>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "sim/base/diagnostics.h"
#include "sim/base/text.h"
#include "sim/base/yaml_fields.h"

namespace bitsim::alloc {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSpecName = "preprocess.yaml";

// The table the parser takes its keys from and the README documents (STYLE 9).
constexpr std::array<ImageParam, 8> kParams = {{
    {"resize", "S or [H, W]", "none",
     "S: the shorter side to S pixels, the aspect ratio kept (the longer side rounded down); [H, W]: exactly H x W. "
     "Bilinear on half-pixel centres, no antialiasing"},
    {"crop", "S or [H, W]", "none",
     "the centred H x W window (S: S x S) of the resized image; offsets rounded down. It must be the model's input "
     "height and width"},
    {"channels", "rgb, bgr or gray", "the model's: gray for 1 channel, rgb for 3",
     "the channels the model reads, in order; gray is 0.299 R + 0.587 G + 0.114 B (BT.601), a gray image gives "
     "3 equal channels to rgb and bgr"},
    {"scale", "number or A/B", "1/255", "each 8-bit value (0 to 255) is multiplied by it first"},
    {"mean", "number or [one per channel]", "0", "subtracted after scaling; per channel, in the order of `channels`"},
    {"std", "number > 0 or [one per channel]", "1", "divides after the mean is subtracted; per channel"},
    {"labels", "path of a CSV file", "class folders, if the images are in subfolders; else none",
     "a CSV file with the header file,label (a path relative to the image folder, a class number); relative to the "
     "spec's folder"},
    {"classes", "[names]", "the subfolders' names, sorted",
     "the class folders' names by class number (class 0 first); every subfolder must be one of them, and a class "
     "may have no folder"},
}};

std::vector<std::string> param_keys() {
  std::vector<std::string> keys;
  keys.reserve(kParams.size());
  for (const ImageParam& p : kParams) keys.emplace_back(p.key);
  return keys;
}

std::string size_text(const std::array<std::int64_t, 2>& hw) { return fmt::format("[{}, {}]", hw[0], hw[1]); }

std::string shape_text(const sim::Shape& s) { return fmt::format("{}x{}x{}", s.channels, s.height, s.width); }

std::string number_list(const std::vector<double>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); }

// resize or crop: S (returned in `single`) or [H, W] (in `pair`), each from 1 to kMaxImagePixels,
// H x W at most kMaxImagePixels.
void read_size(const yaml::Reader& r, const YAML::Node& node, const std::string& key,
               std::optional<std::int64_t>& single, std::optional<std::array<std::int64_t, 2>>& pair) {
  const auto max = static_cast<std::int64_t>(kMaxImagePixels);
  if (node.IsScalar()) {
    single = r.integer(node, key, 1, max);
    return;
  }
  if (!node.IsSequence() || node.size() != 2) {
    r.diag.expected(yaml::where(r.file, node), key, "S (an integer >= 1) or [H, W] (two integers >= 1)",
                    node.IsSequence() ? fmt::format("a list of {}", node.size()) : yaml::describe(node));
    return;
  }
  const auto h = r.integer(node[0], key + "[0]", 1, max), w = r.integer(node[1], key + "[1]", 1, max);
  if (!h || !w) return;
  const auto pixels = static_cast<std::uint64_t>(*h) * static_cast<std::uint64_t>(*w);
  if (pixels > kMaxImagePixels) {
    r.diag.error(yaml::where(r.file, node),
                 fmt::format("{}: [{}, {}] is {} pixels, over the limit of {} pixels (8192 x 8192) per image", key, *h,
                             *w, pixels, kMaxImagePixels));
    return;
  }
  pair = std::array<std::int64_t, 2>{*h, *w};
}

// mean or std: one number, or a list of numbers (their count is checked later, against the channels).
std::optional<std::vector<double>> read_numbers(const yaml::Reader& r, const YAML::Node& node, const std::string& key,
                                                bool positive) {
  const std::string expected = positive ? "a number > 0" : "a number";
  const auto one = [&](const YAML::Node& n, const std::string& path) -> std::optional<double> {
    const auto v = n.IsScalar() ? parse_number(n.Scalar()) : std::nullopt;
    if (!v || (positive && !(*v > 0))) {
      r.diag.expected(yaml::where(r.file, n), path, expected, yaml::describe(n));
      return std::nullopt;
    }
    return v;
  };
  if (node.IsScalar()) {
    const auto v = one(node, key);
    return v ? std::optional<std::vector<double>>(std::vector<double>{*v}) : std::nullopt;
  }
  if (!node.IsSequence() || node.size() == 0) {
    r.diag.expected(yaml::where(r.file, node), key, fmt::format("{} or a list of them (one per channel)", expected),
                    node.IsSequence() ? std::string("an empty list") : yaml::describe(node));
    return std::nullopt;
  }
  std::vector<double> values;
  bool ok = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const auto v = one(node[i], fmt::format("{}[{}]", key, i));
    ok = ok && v;
    if (v) values.push_back(*v);
  }
  return ok ? std::optional<std::vector<double>>(values) : std::nullopt;
}

// scale: a number > 0, or A/B with both numbers and the quotient > 0 ("1/255").
void read_scale(const yaml::Reader& r, const YAML::Node& node, ImagePreprocess& p) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    const std::size_t slash = s.find('/');
    const auto a = parse_number(trim(std::string_view(s).substr(0, slash)));
    const auto b = slash == std::string::npos ? std::optional<double>(1) : parse_number(trim(s.substr(slash + 1)));
    if (a && b && *a / *b > 0 && std::isfinite(*a / *b)) {
      p.scale_numerator = *a;
      p.scale_denominator = *b;
      return;
    }
  }
  r.diag.expected(yaml::where(r.file, node), "scale", "a number > 0 or a fraction A/B (e.g. 1/255)",
                  yaml::describe(node));
}

// A value list of one number for every channel, or `count` of them; false (reported) otherwise.
bool expand_per_channel(const yaml::Reader& r, const YAML::Node& node, const std::string& key,
                        std::vector<double>& values, int count, const std::string& channels_text) {
  if (values.size() == 1) values.assign(static_cast<std::size_t>(count), values.front());
  if (values.size() == static_cast<std::size_t>(count)) return true;
  r.diag.error(yaml::where(r.file, node),
               fmt::format("{}: {} values for {} ({} channel{}): expected 1 or {}", key, values.size(), channels_text,
                           count, count == 1 ? "" : "s", count));
  return false;
}

std::string channels_name(ImageChannels c) {
  switch (c) {
    case ImageChannels::Rgb:
      return "rgb";
    case ImageChannels::Bgr:
      return "bgr";
    case ImageChannels::Gray:
      return "gray";
  }
  return "";
}

}  // namespace

std::span<const ImageParam> image_preprocess_parameters() { return kParams; }

std::string ImagePreprocess::describe() const {
  std::string resize = "none";
  if (resize_shorter) resize = fmt::format("{} (the shorter side)", *resize_shorter);
  if (resize_to) resize = size_text(*resize_to);
  const std::string scale = scale_denominator == 1 ? fmt::format("{}", scale_numerator)
                                                   : fmt::format("{}/{}", scale_numerator, scale_denominator);
  return fmt::format("resize {}, crop {}, channels {}, scale {}, mean {}, std {}", resize,
                     crop ? size_text(*crop) : std::string("none"), channels_name(channels), scale, number_list(mean),
                     number_list(stddev));
}

ImagePreprocess load_image_preprocess(const std::string& path, const std::optional<sim::Shape>& input) {
  const YAML::Node root = yaml::load_file(path);
  Diagnostics diag;
  const yaml::Reader r{path, diag};
  ImagePreprocess p;
  p.file = path;
  const bool is_map = root.IsMap();
  if (!is_map && !root.IsNull())
    diag.error(yaml::where(path, root),
               fmt::format("expected a map of preprocessing keys ({}) or an empty file, got {}",
                           fmt::join(param_keys(), ", "), yaml::describe(root)));
  // Reads from a const map never insert: a key that is not there is an undefined node.
  const YAML::Node empty = YAML::Load("{}");
  const YAML::Node& map = is_map ? root : empty;
  const auto get = [&](const char* key) { return map[key]; };
  if (is_map) r.reject_unknown_keys(root, "", param_keys());

  // Pass 1: each key on its own.
  if (const YAML::Node n = get("resize"); n.IsDefined()) read_size(r, n, "resize", p.resize_shorter, p.resize_to);
  std::optional<std::int64_t> crop_side;
  if (const YAML::Node n = get("crop"); n.IsDefined()) read_size(r, n, "crop", crop_side, p.crop);
  if (crop_side) p.crop = std::array<std::int64_t, 2>{*crop_side, *crop_side};
  std::optional<ImageChannels> channels;
  if (const YAML::Node n = get("channels"); n.IsDefined()) {
    if (const auto c = r.choice(n, "channels", {"rgb", "bgr", "gray"}))
      channels = *c == "rgb" ? ImageChannels::Rgb : *c == "bgr" ? ImageChannels::Bgr : ImageChannels::Gray;
  }
  if (const YAML::Node n = get("scale"); n.IsDefined()) read_scale(r, n, p);
  std::optional<std::vector<double>> mean{{0.0}}, stddev{{1.0}};
  if (const YAML::Node n = get("mean"); n.IsDefined()) mean = read_numbers(r, n, "mean", false);
  if (const YAML::Node n = get("std"); n.IsDefined()) stddev = read_numbers(r, n, "std", true);
  if (const YAML::Node n = get("classes"); n.IsDefined()) {
    if (!n.IsSequence() || n.size() == 0) {
      diag.expected(yaml::where(path, n), "classes", "a list of class folder names (class 0 first)",
                    n.IsSequence() ? std::string("an empty list") : yaml::describe(n));
    } else {
      std::map<std::string, std::size_t> first;
      for (std::size_t i = 0; i < n.size(); ++i) {
        const std::string key = fmt::format("classes[{}]", i);
        const auto name = r.text(n[i], key);
        if (!name) continue;
        if (name->find('/') != std::string::npos || *name == "." || *name == "..") {
          diag.expected(yaml::where(path, n[i]), key, "a folder name (no '/')", yaml::describe(n[i]));
        } else if (const auto [it, added] = first.emplace(*name, i); !added) {
          diag.error(yaml::where(path, n[i]), fmt::format("{}: '{}' is listed twice (first as classes[{}])", key,
                                                          yaml::shorten(*name), it->second));
        }
        p.classes.push_back(*name);
      }
    }
  }
  if (const YAML::Node n = get("labels"); n.IsDefined()) {
    if (const auto text = r.text(n, "labels")) {
      const fs::path csv = fs::path(path).parent_path() / *text;
      std::error_code ec;
      if (fs::is_directory(csv, ec) || !std::ifstream(csv))
        diag.error(yaml::where(path, n),
                   fmt::format("labels: cannot open '{}' (a CSV file, relative to the spec's folder)", *text));
      else
        p.labels_csv = csv.lexically_normal().string();
    }
  }

  // Pass 2: against each other and the model's input.
  if (get("classes").IsDefined() && get("labels").IsDefined())
    diag.error(yaml::where(path, get("classes")),
               "classes: names class folders, and labels (a CSV file) gives class numbers: give one of them");
  const std::string model = input ? fmt::format("the model's input is {} (C x H x W)", shape_text(*input)) : "";
  if (input && input->channels != 1 && input->channels != 3) {
    diag.error({path, 0, 0}, fmt::format("{}: images give 1 channel (channels: gray) or 3 (rgb, bgr)", model));
  } else if (channels) {
    p.channels = *channels;
    if (input && p.channel_count() != input->channels)
      diag.error(yaml::where(path, get("channels")),
                 fmt::format("channels: {} gives {} channel{}, {}", channels_name(p.channels), p.channel_count(),
                             p.channel_count() == 1 ? "" : "s", model));
  } else {
    p.channels = input && input->channels == 1 ? ImageChannels::Gray : ImageChannels::Rgb;
  }
  const std::string channels_text = "channels " + channels_name(p.channels);
  if (mean && expand_per_channel(r, get("mean"), "mean", *mean, p.channel_count(), channels_text)) p.mean = *mean;
  if (stddev && expand_per_channel(r, get("std"), "std", *stddev, p.channel_count(), channels_text)) p.stddev = *stddev;
  if (input && p.crop && ((*p.crop)[0] != input->height || (*p.crop)[1] != input->width))
    diag.error(
        yaml::where(path, get("crop")),
        fmt::format("crop: {} (height, width), {}: the crop must be its height and width", size_text(*p.crop), model));
  if (input && !p.crop && p.resize_to && ((*p.resize_to)[0] != input->height || (*p.resize_to)[1] != input->width))
    diag.error(yaml::where(path, get("resize")),
               fmt::format("resize: {} (height, width), {}: without a crop the resized image must be its height and "
                           "width",
                           size_text(*p.resize_to), model));
  // Pixels 0 and 255 bound every value (the mapping is linear): both must be float32 numbers.
  if (diag.empty()) {
    for (std::size_t c = 0; c < p.mean.size(); ++c) {
      for (const double v : {0.0, 255.0}) {
        const double x = (v * p.scale_numerator / p.scale_denominator - p.mean[c]) / p.stddev[c];
        if (!(std::fabs(x) <= FLT_MAX)) {
          diag.error({path, 0, 0}, fmt::format("scale, mean and std map the value {} of channel {} to {}, beyond "
                                               "float32",
                                               v, c, x));
          break;
        }
      }
    }
  }
  diag.throw_if_any();
  return p;
}

ImageGeometry image_geometry(std::int64_t height, std::int64_t width, const ImagePreprocess& p,
                             const std::string& path) {
  ImageGeometry g{height, width, 0, 0, height, width};
  if (p.resize_to) {
    g.resized_h = (*p.resize_to)[0];
    g.resized_w = (*p.resize_to)[1];
  } else if (p.resize_shorter) {
    const std::int64_t s = *p.resize_shorter;  // both sides and S are at most 2^26: no overflow
    if (height <= width) {
      g.resized_h = s;
      g.resized_w = s * width / height;
    } else {
      g.resized_w = s;
      g.resized_h = s * height / width;
    }
    const auto pixels = static_cast<std::uint64_t>(g.resized_h) * static_cast<std::uint64_t>(g.resized_w);
    if (pixels > kMaxImagePixels)
      throw InputError({path, 0, 0},
                       fmt::format("resizing the shorter side to {} makes the {}x{} image (height x width) {}x{}, {} "
                                   "pixels, over the limit of {} pixels (8192 x 8192) per image",
                                   s, height, width, g.resized_h, g.resized_w, pixels, kMaxImagePixels));
  }
  g.height = g.resized_h;
  g.width = g.resized_w;
  if (p.crop) {
    const auto [ch, cw] = *p.crop;
    if (ch > g.resized_h || cw > g.resized_w)
      throw InputError(
          {path, 0, 0},
          fmt::format("the image is {}x{} (height x width){}, smaller than the crop {}", g.resized_h, g.resized_w,
                      p.resize_to || p.resize_shorter ? " after resizing" : "", size_text(*p.crop)));
    g.top = (g.resized_h - ch) / 2;
    g.left = (g.resized_w - cw) / 2;
    g.height = ch;
    g.width = cw;
  }
  return g;
}

namespace {

// One output row or column of the bilinear resize: the two source indices and the second's weight.
struct Tap {
  std::size_t first = 0;
  std::size_t second = 0;
  double weight = 0;
};

// Output positions offset .. offset + count - 1 of an axis resized from `in` to `resized` values.
std::vector<Tap> taps(std::int64_t count, std::int64_t offset, std::int64_t resized, std::int64_t in) {
  std::vector<Tap> out(static_cast<std::size_t>(count));
  const double ratio = static_cast<double>(in) / static_cast<double>(resized);
  const auto last = static_cast<std::size_t>(in - 1);
  for (std::int64_t o = 0; o < count; ++o) {
    const std::int64_t at = o + offset;
    Tap& t = out[static_cast<std::size_t>(o)];
    if (resized == in) {  // not resized: the pixel itself, exactly
      t.first = t.second = static_cast<std::size_t>(at);
      continue;
    }
    const double source = std::clamp((static_cast<double>(at) + 0.5) * ratio - 0.5, 0.0, static_cast<double>(last));
    t.first = static_cast<std::size_t>(source);  // floor: source >= 0
    t.second = std::min(t.first + 1, last);
    t.weight = source - static_cast<double>(t.first);
  }
  return out;
}

}  // namespace

std::vector<float> preprocess_image(const DecodedImage& image, const ImagePreprocess& p, const ImageGeometry& g) {
  BITSIM_CHECK(image.channels == 1 || image.channels == 3);
  BITSIM_CHECK(g.resized_h > 0 && g.resized_w > 0 && g.top + g.height <= g.resized_h &&
               g.left + g.width <= g.resized_w);
  const int channels = p.channel_count();
  const auto width = static_cast<std::size_t>(image.width);
  const auto source = static_cast<std::size_t>(image.channels);
  const std::vector<Tap> rows = taps(g.height, g.top, g.resized_h, image.height);
  const std::vector<Tap> cols = taps(g.width, g.left, g.resized_w, image.width);
  // Channel c of the model at source pixel (y, x).
  const auto sample = [&](std::size_t y, std::size_t x, int c) -> double {
    const unsigned char* px = &image.pixels[(y * width + x) * source];
    if (source == 1) return px[0];
    if (channels == 1) return 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
    return px[p.channels == ImageChannels::Bgr ? 2 - c : c];
  };
  const std::size_t plane = rows.size() * cols.size();
  std::vector<float> out(static_cast<std::size_t>(channels) * plane);
  for (int c = 0; c < channels; ++c) {
    const auto ci = static_cast<std::size_t>(c);
    for (std::size_t y = 0; y < rows.size(); ++y) {
      const Tap& ty = rows[y];
      for (std::size_t x = 0; x < cols.size(); ++x) {
        const Tap& tx = cols[x];
        double v = sample(ty.first, tx.first, c);
        if (ty.weight != 0 || tx.weight != 0) {
          const double top = (1 - tx.weight) * v + tx.weight * sample(ty.first, tx.second, c);
          const double bottom =
              (1 - tx.weight) * sample(ty.second, tx.first, c) + tx.weight * sample(ty.second, tx.second, c);
          v = (1 - ty.weight) * top + ty.weight * bottom;
        }
        out[ci * plane + y * cols.size() + x] =
            static_cast<float>((v * p.scale_numerator / p.scale_denominator - p.mean[ci]) / p.stddev[ci]);
      }
    }
  }
  return out;
}

std::optional<ImageFolderSpec> parse_image_folder_spec(const std::string& spec) {
  std::size_t end = spec.size();
  for (int parts = 0; parts <= 2; ++parts) {
    std::error_code ec;
    if (end > 0 && fs::is_directory(spec.substr(0, end), ec)) {
      ImageFolderSpec s;
      s.dir = spec.substr(0, end);
      std::size_t at = end;
      while (at < spec.size()) {
        const std::size_t next = std::min(spec.find(':', at + 1), spec.size());
        const std::string token = spec.substr(at + 1, next - at - 1);
        at = next;
        const bool yaml = token.size() > 5 && (token.ends_with(".yaml") || token.ends_with(".yml"));
        if (yaml && s.spec_path.empty()) {
          s.spec_path = token;
          continue;
        }
        const auto n = parse_integer(token);
        if (n && *n >= 1 && s.limit < 0) {
          s.limit = *n;
          continue;
        }
        throw InputError({}, fmt::format("--data: expected DIR (a folder of images), then optionally :N (the first N "
                                         ">= 1 images) and :SPEC.yaml (the preprocessing spec; default "
                                         "DIR/preprocess.yaml), got '{}'",
                                         spec));
      }
      return s;
    }
    const std::size_t colon = end == 0 ? std::string::npos : spec.rfind(':', end - 1);
    if (colon == std::string::npos) break;
    end = colon;
  }
  return std::nullopt;
}

namespace {

bool is_image_name(const std::string& name) {
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// The folder's entries: images at the top and in subfolders one level down, sorted by their path
// relative to the folder ('/'-separated, bytewise).
struct Listing {
  std::vector<std::string> images;
  std::size_t top_images = 0;                        // images directly in the folder
  std::vector<std::string> subfolders;               // every subfolder that is not hidden, sorted
  std::map<std::string, std::size_t> per_subfolder;  // images in each
  std::vector<std::string> skipped;                  // hidden entries and files that are not images
};

// Lists `dir` (and, when `top`, its subfolders); `own` are the spec and labels files, not reported
// as skipped.
void list_into(const fs::path& dir, const std::string& prefix, bool top, const std::vector<fs::path>& own, Listing& out,
               std::uint64_t& entries, const std::string& root) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  const auto fail_listing = [&] {
    throw InputError({dir.string(), 0, 0}, fmt::format("cannot list the folder: {}", ec.message()));
  };
  if (ec) fail_listing();
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) fail_listing();
    if (++entries > kMaxFolderEntries)
      throw InputError({root, 0, 0}, fmt::format("the folder and its subfolders hold more than {} entries (bitsim's "
                                                 "limit): use a folder of fewer images",
                                                 kMaxFolderEntries));
    const std::string name = it->path().filename().string();
    const std::string relative = prefix + name;
    std::error_code type_ec;
    if (name.starts_with('.')) {
      out.skipped.push_back(relative);
    } else if (it->is_directory(type_ec)) {
      if (!top)
        throw InputError({it->path().string(), 0, 0},
                         "a folder inside a subfolder: bitsim reads the images in DIR and in its subfolders (one "
                         "level down), not deeper");
      out.subfolders.push_back(name);
      const std::size_t before = out.images.size();
      list_into(it->path(), relative + "/", false, own, out, entries, root);
      out.per_subfolder[name] = out.images.size() - before;
    } else if (it->is_regular_file(type_ec) && is_image_name(name)) {
      out.images.push_back(relative);
      if (top) ++out.top_images;
    } else {
      const bool is_own = std::any_of(own.begin(), own.end(), [&](const fs::path& o) {
        std::error_code eq;
        return fs::equivalent(it->path(), o, eq);
      });
      if (!is_own) out.skipped.push_back(relative);
    }
  }
}

Listing list_folder(const std::string& dir, const std::vector<fs::path>& own) {
  Listing out;
  std::uint64_t entries = 0;
  list_into(dir, "", true, own, out, entries, dir);
  std::sort(out.images.begin(), out.images.end());
  std::sort(out.subfolders.begin(), out.subfolders.end());
  std::sort(out.skipped.begin(), out.skipped.end());
  return out;
}

std::string quoted_list(const std::vector<std::string>& names, std::size_t show) {
  std::vector<std::string> shown;
  for (std::size_t i = 0; i < names.size() && i < show; ++i) shown.push_back(fmt::format("'{}'", names[i]));
  std::string out = fmt::format("{}", fmt::join(shown, ", "));
  if (names.size() > show) out += fmt::format(", ... ({} in all)", names.size());
  return out;
}

// The label of every image, from the CSV file (header file,label). Every problem is reported at
// once, at its line and column (up to kShown of them, then how many more).
std::vector<int> labels_from_csv(const std::string& csv, const std::string& dir,
                                 const std::vector<std::string>& images) {
  std::error_code ec;
  const std::uintmax_t bytes = fs::file_size(csv, ec);
  if (ec) throw InputError({csv, 0, 0}, "cannot read the labels file");
  if (bytes > kMaxLabelsBytes)
    throw InputError({csv, 0, 0}, fmt::format("the labels file holds {} bytes, over the limit of {} bytes (256 MiB)",
                                              bytes, kMaxLabelsBytes));
  std::ifstream in(csv, std::ios::binary);
  if (!in) throw InputError({csv, 0, 0}, "cannot open file for reading");
  constexpr std::size_t kShown = 20;
  Diagnostics diag;
  std::size_t problems = 0;
  const auto problem = [&](int line, int col, std::string message) {
    if (++problems <= kShown) diag.error({csv, line, col}, std::move(message));
  };
  std::vector<int> labels(images.size(), -1);
  std::vector<int> row_of(images.size(), 0);  // the line that labelled each image
  std::string text;
  int line = 0;
  bool header = false;
  while (std::getline(in, text)) {
    ++line;
    if (line == 1 && text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);  // a UTF-8 byte order mark
    if (trim(text).empty()) continue;
    const CsvLine row = split_csv_line(text);
    if (row.error) {
      problem(line, row.error->first, row.error->second);
      continue;
    }
    if (!header) {
      header = true;
      if (row.fields.size() != 2 || row.fields[0].text != "file" || row.fields[1].text != "label")
        throw InputError({csv, line, 1},
                         fmt::format("expected the header 'file,label' (an image's path relative to the folder, its "
                                     "class number), got '{}'",
                                     yaml::shorten(std::string(trim(text)))));
      continue;
    }
    if (row.fields.size() != 2) {
      problem(line, 1, fmt::format("expected 2 fields (file,label), got {}", row.fields.size()));
      continue;
    }
    const CsvField& file = row.fields[0];
    const CsvField& label = row.fields[1];
    const std::string name = fs::path(file.text).lexically_normal().generic_string();
    const auto found = std::lower_bound(images.begin(), images.end(), name);
    const auto value = parse_integer(label.text);
    if (!value || *value < 0 || *value > INT_MAX)
      problem(line, label.col,
              fmt::format("label: expected a class number from 0 to {}, got '{}'", INT_MAX, yaml::shorten(label.text)));
    if (found == images.end() || *found != name) {
      problem(line, file.col,
              fmt::format("file '{}': no such image in {} (a path relative to the folder, e.g. '{}')",
                          yaml::shorten(file.text), dir, images.front()));
      continue;
    }
    const auto i = static_cast<std::size_t>(found - images.begin());
    if (row_of[i] != 0) {
      problem(line, file.col, fmt::format("file '{}': listed twice (first at line {})", name, row_of[i]));
      continue;
    }
    row_of[i] = line;
    if (value && *value >= 0 && *value <= INT_MAX) labels[i] = static_cast<int>(*value);
  }
  if (in.bad()) throw InputError({csv, 0, 0}, "cannot read the labels file");
  if (!header) problem(0, 0, "the labels file is empty: expected the header 'file,label', then one row per image");
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < images.size(); ++i)
    if (row_of[i] == 0) missing.push_back(images[i]);
  if (header && !missing.empty())
    problem(0, 0,
            fmt::format("{} of the {} images in {} have no label: {}", missing.size(), images.size(), dir,
                        quoted_list(missing, 3)));
  if (problems > kShown) diag.error({csv, 0, 0}, fmt::format("{} more problems not shown", problems - kShown));
  diag.throw_if_any();
  return labels;
}

std::string spec_path_of(const ImageFolderSpec& s) {
  return s.spec_path.empty() ? (fs::path(s.dir) / kSpecName).string() : s.spec_path;
}

// The spec, from SPEC.yaml or DIR/preprocess.yaml (which must exist).
ImagePreprocess spec_of(const ImageFolderSpec& s, const std::optional<sim::Shape>& input) {
  const std::string path = spec_path_of(s);
  std::error_code ec;
  if (s.spec_path.empty() && !fs::exists(path, ec))
    throw InputError({s.dir, 0, 0},
                     fmt::format("no {} in the folder: write one (an empty file takes the defaults: no resize or "
                                 "crop, the model's channels, scale 1/255, mean 0, std 1), or name one with --data "
                                 "DIR:SPEC.yaml",
                                 kSpecName));
  return load_image_preprocess(path, input);
}

std::vector<fs::path> own_files(const ImagePreprocess& p) {
  std::vector<fs::path> own{p.file};
  if (!p.labels_csv.empty()) own.emplace_back(p.labels_csv);
  return own;
}

std::string image_path(const ImageFolderSpec& s, const std::string& relative) {
  return (fs::path(s.dir) / relative).string();
}

}  // namespace

Dataset load_image_folder(const ImageFolderSpec& s, const std::string& name, const std::optional<sim::Shape>& input) {
  const ImagePreprocess p = spec_of(s, input);
  const Listing listing = list_folder(s.dir, own_files(p));
  if (listing.images.empty())
    throw InputError({s.dir, 0, 0},
                     "no .png, .jpg or .jpeg images in the folder or in its subfolders (one level down)");

  // Labels for every image of the folder, whichever are taken.
  Dataset d;
  d.name = name;
  std::vector<int> labels;
  std::string labels_note;
  const std::size_t total = listing.images.size();
  if (!p.labels_csv.empty()) {
    labels = labels_from_csv(p.labels_csv, s.dir, listing.images);
    labels_note = fmt::format("labels from {}", p.labels_csv);
  } else if (!p.classes.empty() && listing.top_images == total) {
    throw InputError({s.dir, 0, 0}, fmt::format("{} lists classes, but the images are not in class folders (DIR/CLASS/"
                                                "image.png)",
                                                p.file));
  } else if (!listing.subfolders.empty() && listing.top_images < total) {
    if (listing.top_images > 0)
      throw InputError({s.dir, 0, 0},
                       fmt::format("images both in the folder ({}, e.g. '{}') and in subfolders ({}): as class "
                                   "folders every image must be in one; or give the labels in a CSV file (labels: "
                                   "FILE.csv in the spec)",
                                   listing.top_images,
                                   *std::find_if(listing.images.begin(), listing.images.end(),
                                                 [](const std::string& i) { return i.find('/') == std::string::npos; }),
                                   total - listing.top_images));
    // The class number of each subfolder: its index in the spec's classes, else among the sorted subfolders.
    const std::vector<std::string>& classes = p.classes.empty() ? listing.subfolders : p.classes;
    std::map<std::string, int> number;
    for (const std::string& folder : listing.subfolders) {
      const auto at = std::find(classes.begin(), classes.end(), folder);
      if (at == classes.end()) {
        const std::string guess = did_you_mean(folder, classes);
        throw InputError({image_path(s, folder), 0, 0},
                         fmt::format("a subfolder whose name is not in the classes of {}{}; they are: {}", p.file,
                                     guess.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", guess),
                                     quoted_list(classes, 12)));
      }
      if (p.classes.empty() && listing.per_subfolder.at(folder) == 0)
        throw InputError({image_path(s, folder), 0, 0},
                         "a class folder without .png, .jpg or .jpeg images (class numbers count every subfolder, "
                         "sorted by name): add images, remove it, or list the classes in the spec (classes: [...])");
      number[folder] = static_cast<int>(at - classes.begin());
    }
    std::vector<std::string> mapping;
    for (std::size_t c = 0; c < classes.size(); ++c) {
      const auto images = listing.per_subfolder.find(classes[c]);
      mapping.push_back(
          fmt::format("{} = '{}'{}", c, classes[c],
                      images == listing.per_subfolder.end() || images->second == 0 ? " (no images)" : ""));
    }
    labels.reserve(total);
    for (const std::string& image : listing.images) labels.push_back(number.at(image.substr(0, image.find('/'))));
    constexpr std::size_t kShownClasses = 32;
    if (mapping.size() > kShownClasses) {
      const std::string last = mapping.back();
      mapping.resize(kShownClasses - 1);
      mapping.emplace_back("...");
      mapping.push_back(last);
    }
    labels_note = fmt::format("labels from the class folders, numbered {}: {}",
                              p.classes.empty() ? "in sorted order" : fmt::format("as the classes of {}", p.file),
                              fmt::join(mapping, ", "));
  }

  const std::size_t count = s.limit > 0 ? std::min(static_cast<std::size_t>(s.limit), total) : total;
  if (input)
    check_data_bytes(s.dir, fmt::format("preprocessed to {}", shape_text(*input)), count,
                     static_cast<std::uint64_t>(input->count()), fmt::format("take fewer with {}:N", s.dir));
  std::optional<std::array<std::int64_t, 2>> size;
  if (input) size = std::array<std::int64_t, 2>{input->height, input->width};
  std::size_t png = 0, jpeg = 0, alpha = 0, wide = 0, to_gray = 0, to_color = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string path = image_path(s, listing.images[i]);
    const DecodedImage image = decode_image(path);
    const ImageGeometry g = image_geometry(image.height, image.width, p, path);
    const bool resized = p.resize_to || p.resize_shorter;
    if (!size) {
      size = std::array<std::int64_t, 2>{g.height, g.width};
      const sim::Shape first{p.channel_count(), g.height, g.width};
      check_data_bytes(s.dir, fmt::format("preprocessed to {}", shape_text(first)), count,
                       static_cast<std::uint64_t>(first.count()), fmt::format("take fewer with {}:N", s.dir));
    }
    if (g.height != (*size)[0] || g.width != (*size)[1]) {
      const std::string expected =
          input
              ? fmt::format("the model's input is {} (C x H x W)", shape_text(*input))
              : fmt::format("the first image gave {}x{}: every image must give the same size", (*size)[0], (*size)[1]);
      if (!resized && !p.crop)
        throw InputError({path, 0, 0}, fmt::format("the image is {}x{} (height x width) and {} neither resizes nor "
                                                   "crops it; {}: add resize and/or crop to the spec",
                                                   image.height, image.width, p.file, expected));
      throw InputError({path, 0, 0}, fmt::format("the image is {}x{} (height x width), {}x{} after {}; {}",
                                                 image.height, image.width, g.height, g.width,
                                                 resized && p.crop ? "resizing and cropping"
                                                 : resized         ? "resizing"
                                                                   : "cropping",
                                                 expected));
    }
    const std::vector<float> values = preprocess_image(image, p, g);
    d.images.insert(d.images.end(), values.begin(), values.end());
    ++(image.format == ImageFormat::Png ? png : jpeg);
    if (image.alpha_dropped) ++alpha;
    if (image.rounded_16_bit) ++wide;
    if (image.channels == 3 && p.channel_count() == 1) ++to_gray;
    if (image.channels == 1 && p.channel_count() == 3) ++to_color;
  }
  d.count = static_cast<int>(count);
  d.shape = {p.channel_count(), (*size)[0], (*size)[1]};
  if (!labels.empty()) d.labels.assign(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(count));

  d.notes.push_back(fmt::format("{}: {}{} images (PNG {}, JPEG {}), in the order of their paths", s.dir,
                                count < total ? fmt::format("the first {} of ", count) : std::string(),
                                count < total ? total : count, png, jpeg));
  d.notes.push_back(fmt::format("{}: preprocessing from {}: {}", s.dir, p.file, p.describe()));
  std::vector<std::string> changed;
  if (alpha) changed.push_back(fmt::format("alpha dropped in {}", alpha));
  if (wide) changed.push_back(fmt::format("16-bit values rounded to 8 bits in {}", wide));
  if (to_gray) changed.push_back(fmt::format("color converted to gray (BT.601 luma) in {}", to_gray));
  if (to_color) changed.push_back(fmt::format("gray repeated to 3 channels in {}", to_color));
  if (!changed.empty()) d.notes.push_back(fmt::format("{}: {}", s.dir, fmt::join(changed, "; ")));
  if (!listing.skipped.empty())
    d.notes.push_back(fmt::format("{}: skipped {} hidden entries or files that are not .png, .jpg or .jpeg: {}", s.dir,
                                  listing.skipped.size(), quoted_list(listing.skipped, 5)));
  if (labels.empty())
    d.notes.push_back(
        fmt::format("{}: no labels (no class folders, no labels file in the spec): top-1 agreement "
                    "with the float model is reported instead of accuracy",
                    s.dir));
  else
    d.notes.push_back(fmt::format("{}: {}", s.dir, labels_note));
  return d;
}

std::vector<std::pair<std::string, std::string>> image_folder_files(const ImageFolderSpec& s) {
  const ImagePreprocess p = spec_of(s, std::nullopt);
  std::vector<std::pair<std::string, std::string>> files{{"spec", p.file}};
  if (!p.labels_csv.empty()) files.emplace_back("labels", p.labels_csv);
  const Listing listing = list_folder(s.dir, own_files(p));
  const std::size_t count =
      s.limit > 0 ? std::min(static_cast<std::size_t>(s.limit), listing.images.size()) : listing.images.size();
  for (std::size_t i = 0; i < count; ++i) files.emplace_back(listing.images[i], image_path(s, listing.images[i]));
  return files;
}

}  // namespace bitsim::alloc
