// Files written whole or not at all (sim/base/files.h): no temporary left behind, nothing half
// written on failure, concurrent writers apart, symbolic links refused.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sim/base/diagnostics.h"
#include "sim/base/files.h"
#include "tests/test_util.h"

namespace bitsim {
namespace {

namespace fs = std::filesystem;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

// The InputError message of `f()`, with `path` scrubbed to "F".
template <typename F>
std::string error_of(F&& f, const std::string& path) {
  try {
    f();
  } catch (const InputError& e) {
    return testing::scrub(e.what(), path);
  }
  return "(no error)";
}

TEST(WriteFileAtomically, WritesAndReplacesLeavingOnlyTheFile) {
  const std::string dir = testing::temp_path("out");
  fs::create_directories(dir);
  const std::string path = dir + "/plan.yaml";
  write_file_atomically(path, "first\n");
  EXPECT_EQ(read_all(path), "first\n");
  write_file_atomically(path, std::string(1 << 20, 'x'));  // larger than one write() may take
  EXPECT_EQ(read_all(path), std::string(1 << 20, 'x'));
  write_file_atomically(path, "");
  EXPECT_EQ(read_all(path), "");
  EXPECT_EQ(entries(dir), std::set<std::string>{"plan.yaml"});
}

TEST(WriteFileAtomically, TemporaryNamesAreUnique) {
  const std::string a = temporary_name("/x/f.csv"), b = temporary_name("/x/f.csv");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind(fmt::format("/x/f.csv.tmp-{}-", getpid()), 0), 0u) << a;
}

// The final name is a folder: the rename fails, the temporary goes, the folder stays as it was.
TEST(WriteFileAtomically, FailedRenameLeavesNothing) {
  const std::string dir = testing::temp_path("out");
  fs::create_directories(dir + "/index.html/inner");
  const std::string path = dir + "/index.html";
  EXPECT_EQ(error_of([&] { write_file_atomically(path, "<html>"); }, path),
            "F: error: cannot move the written file into place: Is a directory (nothing was written)");
  EXPECT_EQ(entries(dir), std::set<std::string>{"index.html"});
  EXPECT_EQ(entries(path), std::set<std::string>{"inner"});
}

TEST(WriteFileAtomically, MissingFolderLeavesNothing) {
  const std::string dir = testing::temp_path("nope");
  const std::string path = dir + "/a.csv";
  EXPECT_EQ(error_of([&] { write_file_atomically(path, "x"); }, path),
            "F: error: cannot create a file in its folder: No such file or directory (nothing was written)");
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(error_of([&] { check_folder_writable(dir); }, dir),
            "F: error: cannot write files in this folder: No such file or directory");
}

// A read-only folder: refused by the probe and by the write, nothing left (root ignores modes).
TEST(WriteFileAtomically, ReadOnlyFolderIsRefused) {
  const std::string dir = testing::temp_path("ro");
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0555);
  if (::access(dir.c_str(), W_OK) == 0) {
    ::chmod(dir.c_str(), 0755);
    GTEST_SKIP() << "running as a user who can write into a read-only folder (root)";
  }
  EXPECT_EQ(error_of([&] { check_folder_writable(dir); }, dir),
            "F: error: cannot write files in this folder: Permission denied");
  EXPECT_NE(error_of([&] { write_file_atomically(dir + "/a.csv", "x"); }, dir), "(no error)");
  ::chmod(dir.c_str(), 0755);
  EXPECT_TRUE(entries(dir).empty());
}

// Writers racing on one file never share a temporary: the file ends up exactly one writer's text.
TEST(WriteFileAtomically, ConcurrentWritersEndWithOneWholeFile) {
  const std::string dir = testing::temp_path("out");
  fs::create_directories(dir);
  const std::string path = dir + "/curves.csv";
  std::set<std::string> texts;
  for (std::size_t t = 0; t < 4; ++t)
    texts.insert(std::string(100000 + t, static_cast<char>(static_cast<std::size_t>('a') + t)));
  std::vector<std::thread> writers;
  writers.reserve(texts.size());
  for (const std::string& text : texts)
    writers.emplace_back([&path, &text] {
      for (int i = 0; i < 20; ++i) write_file_atomically(path, text);
    });
  for (std::thread& w : writers) w.join();
  EXPECT_EQ(texts.count(read_all(path)), 1u);
  EXPECT_EQ(entries(dir), std::set<std::string>{"curves.csv"});
}

// A link at the final name is replaced by the file, never written through.
TEST(WriteFileAtomically, ReplacesALinkWithoutWritingThroughIt) {
  const std::string dir = testing::temp_path("out");
  fs::create_directories(dir);
  const std::string victim = testing::write_temp("victim.txt", "keep me\n");
  fs::create_symlink(victim, dir + "/plan.yaml");
  write_file_atomically(dir + "/plan.yaml", "plan\n");
  EXPECT_EQ(read_all(victim), "keep me\n");
  EXPECT_FALSE(fs::is_symlink(dir + "/plan.yaml"));
  EXPECT_EQ(read_all(dir + "/plan.yaml"), "plan\n");
}

TEST(CheckNoSymlinks, RefusesLinksOnTheWayNamingThem) {
  const std::string dir = testing::temp_path("out");
  fs::create_directories(dir + "/inputs");
  EXPECT_NO_THROW(check_no_symlinks(dir, "inputs/hardware-0.yaml"));
  EXPECT_NO_THROW(check_no_symlinks(dir, "sweep.csv"));
  fs::create_symlink(dir + "/nowhere", dir + "/index.html");  // dangling
  EXPECT_EQ(error_of([&] { check_no_symlinks(dir, "index.html"); }, dir),
            "F/index.html: error: is a symbolic link: bitsim does not write through links (remove it)");
  fs::create_symlink("/tmp", dir + "/plans");
  EXPECT_EQ(error_of([&] { check_no_symlinks(dir, "plans/pareto-0.yaml"); }, dir),
            "F/plans: error: is a symbolic link: bitsim does not write through links (remove it)");
  std::ofstream(dir + "/notes").put('x');
  EXPECT_EQ(error_of([&] { check_no_symlinks(dir, "notes/a.yaml"); }, dir),
            "F/notes: error: exists and is not a folder");
  // The folder itself may be a link (a user's output folder often is).
  fs::create_symlink(dir + "/inputs", dir + "/linked");
  EXPECT_NO_THROW(check_no_symlinks(dir + "/linked", "a.csv"));
}

}  // namespace
}  // namespace bitsim
