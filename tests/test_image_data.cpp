// --data DIR: folders of PNG and JPEG images. The files are made here (PNG byte by byte with zlib,
// independently of libpng; JPEG with libjpeg's compressor): decoding checked pixel for pixel, the
// preprocessing arithmetic on hand-computed pixels, the spec's located errors, labels from class
// folders and CSV files, limits refused before decoding, damaged files refused by name; and the
// first 16 Fashion-MNIST test images as PNG files (tools/scripts/make_image_data.py), read exactly as
// the IDX files.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

// jpeglib.h needs size_t and FILE declared before it (above).
#include <jpeglib.h>

#include "alloc/dataset.h"
#include "alloc/image_data.h"
#include "alloc/image_decode.h"
#include "tests/test_util.h"

namespace bitsim::alloc {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

const std::string kSource = BITSIM_SOURCE_DIR;

bool have_fashion_mnist() { return fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"); }

// ---- Writing PNG files by hand (PNG specification, ISO/IEC 15948) ----

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16 & 0xff), static_cast<char>(v >> 8 & 0xff),
          static_cast<char>(v & 0xff)};
}

std::string chunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  const auto crc =
      static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  return be32(static_cast<std::uint32_t>(data.size())) + body + be32(crc);
}

std::string zlib_compress(const std::string& data) {
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  std::string out(size, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(data.data()),
                     static_cast<uLong>(data.size())),
            Z_OK);
  out.resize(size);
  return out;
}

const std::string kPngSignature = "\x89PNG\r\n\x1a\n"s;

std::string ihdr(std::uint32_t width, std::uint32_t height, int bit_depth, int color_type, bool adam7 = false) {
  return chunk("IHDR", be32(width) + be32(height) + static_cast<char>(bit_depth) + static_cast<char>(color_type) +
                           '\0' + '\0' + static_cast<char>(adam7 ? 1 : 0));
}

// A PNG of `samples` (row-major, every sample of a pixel in turn: 1 for color types 0 and 3 (palette
// index), 2 for 4, 3 for 2, 4 for 6), packed at `bit_depth`, each row with filter 0; Adam7's seven
// passes when `adam7`. `plte` holds the palette's RGB triples for color type 3.
std::string png(int width, int height, int color_type, int bit_depth, const std::vector<int>& samples,
                const std::string& plte = "", bool adam7 = false) {
  const int per_pixel = color_type == 2 ? 3 : color_type == 4 ? 2 : color_type == 6 ? 4 : 1;
  EXPECT_EQ(samples.size(), static_cast<std::size_t>(width * height * per_pixel));
  const auto row = [&](int y, int x0, int dx) {
    std::string out(1, '\0');  // filter type 0
    int bits = 0, acc = 0;
    for (int x = x0; x < width; x += dx) {
      for (int s = 0; s < per_pixel; ++s) {
        const int v = samples[static_cast<std::size_t>(y * width + x) * static_cast<std::size_t>(per_pixel) +
                              static_cast<std::size_t>(s)];
        if (bit_depth == 16) {
          out += static_cast<char>(v >> 8);
          out += static_cast<char>(v & 0xff);
        } else if (bit_depth == 8) {
          out += static_cast<char>(v);
        } else {
          acc = acc << bit_depth | v;
          bits += bit_depth;
          if (bits == 8) {
            out += static_cast<char>(acc);
            bits = acc = 0;
          }
        }
      }
    }
    if (bits > 0) out += static_cast<char>(acc << (8 - bits));
    return out;
  };
  std::string raw;
  if (!adam7) {
    for (int y = 0; y < height; ++y) raw += row(y, 0, 1);
  } else {
    const int passes[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                              {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};  // x0, y0, dx, dy
    for (const auto& p : passes)
      if (p[0] < width && p[1] < height)
        for (int y = p[1]; y < height; y += p[3]) raw += row(y, p[0], p[2]);
  }
  return kPngSignature +
         ihdr(static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(height), bit_depth, color_type, adam7) +
         (plte.empty() ? "" : chunk("PLTE", plte)) + chunk("IDAT", zlib_compress(raw)) + chunk("IEND", "");
}

std::string gray_png(int width, int height, const std::vector<int>& values) { return png(width, height, 0, 8, values); }

// ---- Writing JPEG files with libjpeg ----

std::string jpeg(int width, int height, int components, const std::vector<unsigned char>& pixels, int quality = 100,
                 bool progressive = false) {
  jpeg_compress_struct c{};
  jpeg_error_mgr errors{};
  c.err = jpeg_std_error(&errors);  // a test's own writer: libjpeg's default handler (exit) never fires here
  jpeg_create_compress(&c);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buffer, &size);
  c.image_width = static_cast<JDIMENSION>(width);
  c.image_height = static_cast<JDIMENSION>(height);
  c.input_components = components;
  c.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  std::vector<unsigned char> row(static_cast<std::size_t>(width * components));
  while (c.next_scanline < c.image_height) {
    const auto at = static_cast<std::size_t>(c.next_scanline) * row.size();
    std::copy(pixels.begin() + static_cast<std::ptrdiff_t>(at),
              pixels.begin() + static_cast<std::ptrdiff_t>(at + row.size()), row.begin());
    JSAMPROW rows[1] = {row.data()};
    jpeg_write_scanlines(&c, rows, 1);
  }
  jpeg_finish_compress(&c);
  std::string out(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  jpeg_destroy_compress(&c);
  return out;
}

// ---- Files, folders, messages ----

std::string write_file(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return path;
}

// A folder in the test's temporary space holding `files` (relative path -> bytes; a path ending in
// '/' is an empty folder).
std::string folder(const std::string& name, const std::map<std::string, std::string>& files) {
  std::string dir = testing::temp_path(name);
  fs::create_directories(dir);
  for (const auto& [relative, bytes] : files) {
    const std::string path = (fs::path(dir) / relative).string();
    if (relative.ends_with('/'))
      fs::create_directories(path);
    else
      write_file(path, bytes);
  }
  return dir;
}

// `text` with every `path` replaced by `as`.
std::string replaced(const std::string& text, const std::string& path, const std::string& as) {
  std::string out;
  std::size_t from = 0;
  for (std::size_t at; (at = text.find(path, from)) != std::string::npos; from = at + path.size())
    out += text.substr(from, at - from) + as;
  return out + text.substr(from);
}

// The InputError message of `run`, with `path` replaced by `as`.
template <typename Run>
std::string error_of(Run&& run, const std::string& path, const std::string& as = "F") {
  try {
    run();
  } catch (const InputError& e) {
    return replaced(e.what(), path, as);
  }
  return "(no error)";
}

std::string decode_error(const std::string& name, const std::string& bytes) {
  const std::string path = testing::write_temp(name, "");
  write_file(path, bytes);
  return error_of([&] { decode_image(path); }, path);
}

DecodedImage decode(const std::string& name, const std::string& bytes) {
  const std::string path = testing::write_temp(name, "");
  write_file(path, bytes);
  return decode_image(path);
}

std::vector<unsigned char> bytes_of(std::initializer_list<int> values) {
  std::vector<unsigned char> out;
  for (int v : values) out.push_back(static_cast<unsigned char>(v));
  return out;
}

// ---- Decoding ----

TEST(ImageDecode, PngColorTypesAndBitDepthsDecodeExactly) {
  const DecodedImage gray = decode("a.png", png(3, 2, 0, 8, {0, 1, 2, 253, 254, 255}));
  EXPECT_EQ(gray.format, ImageFormat::Png);
  EXPECT_EQ(gray.height, 2);
  EXPECT_EQ(gray.width, 3);
  EXPECT_EQ(gray.channels, 1);
  EXPECT_EQ(gray.pixels, bytes_of({0, 1, 2, 253, 254, 255}));
  EXPECT_FALSE(gray.alpha_dropped);
  const DecodedImage rgb = decode("b.png", png(2, 1, 2, 8, {10, 20, 30, 40, 50, 60}));
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels, bytes_of({10, 20, 30, 40, 50, 60}));
  // Alpha is dropped, not composited.
  const DecodedImage gray_alpha = decode("c.png", png(2, 1, 4, 8, {7, 255, 9, 0}));
  EXPECT_EQ(gray_alpha.channels, 1);
  EXPECT_EQ(gray_alpha.pixels, bytes_of({7, 9}));
  EXPECT_TRUE(gray_alpha.alpha_dropped);
  const DecodedImage rgba = decode("d.png", png(2, 1, 6, 8, {1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(rgba.pixels, bytes_of({1, 2, 3, 5, 6, 7}));
  // Palettes are expanded to RGB, at 8 and 2 bits per index.
  const std::string plte = "\x0a\x14\x1e\xc8\x64\x32"s;
  EXPECT_EQ(decode("e.png", png(2, 1, 3, 8, {1, 0}, plte)).pixels, bytes_of({200, 100, 50, 10, 20, 30}));
  EXPECT_EQ(decode("f.png", png(3, 1, 3, 2, {1, 0, 1}, plte)).pixels,
            bytes_of({200, 100, 50, 10, 20, 30, 200, 100, 50}));
  // Gray below 8 bits is widened to the full range: 1 bit x 255, 2 bits x 85, 4 bits x 17.
  EXPECT_EQ(decode("g.png", png(9, 1, 0, 1, {1, 0, 1, 1, 0, 0, 0, 1, 1})).pixels,
            bytes_of({255, 0, 255, 255, 0, 0, 0, 255, 255}));
  EXPECT_EQ(decode("h.png", png(3, 1, 0, 2, {0, 1, 3})).pixels, bytes_of({0, 85, 255}));
  EXPECT_EQ(decode("i.png", png(2, 1, 0, 4, {3, 15})).pixels, bytes_of({51, 255}));
  // 16 bits rounded to 8: round(v * 255 / 65535).
  const std::vector<int> wide = {0, 128, 129, 0x1234, 0x8080, 0xff00, 0xff7f, 65535};
  const DecodedImage sixteen = decode("j.png", png(8, 1, 0, 16, wide));
  EXPECT_TRUE(sixteen.rounded_16_bit);
  std::vector<unsigned char> rounded;
  rounded.reserve(wide.size());
  for (int v : wide) rounded.push_back(static_cast<unsigned char>((v * 255 + 32767) / 65535));
  EXPECT_EQ(sixteen.pixels, rounded);
  EXPECT_EQ(rounded, bytes_of({0, 0, 1, 18, 128, 254, 255, 255}));
  // Adam7 interlacing, on an image whose passes are uneven (5 x 6).
  std::vector<int> samples(std::size_t{5} * 6 * 3);
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<int>(i * 7 % 256);
  const DecodedImage interlaced = decode("k.png", png(5, 6, 2, 8, samples, "", true));
  EXPECT_EQ(interlaced.pixels, std::vector<unsigned char>(samples.begin(), samples.end()));
}

TEST(ImageDecode, JpegGrayAndColorBaselineAndProgressive) {
  const DecodedImage gray = decode("a.jpg", jpeg(16, 8, 1, std::vector<unsigned char>(std::size_t{16} * 8, 100)));
  EXPECT_EQ(gray.format, ImageFormat::Jpeg);
  EXPECT_EQ(gray.width, 16);
  EXPECT_EQ(gray.height, 8);
  EXPECT_EQ(gray.channels, 1);
  EXPECT_EQ(gray.pixels, std::vector<unsigned char>(std::size_t{16} * 8, 100));  // one DC value per block, quality 100
  std::vector<unsigned char> color;
  for (int i = 0; i < 16 * 16; ++i) color.insert(color.end(), {200, 100, 50});
  for (const bool progressive : {false, true}) {
    const DecodedImage rgb = decode("b.jpeg", jpeg(16, 16, 3, color, 100, progressive));
    EXPECT_EQ(rgb.channels, 3);
    ASSERT_EQ(rgb.pixels.size(), color.size());
    for (std::size_t i = 0; i < color.size(); ++i)  // YCbCr and back: within 2 of each value
      ASSERT_NEAR(rgb.pixels[i], color[i], 2) << i << (progressive ? " progressive" : " baseline");
  }
  // The format comes from the bytes, not the name.
  EXPECT_EQ(decode("c.png", jpeg(8, 8, 1, std::vector<unsigned char>(64, 7))).format, ImageFormat::Jpeg);
}

TEST(ImageDecode, OversizedHeadersAreRefusedBeforeDecoding) {
  // A header and no pixel data: refused from the header alone.
  const std::string no_data = chunk("IDAT", zlib_compress("")) + chunk("IEND", "");
  EXPECT_EQ(decode_error("a.png", kPngSignature + ihdr(100000, 100000, 8, 0) + no_data),
            "F: error: PNG header: the image is 100000x100000 pixels (width x height), 10000000000 pixels, over the "
            "limit of 67108864 pixels (8192 x 8192) per image");
  EXPECT_EQ(decode_error("b.png", kPngSignature + ihdr(2147483647, 1, 8, 2) + no_data),
            "F: error: PNG header: the image is 2147483647x1 pixels (width x height), 2147483647 pixels, over the "
            "limit of 67108864 pixels (8192 x 8192) per image");
  // A JPEG whose frame header (SOF0: length, precision, height, width) says 60000 x 50000.
  std::string big = jpeg(8, 8, 1, std::vector<unsigned char>(64, 0));
  const std::size_t sof = big.find("\xff\xc0"s);
  ASSERT_NE(sof, std::string::npos);
  big.replace(sof + 5, 4, "\xc3\x50\xea\x60"s);  // height 50000, width 60000
  EXPECT_EQ(decode_error("c.jpg", big),
            "F: error: JPEG header: the image is 60000x50000 pixels (width x height), 3000000000 pixels, over the "
            "limit of 67108864 pixels (8192 x 8192) per image");
  // 8192 x 8192 is the limit itself: this header passes and the missing data is what is refused.
  EXPECT_EQ(decode_error("d.png", kPngSignature + ihdr(8192, 8192, 8, 0) + no_data),
            "F: error: damaged or unreadable PNG: libpng: Not enough image data");
}

TEST(ImageDecode, DamagedFilesAreRefusedNamingTheFile) {
  std::vector<int> ramp(std::size_t{32} * 32);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<int>(i % 251);
  const std::string good = gray_png(32, 32, ramp);
  ASSERT_EQ(decode("ok.png", good).pixels.size(), 32u * 32);
  // Cut in the image data, cut before IEND, a flipped byte in the compressed data, in its CRC.
  EXPECT_EQ(decode_error("a.png", good.substr(0, good.size() / 2)),
            "F: error: damaged or unreadable PNG: libpng: "
            "Read Error");
  EXPECT_EQ(decode_error("b.png", good.substr(0, good.size() - 12)),
            "F: error: damaged or unreadable PNG: libpng: Read Error");
  std::string flipped = good, crc = good;
  flipped[kPngSignature.size() + 25 + 8 + 10] ^= 0x10;
  EXPECT_EQ(decode_error("c.png", flipped),
            "F: error: damaged or unreadable PNG: libpng: IDAT: invalid code lengths set");
  crc[good.size() - 12 - 1] ^= 0x01;  // the last byte of IDAT's CRC, before the 12-byte IEND
  EXPECT_EQ(decode_error("c2.png", crc), "F: error: damaged or unreadable PNG: libpng: IDAT: CRC error");
  EXPECT_EQ(decode_error("d.png", kPngSignature + ihdr(0, 4, 8, 0) + chunk("IEND", "")),
            "F: error: damaged or unreadable PNG: libpng: Invalid IHDR data");
  EXPECT_EQ(decode_error("e.png", kPngSignature + ihdr(4, 4, 7, 0) + chunk("IEND", "")),
            "F: error: damaged or unreadable PNG: libpng: Invalid IHDR data");

  std::vector<unsigned char> noise(std::size_t{64} * 64);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<unsigned char>(i * 37 % 256);
  const std::string photo = jpeg(64, 64, 1, noise, 90);
  ASSERT_EQ(decode("ok.jpg", photo).pixels.size(), 64u * 64);
  EXPECT_EQ(decode_error("f.jpg", photo.substr(0, photo.size() / 2)),
            "F: error: damaged JPEG: libjpeg: Premature end of JPEG file (and 1 more warning)");
  EXPECT_EQ(decode_error("g.jpg", "\xff\xd8\xff\x00garbage"s),
            "F: error: damaged or unreadable JPEG: libjpeg: JPEG datastream contains no image");
  std::string twelve = photo;
  twelve[twelve.find("\xff\xc0"s) + 4] = 12;  // the frame header's sample precision
  EXPECT_EQ(decode_error("h.jpg", twelve),
            "F: error: damaged or unreadable JPEG: libjpeg: Unsupported JPEG data precision 12");

  EXPECT_EQ(decode_error("i.png", "GIF89a\x01\x00"s),
            "F: error: not a PNG or JPEG file: it starts with the bytes 47 49 46 38 39 61 01 00 (PNG files start "
            "with 89 50 4e 47 0d 0a 1a 0a, JPEG files with ff d8 ff)");
  EXPECT_EQ(decode_error("j.png", "\x89P"s),
            "F: error: not a PNG or JPEG file: it starts with the bytes 89 50 (PNG files start with 89 50 4e 47 0d 0a "
            "1a 0a, JPEG files with ff d8 ff)");
  EXPECT_EQ(decode_error("k.png", ""), "F: error: the file is empty: expected a PNG or JPEG image");
  EXPECT_EQ(error_of([] { decode_image("/nonexistent/x.png"); }, "/nonexistent/x.png"),
            "F: error: cannot open file for reading");
}

// ---- Preprocessing arithmetic ----

DecodedImage image(int height, int width, int channels, const std::vector<int>& values) {
  DecodedImage d;
  d.height = height;
  d.width = width;
  d.channels = channels;
  for (int v : values) d.pixels.push_back(static_cast<unsigned char>(v));
  EXPECT_EQ(d.pixels.size(), static_cast<std::size_t>(height * width * channels));
  return d;
}

// A spec with no resize or crop: `channels`, scale 1 unless given, mean 0, std 1 per channel.
ImagePreprocess spec(ImageChannels channels, double scale = 1) {
  ImagePreprocess p;
  p.channels = channels;
  p.scale_numerator = scale;
  p.scale_denominator = 1;
  p.mean.assign(static_cast<std::size_t>(p.channel_count()), 0.0);
  p.stddev.assign(static_cast<std::size_t>(p.channel_count()), 1.0);
  return p;
}

std::vector<float> run(const DecodedImage& img, const ImagePreprocess& p) {
  return preprocess_image(img, p, image_geometry(img.height, img.width, p, "F"));
}

TEST(ImagePreprocessing, ScaleMeanStdAndChannelOrderOnHandComputedPixels) {
  // Two RGB pixels (51, 102, 153) and (204, 255, 0), read as b, g, r with scale 1/255, mean
  // (0.5, 0.4, 0.3) and std (0.25, 0.5, 0.1) in that order:
  //   b: (153/255 - 0.5) / 0.25 = 0.4,  (0 - 0.5) / 0.25 = -2
  //   g: (102/255 - 0.4) / 0.5 = 0,      (255/255 - 0.4) / 0.5 = 1.2
  //   r: (51/255 - 0.3) / 0.1 = -1,      (204/255 - 0.3) / 0.1 = 5
  ImagePreprocess p = spec(ImageChannels::Bgr);
  p.scale_denominator = 255;
  p.mean = {0.5, 0.4, 0.3};
  p.stddev = {0.25, 0.5, 0.1};
  const std::vector<float> out = run(image(1, 2, 3, {51, 102, 153, 204, 255, 0}), p);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_FLOAT_EQ(out[0], 0.4f);
  EXPECT_FLOAT_EQ(out[1], -2.0f);
  EXPECT_FLOAT_EQ(out[2], 0.0f);
  EXPECT_FLOAT_EQ(out[3], 1.2f);
  EXPECT_FLOAT_EQ(out[4], -1.0f);
  EXPECT_FLOAT_EQ(out[5], 5.0f);
  // rgb keeps the order: planes r, g, b.
  EXPECT_EQ(run(image(1, 2, 3, {51, 102, 153, 204, 255, 0}), spec(ImageChannels::Rgb)),
            (std::vector<float>{51, 204, 102, 255, 153, 0}));
}

TEST(ImagePreprocessing, GrayConversionBothWays) {
  // Color to gray: 0.299 R + 0.587 G + 0.114 B, not rounded.
  const std::vector<float> luma =
      run(image(1, 4, 3, {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30}), spec(ImageChannels::Gray));
  EXPECT_EQ(luma, (std::vector<float>{76.245f, 149.685f, 29.07f, 18.15f}));
  // Gray to three channels: the value repeated in each.
  EXPECT_EQ(run(image(1, 2, 1, {9, 200}), spec(ImageChannels::Bgr)), (std::vector<float>{9, 200, 9, 200, 9, 200}));
}

TEST(ImagePreprocessing, WithoutResizingEveryByteOver255IsWhatTheIdxLoaderComputes) {
  // The Fashion-MNIST loader computes float(p) / 255.0f; scale 1/255 in double, rounded once, is the
  // same float for every byte (p / 255 is never close enough to a float rounding boundary to differ).
  std::vector<int> all(256);
  for (int v = 0; v < 256; ++v) all[static_cast<std::size_t>(v)] = v;
  ImagePreprocess p = spec(ImageChannels::Gray);
  p.scale_denominator = 255;
  const std::vector<float> out = run(image(16, 16, 1, all), p);
  for (int v = 0; v < 256; ++v) ASSERT_EQ(out[static_cast<std::size_t>(v)], static_cast<float>(v) / 255.0f) << v;
}

TEST(ImagePreprocessing, BilinearResizeOnHalfPixelCentres) {
  // 2x2 to 4x4: output x maps to (x + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped
  // to 1); the same for rows. Row 1 is 0.75 of row 0 and 0.25 of row 1 of the source, and so on.
  ImagePreprocess p = spec(ImageChannels::Gray);
  p.resize_to = std::array<std::int64_t, 2>{4, 4};
  EXPECT_EQ(run(image(2, 2, 1, {0, 100, 200, 255}), p), (std::vector<float>{
                                                            0, 25, 75, 100,                   //
                                                            50, 72.1875, 116.5625, 138.75,    //
                                                            150, 166.5625, 199.6875, 216.25,  //
                                                            200, 213.75, 241.25, 255,         //
                                                        }));
  // 1x4 to 1x2: x maps to 0.5 and 2.5, halfway between neighbours.
  p.resize_to = std::array<std::int64_t, 2>{1, 2};
  EXPECT_EQ(run(image(1, 4, 1, {0, 40, 80, 120}), p), (std::vector<float>{20, 100}));
}

TEST(ImagePreprocessing, ShorterSideResizeAndCentreCropGeometry) {
  ImagePreprocess p = spec(ImageChannels::Gray);
  p.resize_shorter = 2;
  const auto sizes = [&](std::int64_t h, std::int64_t w) {
    const ImageGeometry g = image_geometry(h, w, p, "F");
    return std::vector<std::int64_t>{g.resized_h, g.resized_w, g.top, g.left, g.height, g.width};
  };
  EXPECT_EQ(sizes(4, 6), (std::vector<std::int64_t>{2, 3, 0, 0, 2, 3}));
  EXPECT_EQ(sizes(6, 4), (std::vector<std::int64_t>{3, 2, 0, 0, 3, 2}));
  EXPECT_EQ(sizes(3, 5), (std::vector<std::int64_t>{2, 3, 0, 0, 2, 3}));  // floor(2 x 5 / 3) = 3
  EXPECT_EQ(sizes(7, 7), (std::vector<std::int64_t>{2, 2, 0, 0, 2, 2}));
  // Centre crops, offsets rounded down: 5 -> 3 starts at 1, 4 -> 3 at 0, 6 -> 4 at 1.
  p.resize_shorter.reset();
  p.crop = std::array<std::int64_t, 2>{3, 3};
  EXPECT_EQ(sizes(5, 5), (std::vector<std::int64_t>{5, 5, 1, 1, 3, 3}));
  EXPECT_EQ(sizes(4, 4), (std::vector<std::int64_t>{4, 4, 0, 0, 3, 3}));
  p.crop = std::array<std::int64_t, 2>{2, 4};
  EXPECT_EQ(sizes(4, 6), (std::vector<std::int64_t>{4, 6, 1, 1, 2, 4}));
  // The crop's values are the pixels of the window.
  std::vector<int> grid(24);
  for (int i = 0; i < 24; ++i) grid[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(run(image(4, 6, 1, grid), p), (std::vector<float>{7, 8, 9, 10, 13, 14, 15, 16}));
  // Resize, then crop: 2x2 -> 4x4 (above) -> its centre 2x2.
  p.resize_shorter = 4;
  p.crop = std::array<std::int64_t, 2>{2, 2};
  EXPECT_EQ(run(image(2, 2, 1, {0, 100, 200, 255}), p), (std::vector<float>{72.1875, 116.5625, 166.5625, 199.6875}));
  // A crop larger than the image, and a resize past the pixel limit.
  p.resize_shorter.reset();
  p.crop = std::array<std::int64_t, 2>{3, 3};
  EXPECT_EQ(error_of([&] { image_geometry(2, 5, p, "a.png"); }, "a.png"),
            "F: error: the image is 2x5 (height x width), smaller than the crop [3, 3]");
  p.resize_shorter = 1;
  EXPECT_EQ(error_of([&] { image_geometry(4, 4, p, "a.png"); }, "a.png"),
            "F: error: the image is 1x1 (height x width) after resizing, smaller than the crop [3, 3]");
  p.crop.reset();
  p.resize_shorter = 8192;
  EXPECT_EQ(error_of([&] { image_geometry(1, 10, p, "a.png"); }, "a.png"),
            "F: error: resizing the shorter side to 8192 makes the 1x10 image (height x width) 8192x81920, "
            "671088640 pixels, over the limit of 67108864 pixels (8192 x 8192) per image");
}

// ---- The spec file ----

ImagePreprocess load_spec(const std::string& text, std::optional<sim::Shape> input) {
  return load_image_preprocess(testing::write_temp("spec.yaml", text), input);
}

std::string spec_error(const std::string& text, std::optional<sim::Shape> input) {
  const std::string path = testing::write_temp("spec.yaml", text);
  return error_of([&] { load_image_preprocess(path, input); }, path);
}

TEST(ImageSpec, DefaultsFollowTheModel) {
  const ImagePreprocess rgb = load_spec("", sim::Shape{3, 224, 224});
  EXPECT_EQ(rgb.describe(), "resize none, crop none, channels rgb, scale 1/255, mean [0, 0, 0], std [1, 1, 1]");
  EXPECT_TRUE(rgb.labels_csv.empty());
  EXPECT_TRUE(rgb.classes.empty());
  EXPECT_EQ(load_spec("# nothing but a comment\n", sim::Shape{1, 28, 28}).describe(),
            "resize none, crop none, channels gray, scale 1/255, mean [0], std [1]");
  EXPECT_EQ(load_spec("", std::nullopt).describe(),
            "resize none, crop none, channels rgb, scale 1/255, mean [0, 0, 0], std [1, 1, 1]");
  // torchvision's ImageNet recipe, and a Caffe-style one.
  const ImagePreprocess imagenet = load_spec(
      "resize: 256\ncrop: 224\nchannels: rgb\nscale: 1/255\nmean: [0.485, 0.456, 0.406]\nstd: [0.229, 0.224, "
      "0.225]\n",
      sim::Shape{3, 224, 224});
  EXPECT_EQ(imagenet.describe(),
            "resize 256 (the shorter side), crop [224, 224], channels rgb, scale 1/255, mean [0.485, 0.456, 0.406], "
            "std [0.229, 0.224, 0.225]");
  EXPECT_EQ(load_spec("resize: [32, 48]\ncrop: [32, 40]\nchannels: bgr\nscale: 1\nmean: [103.9, 116.8, 123.7]\n",
                      sim::Shape{3, 32, 40})
                .describe(),
            "resize [32, 48], crop [32, 40], channels bgr, scale 1, mean [103.9, 116.8, 123.7], std [1, 1, 1]");
  EXPECT_EQ(load_spec("scale: 0.5 / 2\nmean: 0.5\nstd: 0.25\n", sim::Shape{3, 1, 1}).describe(),
            "resize none, crop none, channels rgb, scale 0.5/2, mean [0.5, 0.5, 0.5], std [0.25, 0.25, 0.25]");
}

TEST(ImageSpec, EveryProblemAtOnceAtItsLineWithDidYouMean) {
  EXPECT_EQ(spec_error("resize: 256\ncrpo: [224, 224]\nchannels: rbg\nscale: 1/0\nmean: [0.5, 0.5]\nstd: [1, 0, 1]\n",
                       sim::Shape{3, 224, 224}),
            "F:2:1: error: crpo: unknown key (did you mean 'crop'?); expected one of: resize, crop, channels, scale, "
            "mean, std, labels, classes\n"
            "F:3:11: error: channels: expected one of rgb, bgr, gray, got 'rbg' (did you mean 'rgb'?)\n"
            "F:4:8: error: scale: expected a number > 0 or a fraction A/B (e.g. 1/255), got '1/0'\n"
            "F:6:10: error: std[1]: expected a number > 0, got '0'\n"
            "F:5:7: error: mean: 2 values for channels rgb (3 channels): expected 1 or 3");
  EXPECT_EQ(spec_error("resize: [1, 2, 3]\ncrop: {h: 2}\n", sim::Shape{3, 2, 2}),
            "F:1:9: error: resize: expected S (an integer >= 1) or [H, W] (two integers >= 1), got a list of 3\n"
            "F:2:7: error: crop: expected S (an integer >= 1) or [H, W] (two integers >= 1), got a map");
  EXPECT_EQ(spec_error("resize: [100000, 100000]\ncrop: 0\n", sim::Shape{3, 2, 2}),
            "F:1:9: error: resize: [100000, 100000] is 10000000000 pixels, over the limit of 67108864 pixels (8192 x "
            "8192) per image\n"
            "F:2:7: error: crop: expected an integer from 1 to 67108864, got '0'");
  EXPECT_EQ(spec_error("channels: gray\n", sim::Shape{3, 8, 8}),
            "F:1:11: error: channels: gray gives 1 channel, the model's input is 3x8x8 (C x H x W)");
  EXPECT_EQ(spec_error("", sim::Shape{4, 8, 8}),
            "F: error: the model's input is 4x8x8 (C x H x W): images give 1 channel (channels: gray) or 3 (rgb, bgr)");
  EXPECT_EQ(spec_error("resize: 256\ncrop: [224, 224]\n", sim::Shape{3, 32, 32}),
            "F:2:7: error: crop: [224, 224] (height, width), the model's input is 3x32x32 (C x H x W): the crop must "
            "be its height and width");
  EXPECT_EQ(spec_error("resize: [30, 30]\n", sim::Shape{1, 28, 28}),
            "F:1:9: error: resize: [30, 30] (height, width), the model's input is 1x28x28 (C x H x W): without a crop "
            "the resized image must be its height and width");
  EXPECT_EQ(spec_error("mean: [a]\nstd: []\nscale: -2\n", sim::Shape{1, 8, 8}),
            "F:3:8: error: scale: expected a number > 0 or a fraction A/B (e.g. 1/255), got '-2'\n"
            "F:1:8: error: mean[0]: expected a number, got 'a'\n"
            "F:2:6: error: std: expected a number > 0 or a list of them (one per channel), got an empty list");
  EXPECT_EQ(spec_error("scale: 1e300\n", sim::Shape{1, 8, 8}),
            "F: error: scale, mean and std map the value 255 of channel 0 to 2.55e+302, beyond float32");
  EXPECT_EQ(spec_error("labels: nope.csv\nclasses: [cat, dog, cat, a/b]\n", sim::Shape{1, 8, 8}),
            "F:2:21: error: classes[2]: 'cat' is listed twice (first as classes[0])\n"
            "F:2:26: error: classes[3]: expected a folder name (no '/'), got 'a/b'\n"
            "F:1:9: error: labels: cannot open 'nope.csv' (a CSV file, relative to the spec's folder)\n"
            "F:2:10: error: classes: names class folders, and labels (a CSV file) gives class numbers: give one of "
            "them");
  EXPECT_EQ(spec_error("- resize\n", sim::Shape{1, 8, 8}),
            "F:1:1: error: expected a map of preprocessing keys (resize, crop, channels, scale, mean, std, labels, "
            "classes) or an empty file, got a list");
  EXPECT_EQ(spec_error("scale: 1\nscale: 2\n", sim::Shape{1, 8, 8}),
            "F:2:1: error: scale: duplicate key (first at line 1)");
}

TEST(ImageSpec, TheParameterTableListsEveryKeyOnce) {
  std::vector<std::string> keys;
  for (const ImageParam& p : image_preprocess_parameters()) keys.emplace_back(p.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"resize", "crop", "channels", "scale", "mean", "std", "labels", "classes"}));
  // The README documents the same keys with the same defaults.
  std::ifstream in(kSource + "/README.md");
  const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const ImageParam& p : image_preprocess_parameters())
    EXPECT_NE(readme.find(fmt::format("| `{}` | {} | {} |", p.key, p.type, p.default_text)), std::string::npos)
        << p.key;
}

// ---- Folders ----

const std::string kSpec = "preprocess.yaml";

// A 2x2 gray PNG (or JPEG) filled with `v`.
std::string tile(int v) { return gray_png(2, 2, {v, v, v, v}); }
std::string tile_jpeg(int v) { return jpeg(2, 2, 1, std::vector<unsigned char>(4, static_cast<unsigned char>(v))); }

const sim::Shape kTile{1, 2, 2};

std::string load_error(const std::string& spec, const std::string& dir, std::optional<sim::Shape> input = kTile) {
  return error_of([&] { load_dataset(spec, input); }, dir, "D");
}

// The first value of every image: the tiles' fill values over 255.
std::vector<float> firsts(const Dataset& d) {
  std::vector<float> out;
  const auto per = static_cast<std::size_t>(d.shape.count());
  for (std::size_t i = 0; i < static_cast<std::size_t>(d.count); ++i) out.push_back(d.images[i * per] * 255.0f);
  return out;
}

std::vector<std::string> scrubbed_notes(const Dataset& d, const std::string& dir) {
  std::vector<std::string> out;
  for (const std::string& n : d.notes) out.push_back(replaced(n, dir, "D"));
  for (std::string& n : out) n = n.substr(n.find(": ") + 2);  // without the leading "D: "
  return out;
}

TEST(ImageFolder, ClassFoldersAreNumberedBySortedNames) {
  const std::string dir = folder("classes", {{kSpec, ""},
                                             {"cat/b.png", tile(2)},
                                             {"cat/a.png", tile(1)},
                                             {"dog/c.jpg", tile_jpeg(3)},
                                             {"bird/d.PNG", tile(4)}});
  const Dataset d = load_dataset(dir, kTile);
  EXPECT_EQ(d.name, dir);
  EXPECT_EQ(d.count, 4);
  EXPECT_EQ(d.shape, kTile);
  EXPECT_EQ(firsts(d), (std::vector<float>{4, 1, 2, 3}));  // bird/d.PNG, cat/a.png, cat/b.png, dog/c.jpg
  EXPECT_EQ(d.labels, (std::vector<int>{0, 1, 1, 2}));
  EXPECT_EQ(scrubbed_notes(d, dir),
            (std::vector<std::string>{
                "4 images (PNG 3, JPEG 1), in the order of their paths",
                "preprocessing from D/preprocess.yaml: resize none, crop none, channels gray, scale 1/255, mean [0], "
                "std [1]",
                "labels from the class folders, numbered in sorted order: 0 = 'bird', 1 = 'cat', 2 = 'dog'"}));
  // The first N in the same order.
  const Dataset two = load_dataset(dir + ":2", kTile);
  EXPECT_EQ(firsts(two), (std::vector<float>{4, 1}));
  EXPECT_EQ(two.labels, (std::vector<int>{0, 1}));
  EXPECT_EQ(scrubbed_notes(two, dir)[0], "the first 2 of 4 images (PNG 2, JPEG 0), in the order of their paths");
}

TEST(ImageFolder, TheSpecsClassesNumberTheFolders) {
  const std::string dir = folder("classes", {{kSpec, "classes: [dog, cat, bird, fish]\n"},
                                             {"cat/a.png", tile(1)},
                                             {"dog/c.png", tile(3)},
                                             {"bird/d.png", tile(4)}});
  const Dataset d = load_dataset(dir, kTile);
  EXPECT_EQ(firsts(d), (std::vector<float>{4, 1, 3}));
  EXPECT_EQ(d.labels, (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(scrubbed_notes(d, dir).back(),
            "labels from the class folders, numbered as the classes of D/preprocess.yaml: 0 = 'dog', 1 = 'cat', 2 = "
            "'bird', 3 = 'fish' (no images)");
  // A folder the classes do not name.
  write_file(dir + "/" + kSpec, "classes: [dogs, cat, bird]\n");
  EXPECT_EQ(load_error(dir, dir),
            "D/dog: error: a subfolder whose name is not in the classes of D/preprocess.yaml (did you mean 'dogs'?); "
            "they are: 'dogs', 'cat', 'bird'");
  // Classes, but no class folders.
  const std::string flat = folder("flat", {{kSpec, "classes: [a, b]\n"}, {"x.png", tile(1)}});
  EXPECT_EQ(load_error(flat, flat),
            "D: error: D/preprocess.yaml lists classes, but the images are not in class folders (DIR/CLASS/image.png)");
}

TEST(ImageFolder, FolderRulesAreChecked) {
  // Without subfolders: no labels.
  const std::string flat = folder("flat", {{kSpec, ""}, {"b.png", tile(2)}, {"a.jpeg", tile_jpeg(1)}});
  const Dataset d = load_dataset(flat, kTile);
  EXPECT_EQ(firsts(d), (std::vector<float>{1, 2}));
  EXPECT_TRUE(d.labels.empty());
  EXPECT_EQ(scrubbed_notes(d, flat).back(),
            "no labels (no class folders, no labels file in the spec): top-1 agreement with the float model is "
            "reported instead of accuracy");
  // Hidden entries and other files are skipped and named; the spec is not.
  const std::string mixed = folder("skips", {{kSpec, ""},
                                             {"cat/a.png", tile(1)},
                                             {"cat/.thumb.png", tile(9)},
                                             {".ipynb_checkpoints/", ""},
                                             {"README.txt", "x"},
                                             {"dog/notes.bmp", "x"},
                                             {"dog/b.png", tile(2)}});
  const Dataset m = load_dataset(mixed, kTile);
  EXPECT_EQ(m.labels, (std::vector<int>{0, 1}));
  EXPECT_EQ(scrubbed_notes(m, mixed)[2],
            "skipped 4 hidden entries or files that are not .png, .jpg or .jpeg: '.ipynb_checkpoints', "
            "'README.txt', 'cat/.thumb.png', 'dog/notes.bmp'");
  // Images both at the top and in subfolders; an empty class folder; a folder two levels down.
  const std::string both = folder("both", {{kSpec, ""}, {"a.png", tile(1)}, {"cat/b.png", tile(2)}});
  EXPECT_EQ(load_error(both, both),
            "D: error: images both in the folder (1, e.g. 'a.png') and in subfolders (1): as class folders every "
            "image must be in one; or give the labels in a CSV file (labels: FILE.csv in the spec)");
  const std::string empty = folder("empty", {{kSpec, ""}, {"cat/b.png", tile(2)}, {"dog/", ""}});
  EXPECT_EQ(load_error(empty, empty),
            "D/dog: error: a class folder without .png, .jpg or .jpeg images (class numbers count every subfolder, "
            "sorted by name): add images, remove it, or list the classes in the spec (classes: [...])");
  const std::string deep = folder("deep", {{kSpec, ""}, {"cat/b.png", tile(2)}, {"cat/more/c.png", tile(3)}});
  EXPECT_EQ(load_error(deep, deep),
            "D/cat/more: error: a folder inside a subfolder: bitsim reads the images in DIR and in its subfolders "
            "(one level down), not deeper");
  const std::string none = folder("none", {{kSpec, ""}, {"a.txt", "x"}});
  EXPECT_EQ(load_error(none, none),
            "D: error: no .png, .jpg or .jpeg images in the folder or in its subfolders (one level down)");
}

TEST(ImageFolder, SpecsAndSizesAreChecked) {
  const std::string dir = folder("specs", {{"a.png", tile(1)}, {"b.png", gray_png(2, 3, {1, 2, 3, 4, 5, 6})}});
  EXPECT_EQ(load_error(dir, dir),
            "D: error: no preprocess.yaml in the folder: write one (an empty file takes the defaults: no resize or "
            "crop, the model's channels, scale 1/255, mean 0, std 1), or name one with --data DIR:SPEC.yaml");
  // A spec named in --data, in either order with N; the second image is 3 high, 2 wide.
  const std::string other = testing::write_temp("other.yaml", "scale: 1\n");
  EXPECT_EQ(firsts(load_dataset(dir + ":1:" + other, kTile)), (std::vector<float>{255}));
  EXPECT_EQ(firsts(load_dataset(dir + ":" + other + ":1", kTile)), (std::vector<float>{255}));
  EXPECT_EQ(error_of([&] { load_dataset(dir + ":" + other, kTile); }, dir, "D"),
            fmt::format("D/b.png: error: the image is 3x2 (height x width) and {} neither resizes nor crops it; the "
                        "model's input is 1x2x2 (C x H x W): add resize and/or crop to the spec",
                        other));
  // Resized to 3x2 and cropped to 2x2, both fit; the shorter side to 2 leaves the second 3x2.
  write_file(dir + "/" + kSpec, "resize: [3, 2]\ncrop: [2, 2]\n");
  EXPECT_EQ(load_dataset(dir, kTile).count, 2);
  write_file(dir + "/" + kSpec, "resize: 2\n");
  EXPECT_EQ(load_error(dir, dir),
            "D/b.png: error: the image is 3x2 (height x width), 3x2 after resizing; the model's input is 1x2x2 (C x "
            "H x W)");
  EXPECT_EQ(load_error(dir + ":0", dir),
            "error: --data: expected DIR (a folder of images), then optionally :N (the first N >= 1 images) and "
            ":SPEC.yaml (the preprocessing spec; default DIR/preprocess.yaml), got 'D:0'");
  EXPECT_EQ(load_error(dir + ":2:3", dir),
            "error: --data: expected DIR (a folder of images), then optionally :N (the first N >= 1 images) and "
            ":SPEC.yaml (the preprocessing spec; default DIR/preprocess.yaml), got 'D:2:3'");
  EXPECT_EQ(load_error(dir + ":nope.yaml", dir), "nope.yaml: error: cannot open file for reading");
  EXPECT_EQ(load_error(dir + "/a.png", dir),
            "D/a.png: error: is a file, not a folder: --data reads PATH.npy, PATH.npz, or a folder of PNG and JPEG "
            "images (DIR[:N][:SPEC.yaml])");
  // A damaged image is refused by its path.
  write_file(dir + "/" + kSpec, "resize: [2, 2]\n");
  write_file(dir + "/c.png", tile(3).substr(0, 40));
  EXPECT_EQ(load_error(dir, dir), "D/c.png: error: damaged or unreadable PNG: libpng: Read Error");
  EXPECT_EQ(load_dataset(dir + ":2", kTile).count, 2);  // only the images taken are decoded
}

TEST(ImageFolder, WithoutAModelEveryImageMustComeOutTheSameSize) {
  const std::string dir = folder("sizes", {{kSpec, ""}, {"a.png", tile(1)}, {"b.png", gray_png(1, 2, {1, 2})}});
  EXPECT_EQ(load_dataset(dir + ":1").shape, (sim::Shape{3, 2, 2}));  // no model: rgb
  EXPECT_EQ(load_error(dir, dir, std::nullopt),
            "D/b.png: error: the image is 2x1 (height x width) and D/preprocess.yaml neither resizes nor crops it; the "
            "first image gave 2x2: every image must give the same size: add resize and/or crop to the spec");
}

TEST(ImageFolder, TheByteLimitIsCheckedBeforeDecoding) {
  // Five images that are not even images: the limit is checked against the model's input first.
  std::map<std::string, std::string> files{{kSpec, ""}};
  for (int i = 0; i < 5; ++i) files[fmt::format("{}.png", i)] = "not decoded";
  const std::string dir = folder("big", files);
  EXPECT_EQ(load_error(dir, dir, sim::Shape{3, 8192, 8192}),
            "D: error: preprocessed to 3x8192x8192: 5 images of 201326592 values are 4026531840 bytes as float32, "
            "over the limit of 1073741824 bytes (1 GiB): take fewer with D:N");
  EXPECT_EQ(load_error(dir + ":1", dir, sim::Shape{3, 8192, 8192}),
            "D/0.png: error: not a PNG or JPEG file: it starts with the bytes 6e 6f 74 20 64 65 63 6f (PNG files "
            "start with 89 50 4e 47 0d 0a 1a 0a, JPEG files with ff d8 ff)");
}

TEST(ImageFolder, LabelsFromACsvFile) {
  const std::string dir = folder("csv", {{kSpec, "labels: labels.csv\n"},
                                         {"b.png", tile(2)},
                                         {"a.png", tile(1)},
                                         {"sub/c.png", tile(3)},
                                         {"labels.csv", "file,label\nsub/c.png,7\na.png,0\n\n./b.png, 12\n"}});
  const Dataset d = load_dataset(dir, kTile);
  EXPECT_EQ(firsts(d), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(d.labels, (std::vector<int>{0, 12, 7}));
  EXPECT_EQ(scrubbed_notes(d, dir).back(), "labels from D/labels.csv");
  const auto csv_error = [&](const std::string& csv) {
    write_file(dir + "/labels.csv", csv);
    return load_error(dir, dir);
  };
  EXPECT_EQ(csv_error("file,label\na.png,3\nb.png,x\nnope.png,1\na.png,4\nsub/c.png,-1\nb.png,1,2\n"),
            "D/labels.csv:3:7: error: label: expected a class number from 0 to 2147483647, got 'x'\n"
            "D/labels.csv:4:1: error: file 'nope.png': no such image in D (a path relative to the folder, e.g. "
            "'a.png')\n"
            "D/labels.csv:5:1: error: file 'a.png': listed twice (first at line 2)\n"
            "D/labels.csv:6:11: error: label: expected a class number from 0 to 2147483647, got '-1'\n"
            "D/labels.csv:7:1: error: expected 2 fields (file,label), got 3");
  EXPECT_EQ(csv_error("file,label\na.png,3\n"),
            "D/labels.csv: error: 2 of the 3 images in D have no label: 'b.png', 'sub/c.png'");
  EXPECT_EQ(csv_error("image,class\na.png,3\n"),
            "D/labels.csv:1:1: error: expected the header 'file,label' (an image's path relative to the folder, its "
            "class number), got 'image,class'");
  EXPECT_EQ(csv_error(""),
            "D/labels.csv: error: the labels file is empty: expected the header 'file,label', then one row per image");
  EXPECT_EQ(csv_error("\xEF\xBB\xBF"
                      "file,label\n\"a.png,3\n"),
            "D/labels.csv:2:1: error: unterminated quoted field (a quoted field cannot span lines)\n"
            "D/labels.csv: error: 3 of the 3 images in D have no label: 'a.png', 'b.png', 'sub/c.png'");
}

TEST(DatasetIdentity, AFolderIsKeyedByItsFilesNamesAndBytes) {
  const std::string dir =
      folder("id", {{kSpec, ""}, {"cat/a.png", tile(1)}, {"cat/b.png", tile(2)}, {"dog/c.png", tile(3)}});
  const std::string all = dataset_identity(dir), two = dataset_identity(dir + ":2");
  EXPECT_EQ(all.rfind(dir + "|fnv1a64=", 0), 0u) << all;
  EXPECT_EQ(dataset_identity(dir), all);
  // Changing the third image changes what all images are, not what the first two are.
  write_file(dir + "/dog/c.png", tile(4));
  EXPECT_NE(dataset_identity(dir), all);
  EXPECT_EQ(dataset_identity(dir + ":2"), two);
  // Moving an image to another class, or changing the spec, changes both.
  fs::rename(dir + "/cat/b.png", dir + "/dog/b.png");
  EXPECT_NE(dataset_identity(dir + ":2"), two);
  fs::rename(dir + "/dog/b.png", dir + "/cat/b.png");
  EXPECT_EQ(dataset_identity(dir + ":2"), two);
  write_file(dir + "/" + kSpec, "scale: 1\n");
  EXPECT_NE(dataset_identity(dir + ":2"), two);
}

// tools/scripts/make_image_data.py wrote the first 16 Fashion-MNIST test images as gray PNG files, in
// class folders (numbered by the spec's classes) and in one folder with labels.csv: both read as the
// IDX files are, bit for bit (the class folders in another order).
TEST(ImageFolder, FashionMnistPngsMatchTheIdxFiles) {
  const sim::Shape in{1, 28, 28};
  const std::string flat_dir = kSource + "/tests/data/images/fmnist16_flat";
  const std::string classes_dir = kSource + "/tests/data/images/fmnist16";
  const Dataset flat = load_dataset(flat_dir, in);
  const Dataset classes = load_dataset(classes_dir, in);
  const std::vector<int> labels{9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5, 7, 3, 4, 1};
  EXPECT_EQ(flat.count, 16);
  EXPECT_EQ(flat.labels, labels);
  EXPECT_EQ(scrubbed_notes(classes, classes_dir).back(),
            "labels from the class folders, numbered as the classes of D/preprocess.yaml: 0 = 't-shirt-top' (no "
            "images), 1 = 'trouser', 2 = 'pullover', 3 = 'dress', 4 = 'coat', 5 = 'sandal', 6 = 'shirt', 7 = "
            "'sneaker', 8 = 'bag' (no images), 9 = 'ankle-boot'");
  // The class folders' order: by folder name, then file name (the test-set index).
  const std::vector<int> order{0, 6, 10, 14, 13, 1, 8, 11, 4, 7, 9, 12, 2, 3, 5, 15};
  ASSERT_EQ(classes.count, 16);
  const std::size_t per = std::size_t{28} * 28;
  for (std::size_t i = 0; i < 16; ++i) {
    const auto j = static_cast<std::size_t>(order[i]);
    EXPECT_EQ(classes.labels[i], labels[j]) << i;
    EXPECT_TRUE(std::equal(classes.images.begin() + static_cast<std::ptrdiff_t>(i * per),
                           classes.images.begin() + static_cast<std::ptrdiff_t>((i + 1) * per),
                           flat.images.begin() + static_cast<std::ptrdiff_t>(j * per)))
        << i;
  }
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const Dataset idx = load_dataset("fashion-mnist:16", in);
  EXPECT_EQ(flat.images, idx.images);
  EXPECT_EQ(flat.labels, idx.labels);
}

}  // namespace
}  // namespace bitsim::alloc
