// MPI mode: Open MPI's C API, when CMake found it (BITSIM_HAVE_MPI).
#include "tools/cli/mpi_runner.h"

#include <fmt/format.h>
#include <algorithm>
#include <climits>
#include <cstdlib>

#include "sim/base/diagnostics.h"
#include "sim/base/text.h"

#ifdef BITSIM_HAVE_MPI
#include <mpi.h>
#endif

namespace bitsim::tools {

bool mpi_launched() {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  const auto n = size ? parse_integer(size) : std::nullopt;
  return n && *n > 1;
}

#ifdef BITSIM_HAVE_MPI

MpiSession::MpiSession() {
  MPI_Init(nullptr, nullptr);
  MPI_Comm_rank(MPI_COMM_WORLD, &m_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &m_size);
}

MpiSession::~MpiSession() { MPI_Finalize(); }

bool MpiSession::broadcast(bool ok) const {
  int flag = ok ? 1 : 0;
  MPI_Bcast(&flag, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return flag != 0;
}

std::vector<std::string> MpiSession::gather(const std::string& text) const {
  // A rank's text beyond 2 GiB is sent as nothing, and its true size as -1: rank 0 reports it.
  const int mine = text.size() > INT_MAX ? -1 : static_cast<int>(text.size());
  std::vector<int> sizes(m_rank == 0 ? static_cast<std::size_t>(m_size) : 0);
  MPI_Gather(&mine, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> counts(sizes.size()), offsets(sizes.size());
  long long total = 0;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    counts[r] = total + std::max(sizes[r], 0) > INT_MAX ? 0 : std::max(sizes[r], 0);
    offsets[r] = static_cast<int>(total);
    total += counts[r];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  MPI_Gatherv(text.data(), std::max(mine, 0), MPI_CHAR, all.data(), counts.data(), offsets.data(), MPI_CHAR, 0,
              MPI_COMM_WORLD);
  std::vector<std::string> out;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    if (counts[r] != sizes[r])
      throw InputError({}, fmt::format("MPI mode: the rows gathered on rank 0 exceed 2 GiB (at rank {}): split the "
                                       "study with --shard I/N and bitsim merge instead",
                                       r));
    out.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(counts[r])));
  }
  return out;
}

#else

MpiSession::MpiSession() {
  throw InputError({},
                   "started by mpirun, but this bitsim was not built with MPI (install libopenmpi-dev and "
                   "reconfigure); without MPI, split a study with --shard I/N and bitsim merge");
}

MpiSession::~MpiSession() = default;
bool MpiSession::broadcast(bool ok) const { return ok; }
std::vector<std::string> MpiSession::gather(const std::string& text) const { return {text}; }

#endif

}  // namespace bitsim::tools
