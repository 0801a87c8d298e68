// How `sweep` and `codesign` run a study's points and keep their output folder: rows written as
// points finish, Ctrl-C leaving a partial result marked as such, `--resume`, `--force` clearing what
// bitsim wrote there before, progress with elapsed time and ETA, `--shard I/N` with `bitsim merge`,
// and MPI mode (tools/cli/mpi_runner.h). The folder's bitsim-run.yaml holds the run's state and the
// files bitsim wrote; bitsim-rows.csv the finished points' rows (alloc/study/study_records.h).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alloc/study/study.h"
#include "tools/cli/commands.h"
#include "tools/cli/html_report.h"

namespace bitsim::tools {

// An input copied into the folder: its name there, the file it copies, its text.
struct StudyInputFile {
  std::string name, source, text;
};

// What a study command writes, from tools/cli/study_commands.cpp.
struct StudyCommand {
  std::string name;                    // "sweep" or "codesign"
  std::size_t points = 0;              // the study's
  std::vector<std::string> outputs;    // its fixed output files, checked before the work
  std::vector<StudyInputFile> inputs;  // study.yaml and inputs/*, written before the work
  // The finished points' rows in the command's CSV columns (the partial result of a stopped run).
  std::function<std::string(const study::StudyResult&)> partial_csv;
};

class MpiSession;

// The command ("sweep" or "codesign") and study file of the run whose state file is `state_path`.
std::pair<std::string, std::string> study_run_command(const std::string& state_path);

class StudyRunner {
 public:
  // Before any work: checks the flags and the folder (nothing the user wrote is replaced without
  // --force; with --force, what bitsim wrote there before is removed; with --resume, the study must
  // be the one that started the run), then writes the inputs and the run state. InputError on any
  // problem.
  StudyRunner(const StudyArgs& a, StudyCommand command);
  ~StudyRunner();
  StudyRunner(const StudyRunner&) = delete;
  StudyRunner& operator=(const StudyRunner&) = delete;

  // Runs this process's points (all, a shard, those an interrupted run left, an MPI rank's share)
  // into `result` and restores the others (the interrupted run's, the shards', the other ranks').
  // nullopt: every row is there and this process writes the outputs. Otherwise the exit code:
  // 130 when stopped (Ctrl-C, SIGTERM; the partial result written), 0 for a shard (its rows
  // written) or an MPI rank other than 0.
  std::optional<int> run(const study::StudySpec& spec, study::StudyResult& result);

  // The output folder, nullptr without --out (or on an MPI rank other than 0).
  OutputDir* out() { return m_out ? &*m_out : nullptr; }

  // After the outputs are written: the state says complete and lists the files; bitsim's files of an
  // earlier or interrupted run that were not written now, and the rows file, are removed.
  void finish();

 private:
  void prepare_folder();
  void check_same_study(const std::string& dir, const std::string& what) const;
  void check_shards();
  void restore(study::StudyResult& result);
  std::optional<int> run_mpi(const study::StudySpec& spec, study::StudyResult& result);
  std::optional<int> stopped(const study::StudyResult& result, std::size_t expected);
  void write_state(const std::string& status, std::size_t points, std::size_t done,
                   const std::vector<std::string>& files) const;

  StudyArgs m_args;
  StudyCommand m_command;
  std::optional<OutputDir> m_out;
  std::unique_ptr<MpiSession> m_mpi;
  std::size_t m_shard = 0, m_shards = 1;   // 1-based shard of m_shards; 0: none
  std::vector<std::string> m_old_files;    // bitsim's files in the folder before this run
  std::vector<std::size_t> m_merge_shard;  // per --merge folder, its shard number
  std::size_t m_merge_shards = 0;
  int m_journal = -1;  // the rows file, appended as points finish
  std::size_t m_restored = 0;
  std::size_t m_finished_points = 0;  // by this process, written to the rows file
  bool m_created_dir = false;
  bool m_done = false;    // finish() or a written shard or partial result
  int m_uncaught = 0;     // std::uncaught_exceptions() when constructed
  bool m_failed = false;  // MPI: rank 0 could not prepare the folder (and reports why)
};

}  // namespace bitsim::tools
