// Helpers shared by the test suites: temporary input files and path-free error messages.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>
#include <fstream>
#include <string>

namespace bitsim::testing {

// Writes `text` to a file in the temporary folder and returns its path. The path is unique to the
// running test and process, since CTest runs the tests in parallel processes.
inline std::string write_temp(const std::string& name, const std::string& text) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info ? std::string(info->test_suite_name()) + "." + info->name() : "none";
  for (char& c : test)
    if (c == '/') c = '_';
  const std::string path = ::testing::TempDir() + "bitsim_" + test + "_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path) << text;
  return path;
}

// `message` with every occurrence of `path` replaced by "F", so expectations need no temp paths.
inline std::string scrub(const std::string& message, const std::string& path) {
  std::string out;
  std::size_t from = 0;
  for (std::size_t at; (at = message.find(path, from)) != std::string::npos; from = at + path.size())
    out += message.substr(from, at - from) + "F";
  return out + message.substr(from);
}

// The InputError message of `load(path)` for a file holding `text`, with the path scrubbed.
template <typename Load>
std::string error_of(const std::string& name, const std::string& text, Load&& load) {
  const std::string path = write_temp(name, text);
  try {
    load(path);
  } catch (const std::exception& e) {
    return scrub(e.what(), path);
  }
  return "(no error)";
}

}  // namespace bitsim::testing
