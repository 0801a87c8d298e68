// The report folder and its index.html.
#include "tools/cli/html_report.h"

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>

#include "sim/base/diagnostics.h"
#include "sim/base/files.h"
#include "tools/cli/cli_common.h"
#include "tools/cli/svg.h"

namespace bitsim::tools {

namespace {
std::string esc(const std::string& s) { return xml_escape(s); }

// A heading's anchor: "Best configurations" -> "best-configurations" (index.html#best-configurations).
std::string anchor(const std::string& heading) {
  std::string out;
  for (char c : heading) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}
}  // namespace

OutputDir::OutputDir(std::string dir, bool force) : m_dir(std::move(dir)), m_force(force) {
  std::error_code ec;
  if (std::filesystem::exists(m_dir) && !std::filesystem::is_directory(m_dir))
    throw InputError({}, fmt::format("{}: exists and is not a folder", m_dir));
  std::filesystem::create_directories(m_dir, ec);
  if (ec) throw InputError({}, fmt::format("{}: cannot create the folder: {}", m_dir, ec.message()));
  check_folder_writable(m_dir);
}

void OutputDir::check(const std::vector<std::string>& names) const {
  for (const std::string& n : names) {
    check_no_symlinks(m_dir, n);
    check_replaceable(path(n), may_replace(n), m_dir);
  }
}

void OutputDir::allow_replacing(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  m_replaceable = std::move(names);
}

bool OutputDir::may_replace(const std::string& name) const {
  return m_force || std::binary_search(m_replaceable.begin(), m_replaceable.end(), name) ||
         std::find(m_written.begin(), m_written.end(), name) != m_written.end();
}

std::string OutputDir::path(const std::string& name) const { return (std::filesystem::path(m_dir) / name).string(); }

void OutputDir::write(const std::string& name, const std::string& text) const {
  const std::filesystem::path p = path(name);
  std::error_code ec;
  std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) throw InputError({p.parent_path().string(), 0, 0}, fmt::format("cannot create the folder: {}", ec.message()));
  check_no_symlinks(m_dir, name);
  const bool again = std::find(m_written.begin(), m_written.end(), name) != m_written.end();
  write_new_file(p.string(), text, may_replace(name), m_dir);
  if (!again) m_written.push_back(name);
}

std::string html_report(const std::string& title, const std::vector<ReportSection>& sections) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << esc(title) << "</title>\n"
    << "<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;font-size:12px}"
       "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f0f0f0}"
       "td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd;margin:8px 0}"
       ".caption{font-weight:bold;margin-bottom:4px}.more{font-size:12px;color:#444}.wide{overflow-x:auto}"
       "</style></head><body>\n<h1>"
    << esc(title) << "</h1>\n";
  for (const ReportSection& s : sections) {
    h << "<h2 id=\"" << anchor(s.heading) << "\">" << esc(s.heading) << "</h2>\n";
    for (const std::string& p : s.paragraphs) h << "<p>" << esc(p) << "</p>\n";
    for (const std::string& img : s.images)
      h << "<div><img src=\"" << esc(img) << "\" alt=\"" << esc(img) << "\"></div>\n";
    for (const ReportTable& rt : s.tables) {
      const Table& t = *rt.table;
      if (!rt.caption.empty()) h << "<p class=\"caption\">" << esc(rt.caption) << "</p>\n";
      h << "<div class=\"wide\"><table><tr>";
      for (const std::string& c : t.columns()) h << "<th>" << esc(c) << "</th>";
      h << "</tr>\n";
      const std::size_t shown = std::min(t.rows().size(), rt.max_rows);
      for (std::size_t r = 0; r < shown; ++r) {
        h << "<tr>";
        for (const Cell& c : t.rows()[r]) h << "<td>" << esc(format_cell_text(c)) << "</td>";
        h << "</tr>\n";
      }
      h << "</table></div>\n";
      if (shown < t.rows().size())
        h << "<p class=\"more\">" << esc(fmt::format("The first {} of {} rows; all of them: ", shown, t.rows().size()))
          << "<a href=\"" << esc(rt.full_file) << "\">" << esc(rt.full_file) << "</a></p>\n";
    }
    if (!s.links.empty()) {
      h << "<p>Files:";
      for (const std::string& l : s.links) h << " <a href=\"" << esc(l) << "\">" << esc(l) << "</a>";
      h << "</p>\n";
    }
  }
  h << "</body></html>\n";
  return h.str();
}

}  // namespace bitsim::tools
