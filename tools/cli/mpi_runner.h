// MPI mode of `sweep` and `codesign`: a thin front end over the study layer. Under Open MPI's mpirun
// (OMPI_COMM_WORLD_SIZE above 1 in the environment) every rank runs the points p with
// p mod size == rank, and rank 0 gathers their rows (alloc/study/study_records.h) and writes the one
// result. Built only where CMake finds MPI; elsewhere MpiSession says so.
#pragma once

#include <string>
#include <vector>

namespace bitsim::tools {

// Whether this process was started by mpirun with more than one rank (Open MPI's environment).
bool mpi_launched();

// MPI_Init on construction, MPI_Finalize on destruction; InputError if bitsim was built without MPI.
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return m_rank; }
  int size() const { return m_size; }
  // Rank 0's `ok`, on every rank.
  bool broadcast(bool ok) const;
  // Every rank's text, on rank 0 (in rank order); empty elsewhere. Up to 2 GiB in all (MPI_Gatherv's
  // int counts): InputError on rank 0 beyond.
  std::vector<std::string> gather(const std::string& text) const;

 private:
  int m_rank = 0, m_size = 1;
};

}  // namespace bitsim::tools
