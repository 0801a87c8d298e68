// NumPy .npy files and .npz (zip) archives: headers parsed by hand, every length and offset checked
// against the file with overflow-checked arithmetic before anything is read or allocated.
#include "alloc/npy.h"

#include <fmt/format.h>
#include <zlib.h>
#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <set>

#include "sim/base/checked.h"
#include "sim/base/diagnostics.h"

namespace bitsim::alloc {
namespace {

std::uint64_t little_endian(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// An open file shared by the arrays of one archive; every read seeks first.
class File {
 public:
  explicit File(std::string path) : m_path(std::move(path)) {
    std::error_code ec;
    if (std::filesystem::is_directory(m_path, ec)) throw InputError({m_path, 0, 0}, "is a folder, not a file");
    m_in.open(m_path, std::ios::binary);
    if (!m_in) throw InputError({m_path, 0, 0}, "cannot open file for reading");
    m_in.seekg(0, std::ios::end);
    const std::streamoff end = m_in.tellg();
    if (end < 0) throw InputError({m_path, 0, 0}, "cannot tell the file's size");
    m_size = static_cast<std::uint64_t>(end);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return m_path; }
  std::uint64_t size() const { return m_size; }

  // Bytes [at, at + out.size()), which the caller has checked against size().
  void read(std::uint64_t at, std::span<unsigned char> out) {
    BITSIM_CHECK(at <= m_size && out.size() <= m_size - at);
    m_in.clear();
    m_in.seekg(static_cast<std::streamoff>(at));
    m_in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
    if (!m_in)
      throw InputError({m_path, 0, 0}, fmt::format("cannot read {} bytes at byte {} (the file holds {} bytes)",
                                                   out.size(), at, m_size));
  }

 private:
  std::string m_path;
  std::ifstream m_in;
  std::uint64_t m_size = 0;
};

// An array's bytes (header included): `size` bytes, read in order. `context` prefixes every message
// ("entry 'images.npy': " in an archive). With a CRC-32, the bytes are checked once all were read.
class Source : public NpyData {
 public:
  Source(std::shared_ptr<File> file, std::string context, std::uint64_t size, std::optional<std::uint32_t> crc)
      : m_file(std::move(file)), m_context(std::move(context)), m_size(size), m_crc(crc) {}

  std::uint64_t size() const { return m_size; }
  std::uint64_t position() const { return m_pos; }
  const std::string& context() const { return m_context; }
  [[noreturn]] void fail(const std::string& message) const {
    throw InputError({m_file->path(), 0, 0}, m_context + message);
  }

  void read(std::span<unsigned char> out) final {
    if (out.empty()) return;
    if (out.size() > m_size - m_pos)
      fail(fmt::format("reading {} bytes at byte {}: past the end of the data ({} bytes)", out.size(), m_pos, m_size));
    fill(out);
    if (m_crc) m_actual_crc = crc32_z(m_actual_crc, out.data(), out.size());
    m_pos += out.size();
    if (m_pos != m_size) return;
    at_end();
    if (m_crc && m_actual_crc != *m_crc)
      fail(fmt::format("CRC-32 of the {} bytes is {:08x}, the zip directory says {:08x} (damaged data)", m_size,
                       m_actual_crc, *m_crc));
  }

 protected:
  virtual void fill(std::span<unsigned char> out) = 0;
  virtual void at_end() {}
  File& file() const { return *m_file; }

 private:
  std::shared_ptr<File> m_file;
  std::string m_context;
  std::uint64_t m_size;
  std::uint64_t m_pos = 0;
  std::optional<std::uint32_t> m_crc;
  uLong m_actual_crc = crc32_z(0, nullptr, 0);
};

// A stored zip entry or a whole .npy file: bytes [begin, begin + size) of the file.
class StoredSource final : public Source {
 public:
  StoredSource(std::shared_ptr<File> file, std::string context, std::uint64_t begin, std::uint64_t size,
               std::optional<std::uint32_t> crc)
      : Source(std::move(file), std::move(context), size, crc), m_begin(begin) {}

 private:
  void fill(std::span<unsigned char> out) override { file().read(m_begin + position(), out); }
  std::uint64_t m_begin;
};

// A deflated zip entry: `compressed` bytes from `begin`, inflated on demand to `size` bytes. The
// z_stream points at itself (zlib checks it): the object never moves (held by unique_ptr).
class InflatedSource final : public Source {
 public:
  InflatedSource(std::shared_ptr<File> file, std::string context, std::uint64_t begin, std::uint64_t compressed,
                 std::uint64_t size, std::uint32_t crc)
      : Source(std::move(file), std::move(context), size, crc), m_begin(begin), m_compressed(compressed) {
    if (inflateInit2(&m_z, -MAX_WBITS) != Z_OK) throw std::bad_alloc();
  }
  InflatedSource(const InflatedSource&) = delete;
  InflatedSource& operator=(const InflatedSource&) = delete;
  ~InflatedSource() override { inflateEnd(&m_z); }

 private:
  void fill(std::span<unsigned char> out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      const std::size_t chunk = std::min<std::size_t>(out.size() - done, std::size_t{1} << 30);
      m_z.next_out = out.data() + done;
      m_z.avail_out = static_cast<uInt>(chunk);
      const int r = step();
      done += chunk - m_z.avail_out;
      if (r == Z_STREAM_END && done < out.size())
        fail(fmt::format("the deflate stream ends after {} bytes, the zip directory says {}", position() + done,
                         size()));
    }
  }

  // The stream must end where the directory says: one more byte must not come out.
  void at_end() override {
    unsigned char extra = 0;
    m_z.next_out = &extra;
    m_z.avail_out = 1;
    while (!m_ended && m_z.avail_out == 1) step();
    if (m_z.avail_out == 0)
      fail(fmt::format("the deflate stream holds more than the {} bytes the zip directory says", size()));
  }

  // One call of inflate with input refilled; throws on damaged or truncated data.
  int step() {
    if (m_z.avail_in == 0 && m_consumed < m_compressed) {
      const std::uint64_t n = std::min<std::uint64_t>(m_buffer.size(), m_compressed - m_consumed);
      file().read(m_begin + m_consumed, std::span(m_buffer).first(n));
      m_consumed += n;
      m_z.next_in = m_buffer.data();
      m_z.avail_in = static_cast<uInt>(n);
    }
    const int r = inflate(&m_z, Z_NO_FLUSH);
    if (r == Z_STREAM_END) {
      m_ended = true;
      return r;
    }
    if (r == Z_BUF_ERROR && m_z.avail_in == 0 && m_consumed == m_compressed)
      fail(
          fmt::format("the deflated data ({} bytes) ends before the stream does, after {} of the {} bytes the zip "
                      "directory says",
                      m_compressed, m_z.total_out, size()));
    if (r != Z_OK && r != Z_BUF_ERROR)
      fail(fmt::format("damaged deflate data ({}) after {} of {} compressed bytes", m_z.msg ? m_z.msg : "zlib error",
                       m_consumed - m_z.avail_in, m_compressed));
    return r;
  }

  std::uint64_t m_begin;
  std::uint64_t m_compressed;
  std::uint64_t m_consumed = 0;
  bool m_ended = false;
  z_stream m_z{};
  std::array<unsigned char, 1 << 16> m_buffer{};
};

// The dict literal of a .npy header: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
};

class HeaderParser {
 public:
  HeaderParser(const Source& source, std::string_view text, std::uint64_t offset)
      : m_source(source), m_text(text), m_offset(offset) {}

  Header parse() {
    Header h;
    std::set<std::string> seen;
    if (!eat('{')) expected("'{'");
    while (!eat('}')) {
      const std::uint64_t key_at = m_offset + m_pos;
      const std::string key = quoted();
      if (!eat(':')) expected("':'");
      if (key == "descr") {
        h.descr = descr();
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
      } else if (key == "shape") {
        h.shape = tuple();
      } else {
        m_source.fail(fmt::format(
            "header byte {}: unknown key '{}' (a .npy header holds descr, fortran_order and shape)", key_at, key));
      }
      if (!seen.insert(key).second) m_source.fail(fmt::format("header byte {}: key '{}' given twice", key_at, key));
      if (eat('}')) break;
      if (!eat(',')) expected("',' or '}'");
    }
    skip_blanks();
    if (m_pos != m_text.size()) expected("the end of the header");
    for (const char* key : {"descr", "fortran_order", "shape"})
      if (!seen.contains(key)) m_source.fail(fmt::format("header: no key '{}'", key));
    return h;
  }

 private:
  [[noreturn]] void expected(std::string_view what) const {
    const std::string got = m_pos < m_text.size() ? fmt::format("'{}'", m_text[m_pos]) : "the header's end";
    m_source.fail(fmt::format("header byte {}: expected {}, got {}", m_offset + m_pos, what, got));
  }
  void skip_blanks() {
    while (m_pos < m_text.size() &&
           (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' || m_text[m_pos] == '\n' || m_text[m_pos] == '\r'))
      ++m_pos;
  }
  bool eat(char c) {
    skip_blanks();
    if (m_pos >= m_text.size() || m_text[m_pos] != c) return false;
    ++m_pos;
    return true;
  }
  std::string quoted() {
    skip_blanks();
    if (m_pos >= m_text.size() || (m_text[m_pos] != '\'' && m_text[m_pos] != '"')) expected("a quoted string");
    const char quote = m_text[m_pos];
    const std::size_t end = m_text.find(quote, m_pos + 1);
    if (end == std::string_view::npos) expected(fmt::format("a closing {}", quote));
    std::string s(m_text.substr(m_pos + 1, end - m_pos - 1));
    m_pos = end + 1;
    return s;
  }
  // A string, or the list of a record dtype (skipped: "structured").
  std::string descr() {
    skip_blanks();
    if (m_pos >= m_text.size() || m_text[m_pos] != '[') return quoted();
    int depth = 0;
    for (; m_pos < m_text.size(); ++m_pos) {
      const char c = m_text[m_pos];
      if (c == '\'' || c == '"') {
        quoted();
        --m_pos;
      } else if (c == '[' || c == '(') {
        ++depth;
      } else if ((c == ']' || c == ')') && --depth == 0) {
        ++m_pos;
        return "structured";
      }
    }
    expected("the end of the dtype list");
  }
  bool boolean() {
    skip_blanks();
    for (const auto& [word, value] : {std::pair{std::string_view("True"), true}, {std::string_view("False"), false}})
      if (m_text.substr(m_pos, word.size()) == word) {
        m_pos += word.size();
        return value;
      }
    expected("True or False");
  }
  std::vector<std::uint64_t> tuple() {
    if (!eat('(')) expected("a tuple of sizes");
    std::vector<std::uint64_t> sizes;
    while (!eat(')')) {
      skip_blanks();
      std::uint64_t v = 0;
      const char* begin = m_text.data() + m_pos;
      const auto [end, ec] = std::from_chars(begin, m_text.data() + m_text.size(), v);
      if (end == begin) expected("a size (a whole number)");
      if (ec != std::errc())
        m_source.fail(fmt::format("header byte {}: size {} is larger than 2^64", m_offset + m_pos,
                                  std::string_view(begin, static_cast<std::size_t>(end - begin))));
      m_pos += static_cast<std::size_t>(end - begin);
      if (m_pos < m_text.size() && m_text[m_pos] == 'L') ++m_pos;  // written by Python 2
      sizes.push_back(v);
      if (eat(')')) break;
      if (!eat(',')) expected("',' or ')'");
    }
    return sizes;
  }

  const Source& m_source;
  std::string_view m_text;
  std::uint64_t m_offset;
  std::size_t m_pos = 0;
};

std::optional<NpyDtype> dtype_of(const std::string& descr) {
  static const std::array<std::pair<std::string_view, NpyDtype>, 12> kKnown = {{
      {"|i1", NpyDtype::Int8},
      {"|u1", NpyDtype::UInt8},
      {"<i1", NpyDtype::Int8},
      {"<u1", NpyDtype::UInt8},
      {"<i2", NpyDtype::Int16},
      {"<u2", NpyDtype::UInt16},
      {"<i4", NpyDtype::Int32},
      {"<u4", NpyDtype::UInt32},
      {"<i8", NpyDtype::Int64},
      {"<u8", NpyDtype::UInt64},
      {"<f4", NpyDtype::Float32},
      {"<f8", NpyDtype::Float64},
  }};
  for (const auto& [d, t] : kKnown)
    if (d == descr) return t;
  return std::nullopt;
}

std::string format_shape(const std::vector<std::uint64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// The header of an array read through `source`, and its size checked against the data there.
NpyArray read_array(std::unique_ptr<Source> source, const std::string& path, const std::string& entry) {
  NpyArray a;
  a.file = path;
  a.entry = entry;
  if (entry.size() > 4) a.name = entry.substr(0, entry.size() - 4);
  const std::string what = entry.empty() ? "file" : "entry";
  if (source->size() < 10)
    source->fail(fmt::format("the {} holds {} bytes, less than a .npy header (10 bytes)", what, source->size()));
  std::array<unsigned char, 8> start{};
  source->read(start);
  if (std::string_view(reinterpret_cast<const char*>(start.data()), 6) != "\x93NUMPY")
    source->fail(fmt::format("not a NumPy .npy {} (it does not start with \\x93NUMPY)", what));
  const int major = start[6];
  if (major < 1 || major > 3)
    source->fail(fmt::format(".npy format version {}.{} (bitsim reads versions 1, 2 and 3)", major, start[7]));
  const int length_bytes = major == 1 ? 2 : 4;
  const std::uint64_t prefix = 8 + static_cast<std::uint64_t>(length_bytes);
  if (source->size() < prefix)
    source->fail(fmt::format("the {} holds {} bytes, less than a version {} .npy header ({} bytes)", what,
                             source->size(), major, prefix));
  std::array<unsigned char, 4> length_field{};
  source->read(std::span(length_field).first(static_cast<std::size_t>(length_bytes)));
  const std::uint64_t header_bytes = little_endian(length_field.data(), length_bytes);
  if (header_bytes > source->size() - prefix)
    source->fail(
        fmt::format("the header length at byte 8 says {} bytes from byte {}, past the end of the {} ({} bytes)",
                    header_bytes, prefix, what, source->size()));
  if (header_bytes > kMaxNpyHeaderBytes)
    source->fail(fmt::format("the header length at byte 8 says {} bytes; bitsim reads headers of at most {} bytes",
                             header_bytes, kMaxNpyHeaderBytes));
  std::string text(header_bytes, '\0');
  source->read(std::span(reinterpret_cast<unsigned char*>(text.data()), text.size()));
  const Header h = HeaderParser(*source, text, prefix).parse();
  a.descr = h.descr;
  a.dtype = dtype_of(h.descr);
  a.fortran_order = h.fortran_order;
  a.shape = h.shape;
  std::optional<std::uint64_t> values = 1;
  for (const std::uint64_t d : a.shape) values = checked_mul(values, d);
  if (!values) source->fail(fmt::format("shape {} holds more than 2^64 values", format_shape(a.shape)));
  a.values = *values;
  if (!a.dtype) return a;  // never read: refused by whoever wants its values
  const std::optional<std::uint64_t> bytes = checked_mul(a.values, std::uint64_t{npy_dtype_bytes(*a.dtype)});
  const std::uint64_t data = source->size() - prefix - header_bytes;
  if (!bytes || *bytes != data)
    source->fail(fmt::format("shape {} of {} needs {} bytes of data, the {} holds {} after its {}-byte header",
                             format_shape(a.shape), npy_dtype_name(*a.dtype),
                             bytes ? fmt::format("{}", *bytes) : std::string("more than 2^64"), what, data,
                             prefix + header_bytes));
  a.data = std::move(source);
  return a;
}

constexpr std::uint32_t kEndOfDirectory = 0x06054b50;  // "PK\5\6"
constexpr std::uint32_t kZip64Locator = 0x07064b50;    // "PK\6\7"
constexpr std::uint32_t kZip64End = 0x06064b50;        // "PK\6\6"
constexpr std::uint32_t kDirectoryEntry = 0x02014b50;  // "PK\1\2"
constexpr std::uint32_t kLocalHeader = 0x04034b50;     // "PK\3\4"
constexpr std::uint64_t kMax32 = 0xffffffff;

[[noreturn]] void fail_in(const std::string& path, const std::string& message) {
  throw InputError({path, 0, 0}, message);
}

struct ZipEntry {
  std::string name;
  std::uint64_t directory_at = 0;  // where its directory record starts, for messages
  int flags = 0;
  int method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed = 0;
  std::uint64_t size = 0;
  std::uint64_t local_at = 0;
};

}  // namespace

std::string_view npy_dtype_name(NpyDtype t) {
  switch (t) {
    case NpyDtype::Int8:
      return "int8";
    case NpyDtype::UInt8:
      return "uint8";
    case NpyDtype::Int16:
      return "int16";
    case NpyDtype::UInt16:
      return "uint16";
    case NpyDtype::Int32:
      return "int32";
    case NpyDtype::UInt32:
      return "uint32";
    case NpyDtype::Int64:
      return "int64";
    case NpyDtype::UInt64:
      return "uint64";
    case NpyDtype::Float32:
      return "float32";
    case NpyDtype::Float64:
      return "float64";
  }
  BITSIM_CHECK(false);
  return "";
}

std::size_t npy_dtype_bytes(NpyDtype t) {
  switch (t) {
    case NpyDtype::Int8:
    case NpyDtype::UInt8:
      return 1;
    case NpyDtype::Int16:
    case NpyDtype::UInt16:
      return 2;
    case NpyDtype::Int32:
    case NpyDtype::UInt32:
    case NpyDtype::Float32:
      return 4;
    case NpyDtype::Int64:
    case NpyDtype::UInt64:
    case NpyDtype::Float64:
      return 8;
  }
  BITSIM_CHECK(false);
  return 0;
}

bool npy_is_float(NpyDtype t) { return t == NpyDtype::Float32 || t == NpyDtype::Float64; }

std::string NpyArray::label() const {
  return entry.empty() ? std::string("the array") : fmt::format("array '{}' (entry '{}')", name, entry);
}

std::string NpyArray::shape_text() const { return format_shape(shape); }

NpyArray open_npy(const std::string& path) {
  auto file = std::make_shared<File>(path);
  const std::uint64_t size = file->size();
  return read_array(std::make_unique<StoredSource>(std::move(file), "", 0, size, std::nullopt), path, "");
}

std::vector<NpyArray> open_npz(const std::string& path) {
  auto file = std::make_shared<File>(path);
  const std::uint64_t size = file->size();
  const auto fail = [&](const std::string& message) { fail_in(path, message); };
  const auto read_bytes = [&](std::uint64_t at, std::uint64_t n) {
    std::vector<unsigned char> bytes(n);
    file->read(at, bytes);
    return bytes;
  };

  // The end-of-central-directory record: 22 bytes and a comment of up to 65535, at the very end.
  if (size < 22)
    fail(fmt::format("the file holds {} bytes: not a zip archive (no end-of-central-directory record)", size));
  const std::uint64_t tail_size = std::min<std::uint64_t>(size, 22 + 65535);
  const std::uint64_t tail_at = size - tail_size;
  const std::vector<unsigned char> tail = read_bytes(tail_at, tail_size);
  std::optional<std::uint64_t> eocd;
  for (std::uint64_t i = tail_size - 22 + 1; i-- > 0;) {
    if (little_endian(&tail[i], 4) == kEndOfDirectory && i + 22 + little_endian(&tail[i + 20], 2) == tail_size) {
      eocd = i;
      break;
    }
  }
  if (!eocd)
    fail_in(path,
            fmt::format("not a zip archive (no end-of-central-directory record in its last {} bytes)", tail_size));
  const unsigned char* e = &tail[*eocd];
  const std::uint64_t eocd_at = tail_at + *eocd;
  std::uint64_t disk = little_endian(e + 4, 2), directory_disk = little_endian(e + 6, 2);
  std::uint64_t entries_here = little_endian(e + 8, 2), entries = little_endian(e + 10, 2);
  std::uint64_t directory_bytes = little_endian(e + 12, 4), directory_at = little_endian(e + 16, 4);
  std::uint64_t directory_limit = eocd_at;  // the directory ends before the end records
  if (*eocd >= 20 && little_endian(e - 20, 4) == kZip64Locator) {
    // ZIP64: the sizes are in the zip64 end record the locator points at.
    const std::uint64_t locator_at = eocd_at - 20;
    const std::uint64_t z = little_endian(e - 20 + 8, 8);
    if (z > locator_at || locator_at - z < 56)
      fail(
          fmt::format("the zip64 locator at byte {} points at byte {}: no room for the 56-byte zip64 end record "
                      "before the locator",
                      locator_at, z));
    const std::vector<unsigned char> z64 = read_bytes(z, 56);
    if (little_endian(z64.data(), 4) != kZip64End)
      fail(fmt::format("no zip64 end record at byte {} (where the locator at byte {} points)", z, locator_at));
    disk = little_endian(&z64[16], 4);
    directory_disk = little_endian(&z64[20], 4);
    entries_here = little_endian(&z64[24], 8);
    entries = little_endian(&z64[32], 8);
    directory_bytes = little_endian(&z64[40], 8);
    directory_at = little_endian(&z64[48], 8);
    directory_limit = z;
  }
  if (disk != 0 || directory_disk != 0 || entries_here != entries)
    fail("a zip archive split over several files (bitsim reads single-file archives)");
  const std::optional<std::uint64_t> directory_end = checked_add(directory_at, directory_bytes);
  if (!directory_end || *directory_end > directory_limit)
    fail(fmt::format("the central directory ({} bytes from byte {}) runs past byte {}, where the end record starts",
                     directory_bytes, directory_at, directory_limit));
  if (directory_bytes > kMaxZipDirectoryBytes)
    fail(fmt::format("the central directory holds {} bytes; bitsim reads at most {}", directory_bytes,
                     kMaxZipDirectoryBytes));
  const std::vector<unsigned char> dir = read_bytes(directory_at, directory_bytes);

  std::vector<ZipEntry> list;
  std::uint64_t p = 0;
  for (std::uint64_t k = 0; k < entries; ++k) {
    const std::uint64_t at = directory_at + p;
    if (directory_bytes - p < 46)
      fail(fmt::format("central directory record {} at byte {} runs past the directory's end (byte {})", k + 1, at,
                       *directory_end));
    const unsigned char* r = &dir[p];
    if (little_endian(r, 4) != kDirectoryEntry)
      fail(fmt::format("central directory record {} at byte {}: expected the signature PK\\1\\2", k + 1, at));
    ZipEntry z;
    z.directory_at = at;
    z.flags = static_cast<int>(little_endian(r + 8, 2));
    z.method = static_cast<int>(little_endian(r + 10, 2));
    z.crc = static_cast<std::uint32_t>(little_endian(r + 16, 4));
    z.compressed = little_endian(r + 20, 4);
    z.size = little_endian(r + 24, 4);
    const std::uint64_t name_bytes = little_endian(r + 28, 2), extra_bytes = little_endian(r + 30, 2),
                        comment_bytes = little_endian(r + 32, 2);
    z.local_at = little_endian(r + 42, 4);
    if (directory_bytes - p - 46 < name_bytes + extra_bytes + comment_bytes)
      fail(
          fmt::format("central directory record {} at byte {}: its name, extra field and comment ({} bytes) run "
                      "past the directory's end (byte {})",
                      k + 1, at, name_bytes + extra_bytes + comment_bytes, *directory_end));
    z.name.assign(reinterpret_cast<const char*>(r + 46), name_bytes);
    // ZIP64 extra field (id 1): the 8-byte values of the fields set to 0xffffffff, in this order.
    const unsigned char* x = r + 46 + name_bytes;
    const unsigned char* x_end = x + extra_bytes;
    while (x_end - x >= 4) {
      const std::uint64_t id = little_endian(x, 2), n = little_endian(x + 2, 2);
      if (static_cast<std::uint64_t>(x_end - x - 4) < n)
        fail(fmt::format("entry '{}' (directory byte {}): an extra field of {} bytes runs past the record", z.name, at,
                         n));
      if (id == 1) {
        std::uint64_t used = 0;
        for (std::uint64_t* field : {&z.size, &z.compressed, &z.local_at}) {
          if (*field != kMax32) continue;
          if (n - used < 8)
            fail(
                fmt::format("entry '{}' (directory byte {}): the zip64 extra field holds {} bytes, too few for its "
                            "sizes",
                            z.name, at, n));
          *field = little_endian(x + 4 + used, 8);
          used += 8;
        }
      }
      x += 4 + n;
    }
    list.push_back(std::move(z));
    p += 46 + name_bytes + extra_bytes + comment_bytes;
  }

  std::vector<NpyArray> arrays;
  std::set<std::string> names;
  for (const ZipEntry& z : list) {
    if (z.name.size() <= 4 || z.name.substr(z.name.size() - 4) != ".npy") continue;
    if (!names.insert(z.name).second) fail(fmt::format("entry '{}' appears twice", z.name));
    const std::string context = fmt::format("entry '{}': ", z.name);
    if (z.flags & 1) fail(context + "encrypted (bitsim reads unencrypted archives)");
    if (z.method != 0 && z.method != 8)
      fail(context + fmt::format("compression method {} (bitsim reads stored (0) and deflate (8))", z.method));
    if (z.local_at > directory_at || directory_at - z.local_at < 30)
      fail(context + fmt::format("the local header at byte {} runs past the central directory at byte {}", z.local_at,
                                 directory_at));
    const std::vector<unsigned char> local = read_bytes(z.local_at, 30);
    if (little_endian(local.data(), 4) != kLocalHeader)
      fail(context + fmt::format("no local header at byte {} (expected the signature PK\\3\\4)", z.local_at));
    const std::uint64_t name_bytes = little_endian(&local[26], 2), extra_bytes = little_endian(&local[28], 2);
    const std::uint64_t data_at = z.local_at + 30 + name_bytes + extra_bytes;  // < 2^64: each term is small
    if (data_at > directory_at || directory_at - data_at < z.compressed)
      fail(context + fmt::format("{} bytes of data from byte {} run past the central directory at byte {}",
                                 z.compressed, data_at, directory_at));
    const std::vector<unsigned char> local_name = read_bytes(z.local_at + 30, name_bytes);
    if (std::string(local_name.begin(), local_name.end()) != z.name)
      fail(context + fmt::format("the local header at byte {} names '{}'", z.local_at,
                                 std::string(local_name.begin(), local_name.end())));
    std::unique_ptr<Source> source;
    if (z.method == 0) {
      if (z.compressed != z.size)
        fail(context +
             fmt::format("stored (not compressed), yet its sizes differ: {} and {} bytes", z.compressed, z.size));
      source = std::make_unique<StoredSource>(file, context, data_at, z.size, z.crc);
    } else {
      source = std::make_unique<InflatedSource>(file, context, data_at, z.compressed, z.size, z.crc);
    }
    arrays.push_back(read_array(std::move(source), path, z.name));
  }
  return arrays;
}

void npy_to_float(NpyDtype t, const unsigned char* raw, std::size_t n, float* out) {
  const std::size_t b = npy_dtype_bytes(t);
  for (std::size_t i = 0; i < n; ++i, raw += b) {
    const std::uint64_t u = little_endian(raw, static_cast<int>(b));
    switch (t) {
      case NpyDtype::Float32:
        out[i] = std::bit_cast<float>(static_cast<std::uint32_t>(u));
        break;
      case NpyDtype::Float64:
        out[i] = static_cast<float>(std::bit_cast<double>(u));
        break;
      case NpyDtype::Int8:
        out[i] = static_cast<float>(static_cast<std::int8_t>(u));
        break;
      case NpyDtype::Int16:
        out[i] = static_cast<float>(static_cast<std::int16_t>(u));
        break;
      case NpyDtype::Int32:
        out[i] = static_cast<float>(static_cast<std::int32_t>(u));
        break;
      case NpyDtype::Int64:
        out[i] = static_cast<float>(static_cast<std::int64_t>(u));
        break;
      case NpyDtype::UInt8:
      case NpyDtype::UInt16:
      case NpyDtype::UInt32:
      case NpyDtype::UInt64:
        out[i] = static_cast<float>(u);
        break;
    }
  }
}

bool npy_to_int64(NpyDtype t, const unsigned char* raw, std::size_t n, std::int64_t* out) {
  const std::size_t b = npy_dtype_bytes(t);
  const int shift = 64 - 8 * static_cast<int>(b);
  for (std::size_t i = 0; i < n; ++i, raw += b) {
    const std::uint64_t u = little_endian(raw, static_cast<int>(b));
    switch (t) {
      case NpyDtype::Int8:
      case NpyDtype::Int16:
      case NpyDtype::Int32:
      case NpyDtype::Int64:  // sign-extend
        out[i] = static_cast<std::int64_t>(u << shift) >> shift;
        break;
      case NpyDtype::UInt8:
      case NpyDtype::UInt16:
      case NpyDtype::UInt32:
      case NpyDtype::UInt64:
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
        out[i] = static_cast<std::int64_t>(u);
        break;
      case NpyDtype::Float32:
      case NpyDtype::Float64:
        return false;
    }
  }
  return true;
}

double npy_value(NpyDtype t, const unsigned char* raw) {
  if (t == NpyDtype::Float64) return std::bit_cast<double>(little_endian(raw, 8));
  float v = 0;
  npy_to_float(t, raw, 1, &v);
  return v;
}

}  // namespace bitsim::alloc
