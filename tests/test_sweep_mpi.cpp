// Sweeps over MPI ranks: `mpirun -np 2 hetmap sweep` gives the results of one process, every
// rank runs some points, --resume reruns only what is missing, and a bad experiment exits 2 on
// every rank with the error printed once, before anything is written. Skipped (saying why) in builds without HETMAP_MPI or
// where no working mpirun is on PATH. Every mpirun is bounded by `timeout`: CI never hangs here.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "fixtures.hpp"
#include "hetmap/detail/folder_lock.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/report.hpp"
#include "hetmap/sweep/results.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using test::quote;
using test::run_hetmap;
using test::slurp;
using test::source_path;
using test::temp_dir;
using test::write_file;

constexpr int kRanks = 2;

// `mpirun` on PATH, or "".
std::string find_mpirun() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string d;
  while (std::getline(dirs, d, ':')) {
    const fs::path f = fs::path(d.empty() ? "." : d) / "mpirun";
    if (::access(f.c_str(), X_OK) == 0) return f.string();
  }
  return "";
}

struct MpiResult {
  int mpirun_exit = -1;
  std::vector<int> rank_exit;  // one per rank; -1 if the rank did not report
  std::string out, err;
};

// Runs `hetmap ARGS` on kRanks ranks from the source folder. A wrapper records each rank's exit
// code. Open MPI needs --allow-run-as-root as root (CI containers); single-copy shared memory
// (CMA) is often forbidden in containers, so it is switched off. By default mpirun kills the
// ranks still running once one exits non-zero, which races with the others' own exit with the
// same code; orte_abort_on_non_zero_status=0 lets every rank finish, so each exit code is seen.
MpiResult run_mpi(const std::string& args) {
  const std::string dir = temp_dir();
  const std::string wrapper = write_file(
      dir, "rank.sh",
      "\"$@\"\nrc=$?\necho $rc > '" + dir + "'/rc.${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-x}}\nexit $rc\n");
  const std::string cmd =
      fmt::format("cd {} && OMPI_MCA_btl_vader_single_copy_mechanism=none "
                  "OMPI_MCA_orte_abort_on_non_zero_status=0 timeout -k 10 120 {} "
                  "--oversubscribe --allow-run-as-root -np {} sh {} {} {} >{} 2>{} </dev/null",
                  quote(HETMAP_SOURCE_DIR), quote(find_mpirun()), kRanks, quote(wrapper),
                  quote(HETMAP_BINARY), args, quote(dir + "/stdout"), quote(dir + "/stderr"));
  const int status = std::system(cmd.c_str());
  MpiResult r;
  r.mpirun_exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  for (int k = 0; k < kRanks; ++k) {
    const std::string rc = slurp(fmt::format("{}/rc.{}", dir, k));
    r.rank_exit.push_back(rc.empty() ? -1 : std::stoi(rc));
  }
  r.out = slurp(dir + "/stdout");
  r.err = slurp(dir + "/stderr");
  return r;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class SweepMpi : public ::testing::Test {
 protected:
  void SetUp() override {
#if !HETMAP_WITH_MPI
    GTEST_SKIP() << "this build has no MPI (configure with -DHETMAP_MPI=ON; Debian: libopenmpi-dev)";
#else
    if (find_mpirun().empty()) GTEST_SKIP() << "no mpirun on PATH (Debian: openmpi-bin)";
    // Once per program: can mpirun start kRanks processes here at all?
    static const MpiResult probe = run_mpi("--version");
    if (probe.rank_exit != std::vector<int>(kRanks, 0))
      GTEST_SKIP() << "mpirun cannot start " << kRanks << " ranks here (exit "
                   << probe.mpirun_exit << "):\n" << probe.err;
#endif
  }
};

const std::string kExperiment = "experiments/quickstart.yaml";  // 4 points, well under a second

// The sweep of one process (no mpirun), computed once.
const std::string& one_process_results() {
  static const std::string csv = [] {
    const std::string out = temp_dir() + "/one";
    const auto r = run_hetmap("sweep " + kExperiment + " --out " + quote(out));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(slurp(out + "/points/000/summary.json").find("\"rank\""), std::string::npos)
        << "one process writes summaries as before";
    return slurp(out + "/results.csv");
  }();
  return csv;
}

TEST_F(SweepMpi, TwoRanksGiveTheResultsOfOneProcessAndShareThePoints) {
  const std::string out = temp_dir() + "/two";
  const MpiResult r = run_mpi("sweep " + kExperiment + " --out " + quote(out));
  ASSERT_EQ(r.rank_exit, std::vector<int>(kRanks, 0)) << r.err;
  EXPECT_EQ(r.mpirun_exit, 0);
  const std::string csv = slurp(out + "/results.csv");
  ASSERT_FALSE(csv.empty());
  EXPECT_EQ(csv, one_process_results());
  // Rank 0 alone prints.
  EXPECT_EQ(count(r.err, "hetmap sweep: quickstart (4 points)"), 1u) << r.err;
  EXPECT_NE(r.err.find("over 2 MPI ranks"), std::string::npos) << r.err;
  EXPECT_EQ(count(r.out, "4 points: 4 run, 0 already done, 0 failed"), 1u) << r.out;
  // Every point ran once, and both ranks ran some (round-robin: 0, 1, 0, 1).
  std::set<int> ranks;
  for (const char* id : {"000", "001", "002", "003"}) {
    const std::string f = out + "/points/" + id + "/summary.json";
    ASSERT_TRUE(fs::exists(f)) << f;
    ASSERT_TRUE(fs::exists(out + "/points/" + id + "/front.csv")) << id;
    const Json s = Json::parse(detail::read_file(f));
    EXPECT_EQ(s["status"], "ok") << id;
    ranks.insert(s["rank"].get<int>());
  }
  EXPECT_EQ(ranks, (std::set<int>{0, 1}));
  EXPECT_TRUE(fs::exists(out + "/experiment.yaml"));
}

TEST_F(SweepMpi, ResumeAcrossRanksRerunsOnlyTheMissingPoint) {
  const std::string out = temp_dir() + "/resume";
  const MpiResult first = run_mpi("sweep " + kExperiment + " --out " + quote(out));
  ASSERT_EQ(first.rank_exit, std::vector<int>(kRanks, 0)) << first.err;
  ASSERT_TRUE(fs::remove(out + "/points/002/summary.json"));
  std::vector<std::string> kept;
  std::vector<fs::file_time_type> times;
  for (const char* id : {"000", "001", "003"}) {
    const std::string f = out + "/points/" + id + "/summary.json";
    kept.push_back(slurp(f));
    times.push_back(fs::last_write_time(f));
  }
  const MpiResult again = run_mpi("sweep " + kExperiment + " --out " + quote(out) + " --resume");
  ASSERT_EQ(again.rank_exit, std::vector<int>(kRanks, 0)) << again.err;
  EXPECT_EQ(count(again.out, "4 points: 1 run, 3 already done, 0 failed"), 1u) << again.out;
  int k = 0;
  for (const char* id : {"000", "001", "003"}) {
    const std::string f = out + "/points/" + id + "/summary.json";
    EXPECT_EQ(slurp(f), kept[k]) << id;
    EXPECT_EQ(fs::last_write_time(f), times[k]) << id << " was rerun";
    ++k;
  }
  EXPECT_TRUE(fs::exists(out + "/points/002/summary.json"));
  EXPECT_EQ(slurp(out + "/results.csv"), one_process_results());
}

TEST_F(SweepMpi, APointFailingOnOneRankGivesExitCode1OnEveryRank) {
  const std::string out = temp_dir() + "/failing";
  const MpiResult first = run_mpi("sweep " + kExperiment + " --out " + quote(out));
  ASSERT_EQ(first.rank_exit, std::vector<int>(kRanks, 0)) << first.err;
  // Points 000 and 001 to redo: rank 0 gets 000, rank 1 gets 001, which cannot write its front
  // (a folder sits where front.csv goes).
  ASSERT_TRUE(fs::remove(out + "/points/000/summary.json"));
  ASSERT_TRUE(fs::remove(out + "/points/001/summary.json"));
  ASSERT_TRUE(fs::remove(out + "/points/001/front.csv"));
  fs::create_directories(out + "/points/001/front.csv/blocker");
  const MpiResult r = run_mpi("sweep " + kExperiment + " --out " + quote(out) + " --resume");
  EXPECT_EQ(r.rank_exit, std::vector<int>(kRanks, 1)) << r.err;
  EXPECT_EQ(count(r.out, "4 points: 2 run, 2 already done, 1 failed"), 1u) << r.out;
  const Json s = Json::parse(detail::read_file(out + "/points/001/summary.json"));
  EXPECT_EQ(s["rank"], 1);
  EXPECT_EQ(s["status"].get<std::string>().rfind("error: ", 0), 0u) << s.dump();
  const sweep::ResultsTable t = sweep::load_results_csv(out + "/results.csv");
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_EQ(t.rows[1].values, (std::vector<std::string>{"sequential", "2.0"}));
  EXPECT_EQ(t.rows[1].task, "explore");
  EXPECT_EQ(t.rows[1].status.rfind("error: ", 0), 0u) << t.rows[1].status;
}

TEST_F(SweepMpi, BadExperimentExits2OnEveryRankAndReportsOnce) {
  const std::string dir = temp_dir();
  const std::string exp = write_file(
      dir, "bad.yaml",
      "name: bad\nmodel: " + source_path("models/tiny-ee.yaml") +
          "\nplatform: " + source_path("profiles/example/platform.yaml") +
          "\nprofile: " + source_path("profiles/example/tiny-ee.csv") +
          "\ntask: explore\ngrid:\n  contention: [1.0, abc]\n");
  const std::string out = dir + "/out";
  const MpiResult r = run_mpi("sweep " + quote(exp) + " --out " + quote(out));
  EXPECT_EQ(r.rank_exit, std::vector<int>(kRanks, 2)) << r.err;
  EXPECT_EQ(count(r.err, "hetmap: error:"), 1u) << r.err;
  EXPECT_NE(r.err.find("bad.yaml:7: contention"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out)) << "nothing is written for a bad experiment";
}

TEST_F(SweepMpi, ChangedExperimentOnResumeIsRefusedOnEveryRank) {
  // Rank 0 alone checks the folder; the others must still exit 2, silently.
  const std::string out = temp_dir() + "/changed";
  write_file(out, "experiment.yaml", "name: something else\n");
  const MpiResult r = run_mpi("sweep " + kExperiment + " --out " + quote(out) + " --resume");
  EXPECT_EQ(r.rank_exit, std::vector<int>(kRanks, 2)) << r.err;
  EXPECT_EQ(count(r.err, "hetmap: error:"), 1u) << r.err;
  EXPECT_NE(r.err.find("the experiment changed"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out + "/points"));
}

// The ranks of one mpirun are one run: rank 0 holds the folder for all of them (another run's
// sweep into it is refused on every rank, reported once), and leaves no lock file once done.
TEST_F(SweepMpi, AFolderHeldByAnotherRunIsRefusedOnEveryRank) {
  const std::string out = temp_dir() + "/held";
  const MpiResult first = run_mpi("sweep " + kExperiment + " --out " + quote(out));
  ASSERT_EQ(first.rank_exit, std::vector<int>(kRanks, 0)) << first.err;
  EXPECT_FALSE(fs::exists(out + "/" + detail::kLockFileName));
  const std::string results = slurp(out + "/results.csv");
  {
    const detail::FolderLock held(out, "--out");
    const MpiResult r = run_mpi("sweep " + kExperiment + " --out " + quote(out));
    EXPECT_EQ(r.rank_exit, std::vector<int>(kRanks, 2)) << r.err;
    EXPECT_EQ(count(r.err, "hetmap: error:"), 1u) << r.err;
    EXPECT_NE(r.err.find("hetmap: error: " + out + ": in use by another hetmap run (pid " +
                         std::to_string(::getpid()) + ")"),
              std::string::npos)
        << r.err;
  }
  EXPECT_EQ(slurp(out + "/results.csv"), results);
  EXPECT_TRUE(fs::exists(out + "/points/000/summary.json")) << "the refused run deleted the points";
}

// What a point's run would refuse (here an exhaustive space over its limit) is found by every
// rank before rank 0 prepares the folder; a damaged checkpoint to resume, by rank 0 before it
// writes (tests/test_sweep_validation.cpp has the one-process cases).
TEST_F(SweepMpi, ABadPointOrCheckpointExits2OnEveryRankBeforeAnythingIsWritten) {
  const std::string dir = temp_dir();
  const std::string head = "name: v\nmodel: " + source_path("models/tiny-ee.yaml") +
                           "\nplatform: " + source_path("profiles/example/platform.yaml") +
                           "\nprofile: " + source_path("profiles/example/tiny-ee.csv") +
                           "\ntask: explore\nsearch: {generations: 1, population: 4}\n"
                           "grid:\n  search.seed: [1, 2]\n";
  const std::string bad = write_file(dir, "bad.yaml", head + "  search.exhaustive: [false, true]\n");
  const std::string out = dir + "/out";
  MpiResult r = run_mpi("sweep " + quote(bad) + " --out " + quote(out));
  EXPECT_EQ(r.rank_exit, std::vector<int>(kRanks, 2)) << r.err;
  EXPECT_EQ(count(r.err, "hetmap: error:"), 1u) << r.err;
  EXPECT_NE(r.err.find("point 001 (search.seed=1, search.exhaustive=true): the design space"),
            std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));

  const std::string good = write_file(dir, "good.yaml", head);
  ASSERT_EQ(run_hetmap("sweep " + quote(good) + " --out " + quote(out)).exit_code, 0);
  fs::remove(out + "/points/001/summary.json");
  write_file(out + "/points/001", "checkpoint.json", "{\"format\": ");
  const std::string record = slurp(out + "/experiment.yaml");
  const auto stamp = fs::last_write_time(out + "/experiment.yaml");
  r = run_mpi("sweep " + quote(good) + " --out " + quote(out) + " --resume");
  EXPECT_EQ(r.rank_exit, std::vector<int>(kRanks, 2)) << r.err;
  EXPECT_EQ(count(r.err, "hetmap: error:"), 1u) << r.err;
  EXPECT_NE(r.err.find("point 001 (search.seed=2): " + out + "/points/001/checkpoint.json: not a "
                       "readable JSON document"),
            std::string::npos) << r.err;
  EXPECT_EQ(slurp(out + "/experiment.yaml"), record);
  EXPECT_EQ(fs::last_write_time(out + "/experiment.yaml"), stamp) << "rank 0 wrote nothing";
  EXPECT_TRUE(fs::exists(out + "/points/000/front.csv"));
}

}  // namespace
}  // namespace hetmap
