// MPI_COMM_WORLD as a sweep Group (compiled only with HETMAP_MPI).
#include "hetmap/sweep/distributed.hpp"

#include <mpi.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace hetmap::sweep {

namespace {

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}

}  // namespace

bool under_mpi_launcher() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"})
    if (std::getenv(var)) return true;
  return false;
}

MpiGroup::MpiGroup() {
  int provided = 0;
  // FUNNELED: only the main thread calls MPI, while TBB threads (which never do) may exist.
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Return codes rather than aborting, so that failures become hetmap errors.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
}

MpiGroup::~MpiGroup() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

std::vector<long long> MpiGroup::sum(const std::vector<long long>& values) {
  std::vector<long long> total(values.size());
  check(MPI_Allreduce(values.data(), total.data(), static_cast<int>(values.size()),
                      MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD),
        "MPI_Allreduce");
  return total;
}

int MpiGroup::min(int value) {
  int result = value;
  check(MPI_Allreduce(&value, &result, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
  return result;
}

std::vector<int> MpiGroup::broadcast(const std::vector<int>& values, int root) {
  int n = static_cast<int>(values.size());
  check(MPI_Bcast(&n, 1, MPI_INT, root, MPI_COMM_WORLD), "MPI_Bcast");
  std::vector<int> result = rank_ == root ? values : std::vector<int>(static_cast<std::size_t>(n));
  if (n > 0) check(MPI_Bcast(result.data(), n, MPI_INT, root, MPI_COMM_WORLD), "MPI_Bcast");
  return result;
}

}  // namespace hetmap::sweep
