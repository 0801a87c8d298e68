// The README's exit-code promise, tested as a user meets it: mutated inputs of every kind bitsim
// reads, run through the `bitsim` program with the commands that read them. Each run must end in
// exit 0 or in exit 1 with an error message naming the input file; never a signal, a sanitizer
// report, exit 2 or 3, a run over the time limit or 4 GiB, or an output file left behind by a run
// that failed. The normal suite runs a few inputs per kind (BITSIM_CAMPAIGN_INPUTS, default 6); a
// campaign is the same test with more:
//   BITSIM_CAMPAIGN_INPUTS=1000 build-asan/tests/bitsim_cli_campaign
// Inputs that fail are kept in <build>/cli-campaign/<kind>/ with the command line that ran them
// (BITSIM_CAMPAIGN_PROGRAM runs another build's bitsim; BITSIM_CAMPAIGN_SEED another sequence).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_util.h"

namespace bitsim {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = BITSIM_SOURCE_DIR;
// The program under test: this build's, or BITSIM_CAMPAIGN_PROGRAM (e.g. another build's).
const fs::path kProgram =
    std::getenv("BITSIM_CAMPAIGN_PROGRAM") != nullptr ? std::getenv("BITSIM_CAMPAIGN_PROGRAM") : BITSIM_PROGRAM;
const fs::path kKeep = BITSIM_CAMPAIGN_DIR;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::max(0, std::atoi(v));
}

using testing::read_file;

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

struct ProgramRun {
  int exit_code = -1;  // -1: ended by a signal
  int signal = 0;
  bool timed_out = false;
  double seconds = 0;
  long max_rss_kib = 0;
  std::string err;
};

// Runs the program with `args` in the source folder, stdout discarded, stderr kept; kills it after
// `limit_s` seconds.
ProgramRun run_program(const std::vector<std::string>& args, const fs::path& scratch, double limit_s) {
  const fs::path err_path = scratch / "stderr.txt";
  std::vector<std::string> argv_storage{kProgram.string()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_storage.size() + 1);
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {  // the child: only async-signal-safe calls until exec
    const int out = open("/dev/null", O_WRONLY);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(kRoot.c_str()) != 0) _exit(120);
    execv(argv[0], argv.data());
    _exit(121);
  }
  ProgramRun r;
  if (pid < 0) {
    r.err = "fork failed";
    return r;
  }
  int status = 0;
  rusage usage{};
  for (;;) {
    const pid_t done = wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.timed_out && elapsed > limit_s) {
      kill(pid, SIGKILL);
      r.timed_out = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.max_rss_kib = usage.ru_maxrss;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.err = read_file(err_path);
  return r;
}

// Deterministic mutations (std::mt19937_64 is specified exactly; the distributions are not, so
// indices are taken from its raw output).
class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : m_rng(seed) {}

  std::size_t pick(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(m_rng() % n); }

  std::string text(std::string s) {
    const std::size_t ops = 1 + pick(2);
    for (std::size_t i = 0; i < ops; ++i) s = text_once(s);
    return s;
  }

  std::string binary(std::string s) {
    // Mostly values changed in place (the protobuf stays parseable more often), sometimes its shape.
    const std::size_t ops = 1 + pick(2);
    for (std::size_t i = 0; i < ops && !s.empty(); ++i) {
      const std::size_t at = pick(s.size());
      const std::size_t op = pick(10);
      switch (op < 6 ? op % 2 : op - 4) {
        case 0:
          s[at] = static_cast<char>(m_rng());
          break;
        case 1:
          s[at] = static_cast<char>(std::array<unsigned char, 6>{0x00, 0xff, 0x7f, 0x80, 0x01, 0x08}[pick(6)]);
          break;
        case 2:
          s.resize(at);
          break;
        case 3:
          s.insert(at, std::string(1 + pick(8), static_cast<char>(m_rng())));
          break;
        default: {  // repeat a stretch (a duplicated field or tensor)
          const std::size_t len = std::min<std::size_t>(1 + pick(64), s.size() - at);
          s.insert(pick(s.size()), s.substr(at, len));
        }
      }
    }
    return s;
  }

 private:
  std::string text_once(const std::string& s) {
    static const std::array<const char*, 18> kNumbers{"0",
                                                      "-1",
                                                      "1e308",
                                                      "-1e308",
                                                      "nan",
                                                      "inf",
                                                      "9223372036854775807",
                                                      "18446744073709551616",
                                                      "1e-320",
                                                      "0.5",
                                                      "3.75",
                                                      "65536",
                                                      "2147483648",
                                                      "-0",
                                                      "1e30",
                                                      "4294967297",
                                                      "100000",
                                                      "\"\""};
    static const std::array<const char*, 14> kSymbols{":",  "{", "}", "[",  "]",  ",",  "-",
                                                      "\"", "'", "#", "\n", "\t", "&a", "*a"};
    std::vector<std::string> lines;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    auto joined = [&] {
      std::string out;
      for (const std::string& l : lines) out += l + "\n";
      return out;
    };
    if (lines.empty()) return s + kSymbols[pick(kSymbols.size())];
    std::string& line = lines[pick(lines.size())];
    const std::size_t op = pick(12);  // half the time a number becomes an extreme value
    switch (op < 5 ? 0 : op - 4) {
      case 0: {  // a number becomes an extreme value
        std::vector<std::pair<std::size_t, std::size_t>> numbers;
        for (std::size_t i = 0; i < line.size();) {
          if (std::isdigit(static_cast<unsigned char>(line[i])) != 0) {
            std::size_t j = i;
            while (j < line.size() &&
                   (std::isdigit(static_cast<unsigned char>(line[j])) != 0 || line[j] == '.' || line[j] == 'e'))
              ++j;
            numbers.emplace_back(i, j - i);
            i = j;
          } else {
            ++i;
          }
        }
        if (numbers.empty()) break;
        const auto [at, len] = numbers[pick(numbers.size())];
        line.replace(at, len, kNumbers[pick(kNumbers.size())]);
        break;
      }
      case 1:
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(pick(lines.size())));
        break;
      case 2:
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(pick(lines.size())), line);
        break;
      case 3:
        std::swap(line, lines[pick(lines.size())]);
        break;
      case 4:
        return s.substr(0, pick(s.size()));
      case 5: {  // a word becomes another word of the file
        std::vector<std::string> words;
        std::string w;
        for (char c : s) {
          if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.') {
            w += c;
          } else if (!w.empty()) {
            words.push_back(w);
            w.clear();
          }
        }
        const std::size_t at = line.find_first_of("abcdefghijklmnopqrstuvwxyz");
        if (words.empty() || at == std::string::npos) break;
        const std::size_t end = line.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789.", at);
        line.replace(at, end == std::string::npos ? std::string::npos : end - at, words[pick(words.size())]);
        break;
      }
      case 6:
        line.insert(pick(line.size() + 1), kSymbols[pick(kSymbols.size())]);
        break;
      default:
        if (!line.empty()) line[pick(line.size())] = static_cast<char>(32 + pick(95));
    }
    return joined();
  }

  std::mt19937_64 m_rng;
};

// One kind of input: its seeds, its extension, and the commands that read it (one per mutant, in
// turn). `file` is the mutated input; `out` a path the command may write (it must not exist after
// a failed run).
struct Kind {
  std::string name;
  std::string ext;
  bool binary = false;
  std::vector<fs::path> seeds;
  std::vector<std::function<std::vector<std::string>(const std::string& file, const std::string& out)>> commands;
  std::function<std::string(std::string)> prepare = [](std::string s) { return s; };  // before mutation
};

std::vector<fs::path> files_in(const fs::path& dir, const std::string& ext, const std::string& skip_prefix = "~") {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ext && e.path().filename().string().rfind(skip_prefix, 0) != 0)
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

using Args = std::vector<std::string>;

// Seeds that are bitsim's own outputs (plans, curves) are made by the program under test, once.
fs::path made_seed(const std::string& name, const Args& args) {
  static const fs::path dir = kKeep / "seeds";
  fs::create_directories(dir);
  fs::path p = dir / name;
  if (!fs::exists(p)) {
    Args a = args;
    a.insert(a.end(), {"--out", p.string(), "--force"});
    const ProgramRun r = run_program(a, dir, 120);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
  return p;
}

std::vector<Kind> kinds() {
  const std::string alexnet = "workloads/alexnet.yaml";
  std::vector<Kind> k;
  k.push_back({"hardware_yaml",
               ".yaml",
               false,
               files_in(kRoot / "configs", ".yaml"),
               {[=](const std::string& f, const std::string&) -> Args {
                  return {"simulate", "--hw", f, "--workload", alexnet, "--bits", "4"};
                },
                [=](const std::string& f, const std::string& out) -> Args {
                  return {"allocate", "--hw", f, "--workload", alexnet, "--min-rate", "1", "--out", out};
                },
                [=](const std::string& f, const std::string&) -> Args {
                  return {"simulate", "--hw", f,       "--workload", "workloads/mobilenet_v1.yaml",
                          "--bits",   "2/8",  "--json"};
                }}});
  k.push_back({"scalesim_cfg",
               ".cfg",
               false,
               files_in(kRoot / "tests/data/scalesim", ".cfg"),
               {[](const std::string& f, const std::string&) -> Args {
                 return {"simulate", "--hw", f, "--workload", "tests/data/scalesim/alexnet.csv"};
               }}});
  k.push_back({"workload_yaml",
               ".yaml",
               false,
               files_in(kRoot / "workloads", ".yaml"),
               {[](const std::string& f, const std::string&) -> Args {
                  return {"simulate", "--hw", "configs/tpu.yaml", "--workload", f, "--bits", "4"};
                },
                [](const std::string& f, const std::string& out) -> Args {
                  return {"allocate", "--hw",  "configs/eyeriss.yaml", "--workload", f,
                          "--solver", "exact", "--avg-bits",           "4",          "--out",
                          out};
                },
                [](const std::string& f, const std::string&) -> Args {
                  return {"inspect", "--workload", f};
                }}});
  k.push_back({"scalesim_csv",
               ".csv",
               false,
               files_in(kRoot / "tests/data/scalesim", ".csv"),
               {[](const std::string& f, const std::string&) -> Args {
                 return {"simulate", "--hw", "tests/data/scalesim/scale.cfg", "--workload", f};
               }}});
  std::vector<fs::path> onnx = files_in(kRoot / "tests/data/onnx", ".onnx", "hostile_");
  onnx.push_back(kRoot / "workloads/fmnist_cnn.onnx");
  k.push_back({"onnx",
               ".onnx",
               true,
               onnx,
               {[](const std::string& f, const std::string&) -> Args {
                  return {"simulate", "--hw", "configs/tpu.yaml", "--workload", f, "--bits", "4"};
                },
                [](const std::string& f, const std::string&) -> Args {
                  return {"inspect", "--workload", f};
                }}});
  const Args plan_args{"allocate", "--hw", "configs/tpu.yaml", "--workload", alexnet, "--min-rate", "100"};
  k.push_back({"plan",
               ".yaml",
               false,
               {made_seed("plan.yaml", plan_args)},
               {[=](const std::string& f, const std::string&) -> Args {
                 return {"simulate", "--hw", "configs/tpu.yaml", "--workload", alexnet, "--plan", f};
               }}});
  const Args curves_args{"curves", "--workload", alexnet, "--rate", "coded"};
  k.push_back({"curves", ".csv", false, {made_seed("curves.csv", curves_args)}, {}});
  for (const char* solver : {"lagrangian", "exact", "sensitivity", "equal"})
    k.back().commands.emplace_back([=](const std::string& f, const std::string& out) -> Args {
      return {"allocate", "--curves",   f,   "--workload", alexnet, "--hw", "configs/tpu.yaml", "--solver",
              solver,     "--avg-bits", "3", "--out",      out};
    });
  k.back().commands.emplace_back([=](const std::string& f, const std::string& out) -> Args {
    return {"allocate",         "--curves",   f,    "--workload", alexnet, "--hw",
            "configs/tpu.yaml", "--min-rate", "50", "--out",      out};
  });
  k.push_back({"study",
               ".yaml",
               false,
               files_in(kRoot / "tests/data/study", ".yaml"),
               {[](const std::string& f, const std::string& out) -> Args {
                  return {"sweep", f, "--out", out};
                },
                [](const std::string& f, const std::string& out) -> Args {
                  return {"codesign", f, "--out", out};
                }}});
  k.back().prepare = [](std::string s) {  // its paths are relative to the study file: made absolute
    for (std::size_t at = s.find("../../../"); at != std::string::npos; at = s.find("../../../", at))
      s.replace(at, 9, kRoot.string() + "/");
    return s;
  };
  return k;
}

// A refusal of what was asked (a budget no plan fits, a rate no plan reaches) rather than of a file:
// a valid input can meet it, and its message names the goal instead.
bool about_the_goal(const std::string& err) {
  for (const char* phrase : {"fits the budget", "is infeasible: the cheapest plan needs", "no plan meets the target",
                             "the plan is infeasible on this hardware"})
    if (err.rfind("error: ", 0) == 0 && err.find(phrase) != std::string::npos) return true;
  return false;
}

// What a kept failure's .txt says: the command line, the problem, the program's stderr.
std::string fmt_record(const std::string& line, const std::string& problem, const std::string& err) {
  std::string out = line;
  out += '\n';
  out += problem;
  out += '\n';
  out += err;
  return out;
}

class CliCampaign : public ::testing::TestWithParam<std::string> {};

TEST_P(CliCampaign, BadInputsEndInExitOneNamingTheFile) {
  const std::vector<Kind> all = kinds();
  const auto kind = std::find_if(all.begin(), all.end(), [&](const Kind& k) { return k.name == GetParam(); });
  ASSERT_NE(kind, all.end());
  ASSERT_FALSE(kind->seeds.empty());
  const int inputs = env_int("BITSIM_CAMPAIGN_INPUTS", 6);
  const double limit_s = env_int("BITSIM_CAMPAIGN_SECONDS", 20);
  const long limit_kib = 4L * 1024 * 1024;
  const fs::path work = kKeep / ("work-" + kind->name + "-" + std::to_string(getpid()));
  fs::remove_all(work);
  fs::create_directories(work);
  Mutator mutate(static_cast<std::uint64_t>(env_int("BITSIM_CAMPAIGN_SEED", 1)) * 1000003u +
                 std::hash<std::string>{}(kind->name) % 1000003u);
  int ran = 0, refused = 0, failures = 0;
  double slowest = 0;
  long most_kib = 0;
  for (int i = 0; i < inputs; ++i) {
    const fs::path& seed = kind->seeds[mutate.pick(kind->seeds.size())];
    const std::string original = kind->prepare(read_file(seed));
    const std::string bytes = kind->binary ? mutate.binary(original) : mutate.text(original);
    const fs::path input = work / ("input" + kind->ext);
    const fs::path out = work / "out";
    fs::remove_all(out);
    write_file(input, bytes);
    const Args args = kind->commands[static_cast<std::size_t>(i) % kind->commands.size()](input.string(), out.string());
    const ProgramRun r = run_program(args, work, limit_s);
    slowest = std::max(slowest, r.seconds);
    most_kib = std::max(most_kib, r.max_rss_kib);
    std::string problem;
    if (r.signal != 0 && !r.timed_out)
      problem = "ended by signal " + std::to_string(r.signal);
    else if (r.timed_out)
      problem = "ran over " + std::to_string(static_cast<int>(limit_s)) + " s";
    else if (r.err.find("Sanitizer") != std::string::npos || r.err.find("runtime error:") != std::string::npos)
      problem = "sanitizer report";
    else if (r.max_rss_kib > limit_kib)
      problem = "used over 4 GiB";
    else if (r.exit_code != 0 && r.exit_code != 1)
      problem = "exit " + std::to_string(r.exit_code);
    else if (r.exit_code == 1 && r.err.find("error:") == std::string::npos)
      problem = "exit 1 without an error message";
    else if (r.exit_code == 1 && r.err.find(input.filename().string()) == std::string::npos && !about_the_goal(r.err))
      problem = "exit 1 without naming the input file";
    else if (r.exit_code != 0 && fs::exists(out))
      problem = "a failed run left its output behind";
    if (env_int("BITSIM_CAMPAIGN_VERBOSE", 0) != 0)
      std::printf("%s %d: exit %d: %s\n", kind->name.c_str(), i, r.exit_code,
                  r.err.substr(0, r.err.find('\n')).c_str());
    if (r.exit_code == 0) ++ran;
    if (r.exit_code == 1) ++refused;
    if (problem.empty()) continue;
    ++failures;
    const fs::path keep = kKeep / kind->name;
    fs::create_directories(keep);
    const std::string stem = "failure-" + std::to_string(i);
    write_file(keep / (stem + kind->ext), bytes);
    std::string line = "bitsim";
    for (const std::string& a : args) {
      line += ' ';
      line += a == input.string() ? (keep / (stem + kind->ext)).string() : a;
    }
    write_file(keep / (stem + ".txt"), fmt_record(line, problem, r.err));
    ADD_FAILURE() << kind->name << " input " << i << " (from " << seed.filename().string() << "): " << problem << "\n  "
                  << line << "\n  stderr: " << r.err.substr(0, 2000);
  }
  fs::remove_all(work);
  std::printf(
      "cli campaign %s: %d inputs, %d ran (exit 0), %d refused (exit 1), %d failures; slowest %.2f s, "
      "most memory %.0f MiB\n",
      kind->name.c_str(), inputs, ran, refused, failures, slowest, static_cast<double>(most_kib) / 1024.0);
  RecordProperty("inputs", inputs);
  RecordProperty("failures", failures);
}

INSTANTIATE_TEST_SUITE_P(Kinds, CliCampaign,
                         ::testing::Values("hardware_yaml", "scalesim_cfg", "workload_yaml", "scalesim_csv", "onnx",
                                           "plan", "curves", "study"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace bitsim
