// PNG (libpng) and JPEG (libjpeg-turbo) decoding. Both libraries report errors by a callback that
// must not return: here it copies the message and longjmps back to a setjmp in a short function of
// library calls only (no object with a destructor lives across the jump, as C++ requires of
// longjmp); the caller then throws the InputError. Buffers are allocated between those functions.
#include "alloc/image_decode.h"

#include <fmt/format.h>
#include <png.h>
#include <array>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <filesystem>

// jpeglib.h needs size_t and FILE declared before it (above).
#include <jpeglib.h>

#include "sim/base/diagnostics.h"

namespace bitsim::alloc {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& message) { throw InputError({path, 0, 0}, message); }

// An open file, closed when it goes.
class CFile {
 public:
  explicit CFile(const std::string& path) : m_file(std::fopen(path.c_str(), "rb")) {}
  CFile(const CFile&) = delete;
  CFile& operator=(const CFile&) = delete;
  ~CFile() {
    if (m_file) std::fclose(m_file);
  }
  std::FILE* get() const { return m_file; }

 private:
  std::FILE* m_file;
};

// Refuses an image the header says is larger than kMaxImagePixels (or has no pixels).
void check_header_size(const std::string& path, const char* format, std::uint64_t width, std::uint64_t height) {
  if (width == 0 || height == 0)
    fail(path, fmt::format("{} header: the image is {}x{} pixels (width x height): it holds no pixels", format, width,
                           height));
  const std::uint64_t pixels = width * height;  // both below 2^32: no overflow
  if (pixels > kMaxImagePixels)
    fail(path, fmt::format("{} header: the image is {}x{} pixels (width x height), {} pixels, over the limit of {} "
                           "pixels (8192 x 8192) per image",
                           format, width, height, pixels, kMaxImagePixels));
}

// ---- PNG ----

// libpng's state for one file. Only trivially destructible members change between setjmp and
// longjmp; the destructor runs in ordinary code afterwards.
struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::jmp_buf jump{};
  std::array<char, 256> message{};
  PngReader() = default;
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;
  ~PngReader() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

[[noreturn]] void png_on_error(png_structp png, png_const_charp message) {
  auto* r = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(r->message.data(), r->message.size(), "%s", message ? message : "unknown error");
  std::longjmp(r->jump, 1);
}

void png_on_warning(png_structp /*png*/, png_const_charp /*message*/) {}  // benign by libpng's own judgement

struct PngHeader {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int bit_depth = 0;
  int color_type = 0;
};

// Creates libpng's structures and reads the chunks up to the image data. False on a libpng error.
bool png_read_header(PngReader& r, std::FILE* file, PngHeader& out) {
  if (setjmp(r.jump)) return false;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, png_on_error, png_on_warning);
  if (!r.png) return false;
  r.info = png_create_info_struct(r.png);
  if (!r.info) png_error(r.png, "out of memory");
  // bitsim checks the size itself (kMaxImagePixels), with the figure; libpng would stop at
  // 1,000,000 pixels per side with its own message.
  png_set_user_limits(r.png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_init_io(r.png, file);
  png_read_info(r.png, r.info);
  int interlace = 0, compression = 0, filter = 0;
  png_get_IHDR(r.png, r.info, &out.width, &out.height, &out.bit_depth, &out.color_type, &interlace, &compression,
               &filter);
  return true;
}

// Sets the transforms to 8-bit gray or RGB. False on a libpng error.
bool png_set_transforms(PngReader& r, const PngHeader& h) {
  if (setjmp(r.jump)) return false;
  if (h.color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r.png);
  if (h.color_type == PNG_COLOR_TYPE_GRAY && h.bit_depth < 8) png_set_expand_gray_1_2_4_to_8(r.png);
  if (h.bit_depth == 16) png_set_scale_16(r.png);
  if (h.color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(r.png);
  png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  return true;
}

// Reads every row, then the chunks after the image data. False on a libpng error.
bool png_read_pixels(PngReader& r, png_bytepp rows) {
  if (setjmp(r.jump)) return false;
  png_read_image(r.png, rows);
  png_read_end(r.png, nullptr);
  return true;
}

DecodedImage decode_png(const std::string& path, std::FILE* file) {
  PngReader r;
  const auto damaged = [&] { fail(path, fmt::format("damaged or unreadable PNG: libpng: {}", r.message.data())); };
  PngHeader h;
  if (!png_read_header(r, file, h)) damaged();
  check_header_size(path, "PNG", h.width, h.height);
  if (!png_set_transforms(r, h)) damaged();
  DecodedImage img;
  img.format = ImageFormat::Png;
  img.width = static_cast<int>(h.width);
  img.height = static_cast<int>(h.height);
  img.channels = png_get_channels(r.png, r.info);
  img.alpha_dropped = (h.color_type & PNG_COLOR_MASK_ALPHA) != 0;
  img.rounded_16_bit = h.bit_depth == 16;
  const std::size_t row_bytes = png_get_rowbytes(r.png, r.info);
  const std::size_t width = h.width, height = h.height, channels = static_cast<std::size_t>(img.channels);
  // After the transforms a row is 8-bit gray or RGB; anything else is a bug in the transforms.
  BITSIM_CHECK((channels == 1 || channels == 3) && png_get_bit_depth(r.png, r.info) == 8 &&
               row_bytes == width * channels);
  img.pixels.resize(height * row_bytes);
  std::vector<png_bytep> rows(height);
  for (std::size_t y = 0; y < height; ++y) rows[y] = img.pixels.data() + y * row_bytes;
  if (!png_read_pixels(r, rows.data())) damaged();
  return img;
}

// ---- JPEG ----

struct JpegReader {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr errors{};
  jpeg_progress_mgr progress{};
  bool created = false;
  std::jmp_buf jump{};
  std::array<char, JMSG_LENGTH_MAX> message{};
  std::array<char, JMSG_LENGTH_MAX> first_warning{};
  long warnings = 0;
  JpegReader() = default;
  JpegReader(const JpegReader&) = delete;
  JpegReader& operator=(const JpegReader&) = delete;
  ~JpegReader() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

JpegReader& reader_of(j_common_ptr cinfo) { return *static_cast<JpegReader*>(cinfo->client_data); }

[[noreturn]] void jpeg_on_error(j_common_ptr cinfo) {
  JpegReader& r = reader_of(cinfo);
  (*cinfo->err->format_message)(cinfo, r.message.data());
  std::longjmp(r.jump, 1);
}

// Level -1 is a warning: corrupt data that libjpeg decoded anyway (gray blocks, a faked end).
void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  JpegReader& r = reader_of(cinfo);
  if (r.warnings++ == 0) (*cinfo->err->format_message)(cinfo, r.first_warning.data());
}

void jpeg_on_progress(j_common_ptr cinfo) {
  const auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (cinfo->is_decompressor && d->input_scan_number > kMaxJpegScans) {
    JpegReader& r = reader_of(cinfo);
    std::snprintf(r.message.data(), r.message.size(), "more than %d scans (bitsim's limit)", kMaxJpegScans);
    std::longjmp(r.jump, 1);
  }
}

// Creates the decompressor and reads the markers up to the first scan. False on a libjpeg error.
bool jpeg_read_markers(JpegReader& r, std::FILE* file) {
  if (setjmp(r.jump)) return false;
  r.cinfo.err = jpeg_std_error(&r.errors);
  r.errors.error_exit = jpeg_on_error;
  r.errors.emit_message = jpeg_on_message;
  r.cinfo.client_data = &r;
  jpeg_create_decompress(&r.cinfo);
  r.created = true;
  r.progress.progress_monitor = jpeg_on_progress;
  r.cinfo.progress = &r.progress;
  jpeg_stdio_src(&r.cinfo, file);
  jpeg_read_header(&r.cinfo, TRUE);  // a file of tables only is an error (JPEG datastream contains no image)
  return true;
}

// Decodes every scanline into `pixels` (rows of `row_bytes`). False on a libjpeg error.
bool jpeg_read_pixels(JpegReader& r, unsigned char* pixels, std::size_t row_bytes) {
  if (setjmp(r.jump)) return false;
  jpeg_start_decompress(&r.cinfo);
  while (r.cinfo.output_scanline < r.cinfo.output_height) {
    JSAMPROW row = pixels + static_cast<std::size_t>(r.cinfo.output_scanline) * row_bytes;
    jpeg_read_scanlines(&r.cinfo, &row, 1);
  }
  jpeg_finish_decompress(&r.cinfo);
  return true;
}

std::string_view color_space_name(J_COLOR_SPACE s) {
  switch (s) {
    case JCS_CMYK:
      return "CMYK";
    case JCS_YCCK:
      return "YCCK";
    default:
      return "unknown";
  }
}

DecodedImage decode_jpeg(const std::string& path, std::FILE* file) {
  JpegReader r;
  const auto damaged = [&] { fail(path, fmt::format("damaged or unreadable JPEG: libjpeg: {}", r.message.data())); };
  if (!jpeg_read_markers(r, file)) damaged();
  check_header_size(path, "JPEG", r.cinfo.image_width, r.cinfo.image_height);
  const J_COLOR_SPACE space = r.cinfo.jpeg_color_space;
  if (space == JCS_GRAYSCALE) {
    r.cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (space == JCS_YCbCr || space == JCS_RGB) {
    r.cinfo.out_color_space = JCS_RGB;
  } else {
    fail(path, fmt::format("JPEG in the {} color space ({} components): bitsim reads gray, YCbCr and RGB JPEGs",
                           color_space_name(space), r.cinfo.num_components));
  }
  DecodedImage img;
  img.format = ImageFormat::Jpeg;
  img.width = static_cast<int>(r.cinfo.image_width);
  img.height = static_cast<int>(r.cinfo.image_height);
  img.channels = space == JCS_GRAYSCALE ? 1 : 3;
  const std::size_t row_bytes = static_cast<std::size_t>(img.width) * static_cast<std::size_t>(img.channels);
  img.pixels.resize(static_cast<std::size_t>(img.height) * row_bytes);
  if (!jpeg_read_pixels(r, img.pixels.data(), row_bytes)) damaged();
  if (r.warnings > 0)
    fail(path,
         fmt::format("damaged JPEG: libjpeg: {}{}", r.first_warning.data(),
                     r.warnings > 1 ? fmt::format(" (and {} more warning{})", r.warnings - 1, r.warnings > 2 ? "s" : "")
                                    : std::string()));
  return img;
}

}  // namespace

DecodedImage decode_image(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a folder, not a file");
  const CFile file(path);
  if (!file.get()) fail(path, "cannot open file for reading");
  std::array<unsigned char, 8> head{};
  const std::size_t got = std::fread(head.data(), 1, head.size(), file.get());
  if (got == 0) fail(path, "the file is empty: expected a PNG or JPEG image");
  std::rewind(file.get());
  static constexpr std::array<unsigned char, 8> kPng = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (got == 8 && head == kPng) return decode_png(path, file.get());
  if (got >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff) return decode_jpeg(path, file.get());
  std::string bytes;
  for (std::size_t i = 0; i < got; ++i) bytes += fmt::format("{}{:02x}", i ? " " : "", head[i]);
  fail(path, fmt::format("not a PNG or JPEG file: it starts with the bytes {} (PNG files start with 89 50 4e 47 0d "
                         "0a 1a 0a, JPEG files with ff d8 ff)",
                         bytes));
}

}  // namespace bitsim::alloc
