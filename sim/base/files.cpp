// Atomic file writes (temporary, fsync, rename) and the checks of output paths.
#include "sim/base/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iterator>

#include "sim/base/diagnostics.h"

namespace bitsim {
namespace {

namespace fs = std::filesystem;

std::atomic<unsigned long> g_temporaries{0};

std::string errno_text(int err) { return std::strerror(err); }

// Creates a fresh temporary next to `path` (O_EXCL: never one another writer holds; a name left by
// a crashed process with the same pid is skipped). Returns its descriptor and sets `tmp`, or -errno.
int create_temporary(const std::string& path, std::string& tmp) {
  for (int attempt = 0;; ++attempt) {
    tmp = temporary_name(path);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST || attempt >= 100) return -errno;
  }
}

// Writes all of `text`, then flushes it to disk; errno of the first failure, else 0.
int write_all(int fd, const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return ::fsync(fd) == 0 ? 0 : errno;
}

// Makes the rename itself durable; a folder that cannot be synced (some file systems) is no error.
void sync_folder(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  static_cast<void>(::fsync(fd));
  ::close(fd);
}

}  // namespace

std::string temporary_name(const std::string& path) {
  return fmt::format("{}.tmp-{}-{}", path, ::getpid(), g_temporaries.fetch_add(1));
}

void write_file_atomically(const std::string& path, const std::string& text) {
  std::string tmp;
  const int fd = create_temporary(path, tmp);
  if (fd < 0)
    throw InputError({path, 0, 0},
                     fmt::format("cannot create a file in its folder: {} (nothing was written)", errno_text(-fd)));
  int err = write_all(fd, text);
  if (::close(fd) != 0 && err == 0) err = errno;
  const char* step = "cannot write";
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    step = "cannot move the written file into place";
  }
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw InputError({path, 0, 0}, fmt::format("{}: {} (nothing was written)", step, errno_text(err)));
  }
  sync_folder(fs::path(path).parent_path());
}

void check_folder_writable(const std::string& dir) {
  const std::string probe = (fs::path(dir.empty() ? "." : dir) / ".bitsim-probe").string();
  std::string tmp;
  const int fd = create_temporary(probe, tmp);
  if (fd < 0) throw InputError({dir, 0, 0}, fmt::format("cannot write files in this folder: {}", errno_text(-fd)));
  ::close(fd);
  ::unlink(tmp.c_str());
}

void check_no_symlinks(const std::string& root, const std::string& relative) {
  fs::path at = root;
  const fs::path rel = relative;
  for (auto part = rel.begin(); part != rel.end(); ++part) {
    at /= *part;
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(at, ec);
    if (fs::is_symlink(st))
      throw InputError({at.string(), 0, 0}, "is a symbolic link: bitsim does not write through links (remove it)");
    if (std::next(part) != rel.end() && fs::exists(st) && !fs::is_directory(st))
      throw InputError({at.string(), 0, 0}, "exists and is not a folder");
  }
}

}  // namespace bitsim
