// A folder of PNG/JPEG images as data (--data DIR[:N][:SPEC.yaml]): the preprocessing spec a user
// writes once (YAML), the folder listed in a fixed order, labels from class folders or a CSV file.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alloc/dataset.h"
#include "alloc/image_decode.h"
#include "sim/network.h"

namespace bitsim::alloc {

// How the model wants its channels: the decoded image's R, G, B in that order or reversed, or one
// gray channel (luma 0.299 R + 0.587 G + 0.114 B, ITU-R BT.601, not rounded).
enum class ImageChannels { Rgb, Bgr, Gray };

// The preprocessing spec, resolved: every default filled in, mean and std one value per channel.
// value[c][y][x] = (pixel[c] * scale_numerator / scale_denominator - mean[c]) / std[c], in double,
// rounded once to float32; pixel[c] is the decoded 8-bit value after channel conversion, resizing
// (bilinear, not rounded) and the centre crop.
struct ImagePreprocess {
  std::string file;                                      // the spec's path
  std::optional<std::int64_t> resize_shorter;            // resize: S (the shorter side, aspect kept)
  std::optional<std::array<std::int64_t, 2>> resize_to;  // resize: [H, W]
  std::optional<std::array<std::int64_t, 2>> crop;       // crop: [H, W], centred
  ImageChannels channels = ImageChannels::Rgb;
  double scale_numerator = 1;
  double scale_denominator = 255;
  std::vector<double> mean;          // one per channel, in the order the model reads them
  std::vector<double> stddev;        // the same; every one > 0
  std::string labels_csv;            // labels: the CSV's path (resolved from the spec's folder); empty: none
  std::vector<std::string> classes;  // classes: the class folders' names by class number; empty: sorted

  int channel_count() const { return channels == ImageChannels::Gray ? 1 : 3; }
  // "resize none, crop [224, 224], channels rgb, scale 1/255, mean [0.485, ...], std [...]"
  std::string describe() const;
};

// One documented key of the spec: name, the form of its value, the default, one line on it.
struct ImageParam {
  std::string_view key;
  std::string_view type;
  std::string_view default_text;
  std::string_view description;
};
std::span<const ImageParam> image_preprocess_parameters();

// Reads a spec file (an empty file takes every default). `input` is the model's per-image shape:
// its channels (1 or 3) set the default of `channels` and are checked against it, and a crop (or a
// resize to [H, W] without crop) must give its height and width. Throws InputError with every
// problem at once, each at file:line:col: unknown keys (with a did-you-mean), values of the wrong
// form, mean or std of another length than the channels, a labels file that cannot be opened,
// a class named twice, classes together with labels.
ImagePreprocess load_image_preprocess(const std::string& path, const std::optional<sim::Shape>& input);

// Where each output pixel comes from: the image resized to resized_h x resized_w, then the window
// of height x width at (top, left) of it.
struct ImageGeometry {
  std::int64_t resized_h = 0;
  std::int64_t resized_w = 0;
  std::int64_t top = 0;
  std::int64_t left = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
};

// The geometry of an image of height x width under `p`. A shorter-side resize keeps the aspect
// ratio, the longer side rounded down (floor(S * long / short), as torchvision's Resize(S)); the
// crop is centred, its offsets rounded down. InputError at `path` when the resized image would
// exceed kMaxImagePixels or is smaller than the crop.
ImageGeometry image_geometry(std::int64_t height, std::int64_t width, const ImagePreprocess& p,
                             const std::string& path);

// The preprocessed image, [C][H][W] with C = p.channel_count(), H x W = g.height x g.width.
// Resizing is bilinear on half-pixel centres (source coordinate (x + 0.5) * in / out - 0.5, clamped
// to the image; OpenCV's INTER_LINEAR, TensorFlow's half_pixel_centers), without antialiasing.
std::vector<float> preprocess_image(const DecodedImage& image, const ImagePreprocess& p, const ImageGeometry& g);

// --data DIR[:N][:SPEC.yaml] taken apart.
struct ImageFolderSpec {
  std::string dir;
  std::int64_t limit = -1;  // the first N images; -1: all
  std::string spec_path;    // SPEC.yaml as given, else DIR/preprocess.yaml
};

// The folder form of `spec` when a prefix of it (the whole, or without one or two trailing
// ':'-separated parts) is a folder; InputError when the parts after it are not N >= 1 and a path
// ending in .yaml or .yml, each at most once.
std::optional<ImageFolderSpec> parse_image_folder_spec(const std::string& spec);

// The most entries listed in an image folder and its subfolders (refused beyond, with the figure).
inline constexpr std::uint64_t kMaxFolderEntries = std::uint64_t{1} << 22;
// The most bytes a labels CSV may hold.
inline constexpr std::uint64_t kMaxLabelsBytes = std::uint64_t{256} << 20;

// The images of the folder, in the order of their paths relative to DIR (bytewise: subfolder,
// then file name), the first N; `name` is the --data spec. Images are the .png, .jpg and .jpeg
// files (any case) in DIR and in its subfolders one level down; hidden entries and other files are
// skipped and named in a note; a folder two levels down is refused. Labels: the spec's labels CSV
// (every image needs one row), else class folders when the images are in subfolders (all of them:
// images in both DIR and subfolders are refused), numbered by the spec's classes or else by the
// sorted subfolder names (every subfolder counts; one without images is refused), else none.
// Before any image is decoded, N x the model's C x H x W values must fit in kMaxDataBytes.
Dataset load_image_folder(const ImageFolderSpec& s, const std::string& name, const std::optional<sim::Shape>& input);

// The files the folder form reads, for the cache key: the spec, the labels CSV if any, then the
// images taken (the first N), each as (name for the key, path).
std::vector<std::pair<std::string, std::string>> image_folder_files(const ImageFolderSpec& s);

}  // namespace bitsim::alloc
