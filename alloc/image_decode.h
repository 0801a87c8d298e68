// PNG and JPEG files decoded to 8-bit pixels with Debian's libpng and libjpeg-turbo: the size in the
// file's header is checked against kMaxImagePixels before anything is allocated, and every library
// error (libpng's longjmp, libjpeg's error_exit) becomes an InputError naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitsim::alloc {

// The most pixels one image may have, decoded or resized (8192 x 8192): larger is refused from the
// header, with the figure, before its pixels are allocated.
inline constexpr std::uint64_t kMaxImagePixels = std::uint64_t{1} << 26;
// A progressive JPEG with more scans than this is refused (each scan decodes the whole image
// again; libjpeg-turbo's djpeg -maxscans guards against the same).
inline constexpr int kMaxJpegScans = 500;

enum class ImageFormat { Png, Jpeg };

struct DecodedImage {
  ImageFormat format = ImageFormat::Png;
  int height = 0;
  int width = 0;
  int channels = 0;                   // 1 (gray) or 3 (R, G, B)
  std::vector<unsigned char> pixels;  // [height][width][channels], 0 to 255
  // What decoding changed, for the data set's notes.
  bool alpha_dropped = false;   // a PNG with an alpha channel: alpha is dropped, not composited
  bool rounded_16_bit = false;  // a 16-bit PNG: each value rounded to 8 bits (v * 255 / 65535)
};

// The image in `path`, told apart by its first bytes (PNG signature or JPEG SOI marker), not by
// its name. PNG: every color type and bit depth; palettes expanded to RGB, gray below 8 bits
// widened, transparency (tRNS) ignored, interlacing undone; libpng's warnings (e.g. a bad
// ancillary chunk) are ignored, its errors refuse the file; the chunks after the image data are
// read too, so a file cut after its pixels is refused. JPEG: gray or YCbCr/RGB (CMYK refused),
// baseline or progressive; any libjpeg warning (damaged data, a premature end) refuses the file.
// EXIF orientation and color profiles are not applied. Throws InputError at `path`.
DecodedImage decode_image(const std::string& path);

}  // namespace bitsim::alloc
