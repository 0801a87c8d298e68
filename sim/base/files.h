// Files written whole or not at all, and output paths checked before long work: every file bitsim
// writes goes through write_file_atomically, so a reader (or a crash, or a full disk) never leaves
// half of one where the user asked for it.
#pragma once

#include <string>

namespace bitsim {

// A name for a temporary next to `path`: "<path>.tmp-<pid>-<n>", n counting up within the process,
// so that two processes, or two threads, never pick the same one.
std::string temporary_name(const std::string& path);

// Writes `text` to `path` through a temporary in the same folder (created exclusively), flushed to
// disk and renamed over `path` only when complete; a symbolic link at `path` is replaced, never
// written through. On any failure the temporary is removed, `path` is as it was, and InputError
// located at `path` says what failed. The folder must exist.
void write_file_atomically(const std::string& path, const std::string& text);

// InputError naming `dir` unless a file can be created in it: a temporary is created and removed.
void check_folder_writable(const std::string& dir);

// InputError naming the link when `root`/`relative`, or a folder between `root` and it, is a
// symbolic link (dangling or not), or when a folder on the way is a file. `root` itself may be a link.
void check_no_symlinks(const std::string& root, const std::string& relative);

}  // namespace bitsim
