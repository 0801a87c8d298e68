// NumPy arrays on disk: .npy files and .npz archives (zip; entries stored or deflated), read with
// every length checked against the file. Opening reads each array's header (dtype, shape); values
// are read on demand from the first, so the first N images of a large file cost N images of
// reading (and inflating), never the whole file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitsim::alloc {

// The dtypes bitsim reads: little-endian (or single-byte) integers and floats, as numpy writes them
// ('<f4', '|u1', '<i8', ...).
enum class NpyDtype { Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float32, Float64 };

std::string_view npy_dtype_name(NpyDtype t);  // "float32", "int64", ...
std::size_t npy_dtype_bytes(NpyDtype t);
bool npy_is_float(NpyDtype t);

// numpy itself reads headers of at most 10,000 bytes by default (np.load max_header_size).
inline constexpr std::uint64_t kMaxNpyHeaderBytes = 65536;
// A zip central directory bigger than this is refused (46 bytes and a name per entry).
inline constexpr std::uint64_t kMaxZipDirectoryBytes = std::uint64_t{64} << 20;

// One array's bytes, read in order from where the header ends. A read past the data's end, a
// damaged deflate stream or a CRC-32 that does not match (checked once the whole entry was read)
// throws InputError naming the file, the entry and what was expected.
class NpyData {
 public:
  virtual ~NpyData() = default;
  virtual void read(std::span<unsigned char> out) = 0;
};

struct NpyArray {
  std::string file;               // the .npy or .npz path
  std::string entry;              // .npz: the zip entry ("images.npy"); .npy: empty
  std::string name;               // .npz: the entry without ".npy"; .npy: empty
  std::string descr;              // the header's dtype as written ("<f4"; "structured" for a record dtype)
  std::optional<NpyDtype> dtype;  // empty: a dtype bitsim does not read (`descr` says which)
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
  std::uint64_t values = 0;       // the product of `shape`
  std::unique_ptr<NpyData> data;  // at the first value (null for a dtype bitsim does not read)

  // For messages: "array 'images' (entry 'images.npy')", or "the array" for a .npy file.
  std::string label() const;
  // "[16, 1, 28, 28]"
  std::string shape_text() const;
};

// The array of a .npy file. InputError for a file that is not one (magic, version), a header
// that is not numpy's dict or runs past the file's end, a shape whose product overflows, or data
// of another size than the shape and dtype say.
NpyArray open_npy(const std::string& path);

// Every entry of an .npz archive whose name ends in ".npy", in the archive's order (others are
// skipped), each checked like open_npy. InputError for a file that is not a zip archive, a
// directory or local header that runs past the file's end or past another, a compression
// method other than stored (0) or deflate (8), an encrypted entry, or a name given twice.
std::vector<NpyArray> open_npz(const std::string& path);

// `n` values of type `t` from `raw` (little-endian), as float32 (float64 rounded to nearest) or
// as int64 (false if a uint64 value does not fit).
void npy_to_float(NpyDtype t, const unsigned char* raw, std::size_t n, float* out);
bool npy_to_int64(NpyDtype t, const unsigned char* raw, std::size_t n, std::int64_t* out);
// One value as a double (for messages: a float64 beyond float32's range).
double npy_value(NpyDtype t, const unsigned char* raw);

}  // namespace bitsim::alloc
