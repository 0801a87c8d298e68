// The run/writing flow of sweep and codesign: the run state file, the rows file, signals, progress,
// shards, merge and MPI mode around alloc/study/study.h.
#include "tools/cli/study_run.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "alloc/study/study_records.h"
#include "sim/base/diagnostics.h"
#include "sim/base/files.h"
#include "sim/base/text.h"
#include "sim/base/yaml_fields.h"
#include "tools/cli/cli_common.h"
#include "tools/cli/mpi_runner.h"

namespace bitsim::tools {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStateFile = "bitsim-run.yaml";
constexpr const char* kRowsFile = "bitsim-rows.csv";
constexpr int kStoppedExitCode = 130;  // 128 + SIGINT, as a shell reports a Ctrl-C'd program
constexpr std::chrono::milliseconds kFlushInterval{100};

// --- the run state: bitsim-run.yaml ---------------------------------------------------------------

struct RunState {
  std::string command, spec, status, shard;  // status: running, interrupted or complete; shard "I/N" or ""
  std::size_t points = 0, points_done = 0;
  std::vector<std::string> files;  // bitsim's files in the folder, the state file included
};

std::string state_text(const RunState& s) {
  YAML::Emitter e;
  e << YAML::Comment(
           "bitsim's run state for this folder: the study, how far it got and the files bitsim wrote here\n"
           "(read by --resume, --force and bitsim merge; written by bitsim, not to be edited)")
    << YAML::BeginMap;
  e << YAML::Key << "command" << YAML::Value << s.command;
  e << YAML::Key << "spec" << YAML::Value << YAML::DoubleQuoted << s.spec;
  e << YAML::Key << "status" << YAML::Value << s.status;
  e << YAML::Key << "points" << YAML::Value << s.points;
  e << YAML::Key << "points_done" << YAML::Value << s.points_done;
  if (!s.shard.empty()) e << YAML::Key << "shard" << YAML::Value << s.shard;
  e << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
  for (const std::string& f : s.files) e << f;
  e << YAML::EndSeq << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

// A file name bitsim wrote in a folder: relative, without "." or ".." parts.
bool plain_relative_name(const std::string& name) {
  const fs::path p(name);
  if (name.empty() || p.is_absolute()) return false;
  return std::none_of(p.begin(), p.end(), [](const fs::path& part) { return part == ".." || part == "."; });
}

RunState read_state(const std::string& path) {
  const YAML::Node root = yaml::load_file(path);
  Diagnostics diag;
  const yaml::Reader rd{path, diag};
  RunState s;
  if (rd.require_map(root, "")) {
    rd.reject_unknown_keys(root, "", {"command", "spec", "status", "points", "points_done", "shard", "files"});
    for (const char* key : {"command", "spec", "status", "points", "points_done", "files"})
      if (!root[key]) diag.error(yaml::where(path, root), fmt::format("{}: missing", key));
    if (const auto v = rd.choice(root["command"], "command", {"sweep", "codesign"})) s.command = *v;
    if (const auto v = rd.text(root["spec"], "spec")) s.spec = *v;
    if (const auto v = rd.choice(root["status"], "status", {"running", "interrupted", "complete"})) s.status = *v;
    if (const auto v = rd.integer(root["points"], "points", 0, INT64_MAX)) s.points = static_cast<std::size_t>(*v);
    if (const auto v = rd.integer(root["points_done"], "points_done", 0, INT64_MAX))
      s.points_done = static_cast<std::size_t>(*v);
    if (root["shard"])
      if (const auto v = rd.text(root["shard"], "shard")) s.shard = *v;
    const YAML::Node files = root["files"];
    if (files && !files.IsSequence()) diag.expected(yaml::where(path, files), "files", "a list", yaml::describe(files));
    if (files && files.IsSequence())
      for (std::size_t i = 0; i < files.size(); ++i) {
        const auto f = rd.text(files[i], fmt::format("files[{}]", i));
        if (f && !plain_relative_name(*f))
          diag.expected(yaml::where(path, files[i]), fmt::format("files[{}]", i), "a file name inside the folder",
                        yaml::describe(files[i]));
        else if (f)
          s.files.push_back(*f);
      }
  }
  diag.throw_if_any();
  return s;
}

std::optional<RunState> read_state_in(const std::string& dir) {
  check_no_symlinks(dir, kStateFile);
  const std::string path = (fs::path(dir) / kStateFile).string();
  if (!fs::exists(path)) return std::nullopt;
  return read_state(path);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path, 0, 0}, "cannot read the file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "line 7: 'avg_bits: [2, 4]' there, 'avg_bits: [2, 3]' now"; empty when the texts are equal.
std::string first_difference(const std::string& there, const std::string& now) {
  if (there == now) return {};
  std::istringstream a(there), b(now);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, la)), more_b = static_cast<bool>(std::getline(b, lb));
    if (!more_a && !more_b) return "they differ in their line ends";
    if (more_a != more_b || la != lb)
      return fmt::format("line {}: {} there, {} now", line, more_a ? "'" + yaml::shorten(la) + "'" : "nothing",
                         more_b ? "'" + yaml::shorten(lb) + "'" : "nothing");
  }
}

// --- files bitsim wrote before --------------------------------------------------------------------

// `text` starts with a decimal number (no leading zero) and then `rest`, where rest == "*" stands for
// a dot and a non-empty alphanumeric extension.
bool number_then(std::string_view text, std::string_view rest) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || (digits > 1 && text[0] == '0')) return false;
  text.remove_prefix(digits);
  if (rest != "*") return text == rest;
  return text.size() > 1 && text[0] == '.' &&
         std::all_of(text.begin() + 1, text.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

// The names bitsim's sweep and codesign wrote before they kept a run state: matched exactly.
bool legacy_name(const std::string& name) {
  static const std::set<std::string> fixed = {"sweep.csv",         "speedup.svg",     "rate.svg",
                                              "index.html",        "codesign.csv",    "pareto.csv",
                                              "pareto-energy.svg", "pareto-area.svg", "pareto-cost.svg",
                                              "pareto-error.svg",  "study.yaml",      "inputs/curves.csv"};
  const std::string_view n = name;
  for (const auto& [prefix, rest] :
       {std::pair{"plans/pareto-", ".yaml"}, std::pair{"inputs/hardware-", "*"}, std::pair{"inputs/workload-", "*"}})
    if (n.starts_with(prefix) && number_then(n.substr(std::string_view(prefix).size()), rest)) return true;
  return fixed.contains(name);
}

std::vector<std::string> legacy_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const char* sub : {"", "plans", "inputs"}) {
    std::error_code ec;
    const fs::path folder = fs::path(dir) / sub;
    if (fs::is_symlink(folder) || !fs::is_directory(folder, ec)) continue;
    for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
      const std::string name = (fs::path(sub) / e.path().filename()).generic_string();
      if (e.is_regular_file() && !e.is_symlink() && legacy_name(name)) names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Removes bitsim's files `names` from `dir` (regular files only, never through a link), then the
// folders they were in if that left them empty.
void remove_files(const std::string& dir, const std::vector<std::string>& names) {
  std::set<fs::path> folders;
  for (const std::string& n : names) {
    check_no_symlinks(dir, n);
    const fs::path p = fs::path(dir) / n;
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(p, ec))) continue;
    if (!fs::remove(p, ec) && ec) throw InputError({p.string(), 0, 0}, fmt::format("cannot remove: {}", ec.message()));
    for (fs::path f = fs::path(n).parent_path(); !f.empty(); f = f.parent_path()) folders.insert(f);
  }
  for (auto it = folders.rbegin(); it != folders.rend(); ++it) {  // deepest first
    std::error_code ec;
    const fs::path f = fs::path(dir) / *it;
    if (fs::is_directory(fs::symlink_status(f, ec)) && fs::is_empty(f, ec)) fs::remove(f, ec);
  }
}

// --- shards ---------------------------------------------------------------------------------------

std::pair<std::size_t, std::size_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  const std::int64_t i = parse_integer(std::string_view(text).substr(0, slash)).value_or(0);
  const std::int64_t n =
      slash == std::string::npos ? 0 : parse_integer(std::string_view(text).substr(slash + 1)).value_or(0);
  if (n < 1 || n > 1'000'000 || i < 1 || i > n)
    throw InputError({}, fmt::format("--shard: expected I/N with 1 <= I <= N <= 1000000, got '{}'", text));
  return {static_cast<std::size_t>(i), static_cast<std::size_t>(n)};
}

// Shard i of n (1-based) runs the points p with p mod n == i - 1: spread over the whole study, so
// that each shard gets its share of the slow and the fast parts of the axes.
bool in_shard(std::size_t point, std::size_t shard, std::size_t shards) { return point % shards == shard - 1; }

std::size_t shard_points(std::size_t points, std::size_t shard, std::size_t shards) {
  return points < shard ? 0 : (points - shard) / shards + 1;
}

// --- signals --------------------------------------------------------------------------------------

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_stop_signal(int signal) {
  g_stop.store(true);
  static const char note[] =
      "\nbitsim: stopping: the points in flight finish, then the partial result is written (again to quit now)\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, note, sizeof note - 1);
  std::signal(signal, SIG_DFL);  // a second Ctrl-C ends the program at once
}

// SIGINT and SIGTERM stop the study between points while this lives.
class StopSignals {
 public:
  StopSignals() {
    g_stop = false;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &m_int);
    sigaction(SIGTERM, &action, &m_term);
  }
  ~StopSignals() {
    sigaction(SIGINT, &m_int, nullptr);
    sigaction(SIGTERM, &m_term, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction m_int {
  }, m_term{};
};

// --- progress -------------------------------------------------------------------------------------

std::string duration_text(double seconds) {
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  const long long s = std::llround(seconds);
  if (s < 3600) return fmt::format("{} min {} s", s / 60, s % 60);
  return fmt::format("{} h {} min", s / 3600, s % 3600 / 60);
}

// "study: 1200/10000 points, 3.1 s elapsed, ETA 22.4 s" on stderr, at most once a second.
class ProgressLine {
 public:
  explicit ProgressLine(std::size_t restored) : m_restored(restored) {}
  void operator()(std::size_t done, std::size_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (now - m_last < std::chrono::seconds(1) && !(done == total && m_printed)) return;
    m_last = now;
    m_printed = true;
    const double elapsed = std::chrono::duration<double>(now - m_start).count();
    const double eta = elapsed / static_cast<double>(done) * static_cast<double>(total - done);
    std::cerr << fmt::format("study: {}/{} points, {} elapsed, ETA {}\n", m_restored + done, m_restored + total,
                             duration_text(elapsed), duration_text(eta));
  }

 private:
  std::size_t m_restored;
  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now(), m_last = m_start;
  bool m_printed = false;
};

// --- the rows file --------------------------------------------------------------------------------

void write_all(int fd, std::string_view text, const std::string& path) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw InputError({path, 0, 0}, fmt::format("cannot append the rows: {}", std::strerror(errno)));
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

int open_rows_file(const std::string& path, bool fresh) {
  const int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | (fresh ? O_CREAT | O_TRUNC : 0);
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) throw InputError({path, 0, 0}, fmt::format("cannot open the rows file: {}", std::strerror(errno)));
  return fd;
}

std::size_t count_done(const study::StudyResult& r) {
  return static_cast<std::size_t>(std::count(r.point_done.begin(), r.point_done.end(), 1));
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

std::pair<std::string, std::string> study_run_command(const std::string& state_path) {
  const RunState s = read_state(state_path);
  return {s.command, s.spec};
}

StudyRunner::StudyRunner(const StudyArgs& a, StudyCommand command)
    : m_args(a), m_command(std::move(command)), m_uncaught(std::uncaught_exceptions()) {
  if (!a.shard.empty()) std::tie(m_shard, m_shards) = parse_shard(a.shard);
  if ((m_shard || a.resume) && a.out_dir.empty())
    throw InputError({},
                     fmt::format("{} needs --out DIR: that is where its rows go", m_shard ? "--shard" : "--resume"));
  if (mpi_launched()) {
    if (a.resume || m_shard || !a.merge.empty())
      throw InputError({},
                       "under mpirun: --resume, --shard and merge are not supported in MPI mode (run them "
                       "without mpirun)");
    m_mpi = std::make_unique<MpiSession>();
    std::exception_ptr error;
    if (m_mpi->rank() == 0 && !a.out_dir.empty()) try {
        prepare_folder();
      } catch (...) {
        error = std::current_exception();
      }
    if (!m_mpi->broadcast(!error)) {
      if (error) std::rethrow_exception(error);
      m_failed = true;  // rank 0 reports it
    }
    return;
  }
  if (!a.out_dir.empty()) prepare_folder();
}

StudyRunner::~StudyRunner() {
  if (m_journal >= 0) ::close(m_journal);
  // A fresh run that fails (an exception on its way to main) before any point finished leaves the
  // folder as it found it: what it wrote goes, and the folder if it made it. Once points are in
  // the rows file it stays, resumable, as after a crash.
  if (std::uncaught_exceptions() > m_uncaught && m_out && !m_args.resume && !m_done && m_finished_points == 0) {
    try {
      std::vector<std::string> names = m_out->written();
      names.emplace_back(kRowsFile);
      remove_files(m_args.out_dir, names);
      std::error_code ec;
      if (m_created_dir && fs::is_empty(m_args.out_dir, ec)) fs::remove(m_args.out_dir, ec);
    } catch (...) {  // the error on its way to main is the one to report
    }
  }
}

void StudyRunner::check_same_study(const std::string& dir, const std::string& what) const {
  for (const StudyInputFile& f : m_command.inputs) {
    check_no_symlinks(dir, f.name);
    const std::string path = (fs::path(dir) / f.name).string();
    if (!fs::exists(path))
      throw InputError({}, fmt::format("{}: {}: {} is missing (it copies {})", dir, what, f.name, f.source));
    const std::string diff = first_difference(read_text(path), f.text);
    if (!diff.empty())
      throw InputError({}, fmt::format("{}: {}: the study is not the one that started the run there: {} (a copy of "
                                       "{} as it was) differs from {} now, {}",
                                       dir, what, f.name, f.source, f.source, diff));
  }
}

void StudyRunner::prepare_folder() {
  const StudyArgs& a = m_args;
  m_created_dir = !fs::exists(a.out_dir);
  m_out.emplace(a.out_dir, a.force);
  const std::optional<RunState> old = read_state_in(a.out_dir);
  const std::string shard = m_shard ? fmt::format("{}/{}", m_shard, m_shards) : "";
  if (a.resume) {
    if (!old)
      throw InputError({}, fmt::format("{}: --resume: no run to continue ({} is missing)", a.out_dir, kStateFile));
    if (old->command != m_command.name)
      throw InputError(
          {}, fmt::format("{}: --resume: the run there is a {}, not a {}", a.out_dir, old->command, m_command.name));
    if (old->status == "complete")
      throw InputError({}, fmt::format("{}: --resume: the run there is complete: nothing to resume (--force runs it "
                                       "again)",
                                       a.out_dir));
    if (old->shard != shard)
      throw InputError({}, fmt::format("{}: --resume: the run there is {}, the command line asks for {}", a.out_dir,
                                       old->shard.empty() ? "not a shard" : "shard " + old->shard,
                                       shard.empty() ? "the whole study" : "shard " + shard));
    check_same_study(a.out_dir, "--resume");
    m_old_files = old->files;
    m_out->allow_replacing(old->files);
    return;  // the rows file is read, cut to its complete points and appended to in restore()
  }
  if (old && old->status != "complete" && !a.force)
    throw InputError({}, fmt::format("{}: holds an interrupted {} run ({} of {} points done): --resume continues "
                                     "it, --force starts again",
                                     a.out_dir, old->command, old->points_done, old->points));
  if (!a.merge.empty()) check_shards();
  std::vector<std::string> names = m_command.outputs;
  for (const StudyInputFile& f : m_command.inputs) names.push_back(f.name);
  for (const char* n : {kStateFile, kRowsFile}) names.emplace_back(n);
  names.push_back(m_command.name + ".partial.csv");
  m_out->check(names);
  if (a.force) remove_files(a.out_dir, old ? old->files : legacy_files(a.out_dir));
  for (const StudyInputFile& f : m_command.inputs) m_out->write(f.name, f.text);
  std::vector<std::string> files;
  for (const StudyInputFile& f : m_command.inputs) files.push_back(f.name);
  if (a.merge.empty()) {  // MPI mode too: a run stopped under mpirun resumes from no points
    files.emplace_back(kRowsFile);
    m_journal = open_rows_file(m_out->path(kRowsFile), true);
    write_all(m_journal, study::point_records_header(), m_out->path(kRowsFile));
  }
  write_state("running", m_shard ? shard_points(m_command.points, m_shard, m_shards) : m_command.points, 0, files);
}

void StudyRunner::check_shards() {
  const StudyArgs& a = m_args;
  std::map<std::size_t, std::string> seen;  // shard number -> its folder
  for (const std::string& dir : a.merge) {
    if (same_path(dir, a.out_dir))
      throw InputError({}, fmt::format("merge: {} is both the output and a shard folder", dir));
    const std::optional<RunState> s = read_state_in(dir);
    if (!s) throw InputError({}, fmt::format("{}: not a shard folder ({} is missing)", dir, kStateFile));
    if (s->shard.empty()) throw InputError({}, fmt::format("{}: holds a whole run, not a shard (--shard I/N)", dir));
    if (s->command != m_command.name || s->spec != a.spec_path)
      throw InputError({}, fmt::format("{}: is a shard of `bitsim {} {}`, the first folder's of `bitsim {} {}`", dir,
                                       s->command, s->spec, m_command.name, a.spec_path));
    if (s->status != "complete")
      throw InputError({}, fmt::format("{}: shard {} is not finished ({}, {} of {} points): finish it with --resume",
                                       dir, s->shard, s->status, s->points_done, s->points));
    const auto [i, n] = parse_shard(s->shard);
    if (m_merge_shards && n != m_merge_shards)
      throw InputError(
          {}, fmt::format("{}: is shard {}, the first folder's is of {} shards", dir, s->shard, m_merge_shards));
    m_merge_shards = n;
    if (const auto [it, fresh] = seen.emplace(i, dir); !fresh)
      throw InputError({}, fmt::format("{}: shard {} is given twice (also {})", dir, s->shard, it->second));
    m_merge_shard.push_back(i);
    check_same_study(dir, "merge");
  }
  std::vector<std::string> missing;
  for (std::size_t i = 1; i <= m_merge_shards; ++i)
    if (!seen.contains(i)) missing.push_back(fmt::format("{}/{}", i, m_merge_shards));
  if (!missing.empty())
    throw InputError({}, fmt::format("merge: shard{} {} {} missing", missing.size() > 1 ? "s" : "",
                                     fmt::join(missing, ", "), missing.size() > 1 ? "are" : "is"));
}

void StudyRunner::write_state(const std::string& status, std::size_t points, std::size_t done,
                              const std::vector<std::string>& files) const {
  RunState s;
  s.command = m_command.name;
  s.spec = m_args.spec_path;
  s.status = status;
  s.points = points;
  s.points_done = done;
  if (m_shard) s.shard = fmt::format("{}/{}", m_shard, m_shards);
  std::vector<std::string> all = files;
  all.emplace_back(kStateFile);
  s.files = sorted_unique(all);
  m_out->write(kStateFile, state_text(s));
}

void StudyRunner::restore(study::StudyResult& result) {
  if (m_args.resume) {
    const std::string path = m_out->path(kRowsFile);
    check_no_symlinks(m_args.out_dir, kRowsFile);
    if (!fs::exists(path))
      throw InputError({},
                       fmt::format("{}: --resume: {} is missing: the run's rows are lost", m_args.out_dir, kRowsFile));
    const study::RestoredPoints r = study::restore_point_records(result, read_text(path), path);
    for (const std::size_t p : r.points)
      if (m_shard && !in_shard(p, m_shard, m_shards))
        throw InputError({path, 0, 0},
                         fmt::format("holds point {}, which is not in shard {}/{}", p, m_shard, m_shards));
    m_restored = r.points.size();
    fs::resize_file(path, r.valid_bytes);  // a point cut off while it was written runs again
    m_journal = open_rows_file(path, false);
    return;
  }
  for (std::size_t k = 0; k < m_args.merge.size(); ++k) {
    const std::string& dir = m_args.merge[k];
    check_no_symlinks(dir, kRowsFile);
    const std::string path = (fs::path(dir) / kRowsFile).string();
    for (const std::size_t p : study::restore_point_records(result, read_text(path), path).points)
      if (!in_shard(p, m_merge_shard[k], m_merge_shards))
        throw InputError({path, 0, 0}, fmt::format("holds point {}, which is not in shard {}/{}", p, m_merge_shard[k],
                                                   m_merge_shards));
  }
  const std::size_t done = count_done(result);
  if (done != result.point_done.size()) {
    const auto missing = std::find(result.point_done.begin(), result.point_done.end(), 0) - result.point_done.begin();
    throw InputError({}, fmt::format("merge: the shards hold {} of the study's {} points (point {} is in none)", done,
                                     result.point_done.size(), missing));
  }
}

std::optional<int> StudyRunner::run(const study::StudySpec& spec, study::StudyResult& result) {
  if (m_failed) return 1;
  if (m_mpi) return run_mpi(spec, result);
  const StopSignals signals;
  study::StudyOptions options;
  options.threads = m_args.threads;
  const std::size_t points = spec.points();
  if (m_shard || !m_args.merge.empty()) {
    options.selected.assign(points, 0);
    for (std::size_t p = 0; m_args.merge.empty() && p < points; ++p)
      options.selected[p] = in_shard(p, m_shard, m_shards) ? 1 : 0;
  }
  options.stop = &g_stop;
  options.warning = [](const std::string& text) { std::cerr << "warning: " << text << '\n'; };
  if (m_args.resume || !m_args.merge.empty()) options.restore = [this](study::StudyResult& r) { restore(r); };
  // Finished rows reach the rows file at most kFlushInterval after their point ends (one write per
  // point cost a tenth of a 10,000-point sweep's time); the rest when the run ends or stops.
  std::size_t written = 0;
  std::string buffer;
  auto last_flush = std::chrono::steady_clock::now();
  auto flush = [&] {
    write_all(m_journal, buffer, m_out->path(kRowsFile));
    buffer.clear();
    last_flush = std::chrono::steady_clock::now();
  };
  if (m_out && m_args.merge.empty())  // the rows file is open by the time points finish (restore() opens it)
    options.point_finished = [&](const study::StudyResult& r, std::size_t point) {
      study::append_point_records(r, point, buffer);
      m_finished_points = ++written;
      if (written == m_args.stop_after_points) g_stop = true;
      if (std::chrono::steady_clock::now() - last_flush >= kFlushInterval) flush();
    };
  ProgressLine progress(m_restored);
  options.progress = [&](std::size_t done, std::size_t total) { progress(done, total); };
  const auto start = std::chrono::steady_clock::now();
  result = study::run_study(spec, options);
  if (!buffer.empty()) flush();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::size_t expected =
      m_shard ? static_cast<std::size_t>(std::count(options.selected.begin(), options.selected.end(), 1)) : points;
  const std::size_t done = count_done(result);
  // The elapsed time goes to stderr only: written files are byte-identical from run to run.
  std::cerr << fmt::format("study: {} points x {} plans = {} rows in {:.3g} s ({} threads){}\n", points,
                           result.rows_per_point(), result.rows.size(), seconds, m_args.threads,
                           m_restored             ? fmt::format("; {} points from the interrupted run", m_restored)
                           : m_args.merge.empty() ? std::string()
                                                  : fmt::format("; every point from {} shards", m_args.merge.size()));
  for (const study::NoOpAxis& w : result.no_op_axes) std::cerr << "warning: " << w.text << '\n';
  if (done < expected) return stopped(result, expected);
  if (m_shard) {
    ::close(m_journal);
    m_journal = -1;
    std::vector<std::string> files = {kRowsFile};
    for (const StudyInputFile& f : m_command.inputs) files.push_back(f.name);
    write_state("complete", expected, done, files);
    std::cerr << fmt::format(
        "wrote shard {}/{} ({} points) to {}: bitsim merge OUT and the {} shard folders write "
        "the study's outputs\n",
        m_shard, m_shards, done, m_args.out_dir, m_shards);
    return 0;
  }
  return std::nullopt;
}

std::optional<int> StudyRunner::stopped(const study::StudyResult& result, std::size_t expected) {
  const std::size_t done = count_done(result);
  if (!m_out) {
    std::cerr << fmt::format("bitsim: stopped after {} of {} points; nothing written (no --out)\n", done, expected);
    return kStoppedExitCode;
  }
  const std::string partial = m_command.name + ".partial.csv";
  m_out->write(partial, m_command.partial_csv(result));
  const std::string resume =
      fmt::format("bitsim {} {} --out {}{} --resume", m_command.name, m_args.spec_path, m_args.out_dir,
                  m_shard ? fmt::format(" --shard {}/{}", m_shard, m_shards) : "");
  ReportSection s;
  s.heading = "Partial result";
  s.paragraphs = {fmt::format("The run was stopped after {} of {} points: this folder holds a partial result, not "
                              "the study's outputs.",
                              done, expected),
                  fmt::format("{} holds the rows of the finished points, in point order. Continue with: {} (the "
                              "outputs are then those of an uninterrupted run).",
                              partial, resume)};
  s.links = {partial, kStateFile};
  m_out->write("index.html", html_report(fmt::format("bitsim {} (partial)", m_command.name), {s}));
  std::vector<std::string> files = {kRowsFile, partial, "index.html"};
  for (const StudyInputFile& f : m_command.inputs) files.push_back(f.name);
  write_state("interrupted", expected, done, files);
  m_done = true;
  std::cerr << fmt::format("bitsim: stopped after {} of {} points: partial result in {}/{}; continue with: {}\n", done,
                           expected, m_args.out_dir, partial, resume);
  return kStoppedExitCode;
}

std::optional<int> StudyRunner::run_mpi(const study::StudySpec& spec, study::StudyResult& result) {
  const int rank = m_mpi->rank(), size = m_mpi->size();
  study::StudyOptions options;
  options.threads = m_args.threads;
  const std::size_t points = spec.points();
  options.selected.assign(points, 0);
  for (std::size_t p = 0; p < points; ++p)
    options.selected[p] = p % static_cast<std::size_t>(size) == static_cast<std::size_t>(rank) ? 1 : 0;
  ProgressLine progress(0);
  if (rank == 0) {
    options.progress = [&](std::size_t done, std::size_t total) { progress(done, total); };
    options.warning = [](const std::string& text) { std::cerr << "warning: " << text << '\n'; };
  }
  // Every rank reaches the gather, a failed one with its error ("!message") instead of rows.
  std::string rows;
  std::exception_ptr error;
  const auto start = std::chrono::steady_clock::now();
  try {
    result = study::run_study(spec, options);
    rows = std::string(study::point_records_header());
    for (std::size_t p = 0; p < points; ++p)
      if (result.point_done[p]) study::append_point_records(result, p, rows);
  } catch (const std::exception& e) {
    error = std::current_exception();
    rows = std::string("!") + e.what();
  }
  const std::vector<std::string> all = m_mpi->gather(rows);
  if (error && rank == 0) std::rethrow_exception(error);
  if (rank != 0) return error ? 1 : 0;
  for (int r = 1; r < size; ++r) {
    const std::string& text = all[static_cast<std::size_t>(r)];
    if (!text.empty() && text.front() == '!') throw InputError({}, fmt::format("MPI rank {}: {}", r, text.substr(1)));
    study::restore_point_records(result, text, fmt::format("<rows of MPI rank {}>", r));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << fmt::format("study: {} points x {} plans = {} rows in {:.3g} s ({} MPI ranks x {} threads)\n", points,
                           result.rows_per_point(), result.rows.size(), seconds, size, m_args.threads);
  BITSIM_CHECK(count_done(result) == points);
  result.no_op_axes = study::find_no_op_axes(spec, result);  // every rank's rows: as one process finds them
  for (const study::NoOpAxis& w : result.no_op_axes) std::cerr << "warning: " << w.text << '\n';
  return std::nullopt;
}

void StudyRunner::finish() {
  if (!m_out) return;
  if (m_journal >= 0) {
    ::close(m_journal);
    m_journal = -1;
  }
  std::vector<std::string> files = m_out->written();
  for (const StudyInputFile& f : m_command.inputs) files.push_back(f.name);
  files = sorted_unique(files);
  std::vector<std::string> stale;
  for (const std::string& f : m_old_files)
    if (f != kStateFile && !std::binary_search(files.begin(), files.end(), f)) stale.push_back(f);
  stale.emplace_back(kRowsFile);
  remove_files(m_args.out_dir, stale);
  write_state("complete", m_command.points, m_command.points, files);
  m_done = true;
}

}  // namespace bitsim::tools
