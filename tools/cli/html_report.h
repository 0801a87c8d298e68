// `--report DIR` / `--out DIR`: an output folder with an index.html that shows the tables and the
// SVG plots written next to it, for a browser. Nothing in the folder is replaced without --force,
// nothing is written through a symbolic link, and each file is written whole or not at all.
#pragma once

#include <string>
#include <vector>

#include "sim/base/table.h"

namespace bitsim::tools {

// An output folder: created if missing and probed for writing (InputError if it cannot take files);
// every file is checked before any is written.
class OutputDir {
 public:
  OutputDir(std::string dir, bool force);
  // Refuses (InputError) if any of `names` is or passes through a symbolic link or a folder, or
  // exists and --force was not given.
  void check(const std::vector<std::string>& names) const;
  std::string path(const std::string& name) const;
  void write(const std::string& name, const std::string& text) const;
  const std::string& dir() const { return m_dir; }
  // Files bitsim wrote in this folder before (its run state, tools/cli/study_run.h): replaced
  // without --force, as are the files this object wrote.
  void allow_replacing(std::vector<std::string> names);
  // The names written so far, each once, in the order first written.
  const std::vector<std::string>& written() const { return m_written; }

 private:
  bool may_replace(const std::string& name) const;

  std::string m_dir;
  bool m_force;
  std::vector<std::string> m_replaceable;      // sorted
  mutable std::vector<std::string> m_written;  // a record of what write() did, for the run state
};

// A table on the page: at most `max_rows` of its rows (the page stays small whatever the study's
// size), and where rows are left out a line naming `full_file`, which holds them all.
struct ReportTable {
  std::string caption;  // plain text (escaped); may be empty
  const Table* table = nullptr;
  std::size_t max_rows = 200;
  std::string full_file;  // e.g. "pareto.csv"
};

struct ReportSection {
  std::string heading;
  std::vector<std::string> paragraphs;  // plain text (escaped)
  std::vector<std::string> images;      // SVG files in the folder
  std::vector<ReportTable> tables;
  std::vector<std::string> links;  // files in the folder (CSV, YAML)
};

// The index.html text for the sections.
std::string html_report(const std::string& title, const std::vector<ReportSection>& sections);

}  // namespace bitsim::tools
