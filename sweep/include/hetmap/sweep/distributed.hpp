#pragma once
// Sweeps over MPI ranks (built only with the CMake option HETMAP_MPI, which defines
// HETMAP_WITH_MPI). This header needs no MPI headers: MPI stays inside distributed.cpp.
//
// Under `mpirun -np N hetmap sweep ...` the CLI makes one MpiGroup and hands it to run_sweep()
// (runner.hpp), which deals the points round-robin over the ranks. Only the main thread calls
// MPI; the TBB workers that run a rank's points never do.
#include <vector>

#include "hetmap/sweep/runner.hpp"

namespace hetmap::sweep {

/// True when this process was started by an MPI launcher (mpirun/mpiexec of Open MPI, MPICH's
/// Hydra, srun with PMI/PMIx). Without one hetmap never initialises MPI, so a plain run behaves
/// exactly as a build without MPI.
bool under_mpi_launcher();

/// MPI_COMM_WORLD. The constructor initialises MPI, the destructor finalises it: make one per
/// process, on the main thread.
class MpiGroup final : public Group {
 public:
  MpiGroup();
  ~MpiGroup() override;
  MpiGroup(const MpiGroup&) = delete;
  MpiGroup& operator=(const MpiGroup&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::vector<long long> sum(const std::vector<long long>& values) override;
  int min(int value) override;
  std::vector<int> broadcast(const std::vector<int>& values, int root) override;

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace hetmap::sweep
