// Output folders and files under failure (docs/design.md, "Output files"): one run at a time per
// output folder (a second is refused with exit 2 and changes nothing; a killed run's folder is
// free again at once), every write failure says which file, what failed and why, and a failed
// run leaves every existing file as it was, with no temporary file left behind.
//
// Write failures are made with RLIMIT_FSIZE (`ulimit -f`): a write past the limit fails with
// EFBIG ("File too large") whoever the user is, root in CI included, where a read-only folder
// would not stop anything. SIGXFSZ, which would kill the process first, is ignored.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "fixtures.hpp"
#include "hetmap/detail/folder_lock.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/error.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using test::quote;
using test::run_hetmap;
using test::slurp;
using test::temp_dir;
using test::write_file;

const std::string kInputs =
    "-m models/tiny-ee.yaml -p profiles/example/platform.yaml --profile profiles/example/tiny-ee.csv";

// Every file under `dir` (relative path -> content), hidden ones included.
std::map<std::string, std::string> files_in(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = slurp(e.path().string());
  return files;
}

// The names of the files under `dir` that a write left behind (NAME.tmp.* / NAME.old.*).
std::string leftovers(const std::string& dir) {
  std::string found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp.") != std::string::npos || name.find(".old.") != std::string::npos)
      found += e.path().string() + " ";
  }
  return found;
}

// `hetmap ARGS` with files limited to `kib` KiB (ulimit -f counts 512-byte blocks in dash,
// KiB in bash: 2 * kib blocks is at least `kib` KiB either way, at most twice that). Its
// stdout and stderr go through pipes, which the limit does not cover, so its messages get out.
test::RunResult run_limited(const std::string& args, int kib) {
  const std::string dir = temp_dir();
  const std::string cmd = "cd " + quote(HETMAP_SOURCE_DIR) + " && { (trap '' XFSZ; ulimit -f " +
                          std::to_string(2 * kib) + "; " + quote(HETMAP_BINARY) + " " + args +
                          " </dev/null; echo $? >" + quote(dir + "/rc") + ") 2>&3 | cat >" +
                          quote(dir + "/stdout") + "; } 3>&1 | cat >" + quote(dir + "/stderr");
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  test::RunResult r;
  const std::string rc = slurp(dir + "/rc");
  r.exit_code = rc.empty() ? -1 : std::stoi(rc);
  r.out = slurp(dir + "/stdout");
  r.err = slurp(dir + "/stderr");
  return r;
}

std::string explore_args(const std::string& out, const std::string& extra = "",
                         const std::string& size = "--generations 3 --population 8") {
  return "explore " + kInputs + " " + size + " --out " + quote(out) + " " + extra;
}

// The last line of `text`.
std::string last_line(const std::string& text) {
  const std::size_t end = text.size() - (!text.empty() && text.back() == '\n');
  const std::size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
  return text.substr(start == std::string::npos ? 0 : start + 1);
}

// A small sweep experiment (two simulate points) written into `dir`.
std::string simulate_experiment(const std::string& dir) {
  return write_file(dir, "exp.yaml",
                    "name: two\nmodel: " + test::source_path("models/tiny-ee.yaml") +
                        "\nplatform: " + test::source_path("profiles/example/platform.yaml") +
                        "\nprofile: " + test::source_path("profiles/example/tiny-ee.csv") +
                        "\ntask: simulate\nmapping: " + test::source_path("examples/tiny-ee-parallel.yaml") +
                        "\nsimulate: {inputs: 20}\ngrid:\n  simulate.seed: [1, 2]\n");
}

std::string in_use(const std::string& dir, const std::string& option = "--out") {
  return "hetmap: error: " + dir + ": in use by another hetmap run (pid " + std::to_string(::getpid()) +
         "); wait for it to end or choose another " + option + "\n";
}

// ---- One run at a time per output folder ----

TEST(FolderLock, ASecondLockIsRefusedUntilTheFirstEnds) {
  const std::string dir = temp_dir() + "/new/out";
  {
    const detail::FolderLock first(dir, "--out");
    EXPECT_TRUE(fs::is_directory(dir));
    EXPECT_EQ(slurp(first.file()), std::to_string(::getpid()) + "\n");
    try {
      detail::FolderLock second(dir, "--out");
      FAIL() << "a second lock on " << dir << " was granted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.exit_code(), kBadInput);
      EXPECT_EQ("hetmap: error: " + std::string(e.what()) + "\n", in_use(dir));
    }
  }
  // Released: the lock file goes, and so do the folders the lock created, being empty.
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(fs::exists(fs::path(dir).parent_path()));

  // An existing folder stays, with its files; a stale lock file (a killed run's) is taken over.
  const std::string kept = temp_dir();
  write_file(kept, "data.csv", "x\n");
  write_file(kept, detail::kLockFileName, "999999\n");
  { const detail::FolderLock again(kept, "--out"); }
  EXPECT_EQ(files_in(kept), (std::map<std::string, std::string>{{"data.csv", "x\n"}}));
}

TEST(FolderLock, AFolderThatCannotBeCreatedSaysWhy) {
  const std::string dir = temp_dir();
  write_file(dir, "file", "x");
  try {
    detail::FolderLock lock(dir + "/file/out", "--out");
    FAIL() << "locked a folder under a file";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kOtherError);
    EXPECT_EQ(std::string(e.what()), dir + "/file/out: --out: cannot create the folder: Not a directory");
  }
}

// Every verb that writes into a folder is refused while another run holds it, before it changes
// anything (a fresh sweep would otherwise delete the points the first has finished), and runs
// once the folder is free.
TEST(FolderLock, EveryFolderWritingVerbIsRefusedWhileTheFolderIsHeld) {
  const std::string dir = temp_dir();
  const std::string exp = simulate_experiment(dir);
  const std::string swept = dir + "/swept", explored = dir + "/explored";
  ASSERT_EQ(run_hetmap("sweep " + quote(exp) + " --out " + quote(swept)).exit_code, 0);
  ASSERT_EQ(run_hetmap(explore_args(explored)).exit_code, 0);
  // A finished run leaves its outputs only: no lock file.
  EXPECT_FALSE(fs::exists(swept + "/" + detail::kLockFileName));
  EXPECT_FALSE(fs::exists(explored + "/" + detail::kLockFileName));
  const auto swept_files = files_in(swept), explored_files = files_in(explored);

  {
    const detail::FolderLock held(swept, "--out");
    for (const char* resume : {"", " --resume"}) {
      const auto r = run_hetmap("sweep " + quote(exp) + " --out " + quote(swept) + resume);
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_EQ(r.err, in_use(swept));
    }
    const auto r = run_hetmap("plot " + quote(swept));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, in_use(swept, "folder"));
  }
  {
    const detail::FolderLock held(explored, "--out");
    auto r = run_hetmap(explore_args(explored, "--seed 7"));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, in_use(explored));
    r = run_hetmap("profile -m models/tiny-ee.yaml --quick --out " + quote(explored));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, in_use(explored));
    r = run_hetmap("validate -m models/tiny-ee.yaml --profile " + quote(dir) + " --random 2 --out " +
                   quote(explored));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, in_use(explored));
  }
  // Refused runs changed nothing (the test's lock file is gone with the test's lock).
  EXPECT_EQ(files_in(swept), swept_files);
  EXPECT_EQ(files_in(explored), explored_files);

  // Free again: the same runs work.
  auto r = run_hetmap("sweep " + quote(exp) + " --out " + quote(swept));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_hetmap(explore_args(explored, "--seed 7"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(explored + "/" + detail::kLockFileName));
}

// A run killed with SIGKILL cannot clean up: the kernel drops its lock, so the folder is free at
// once (to --resume, or to start again) and the next run takes the lock file over.
TEST(FolderLock, AKilledRunsFolderIsFreeAtOnce) {
  const std::string dir = temp_dir() + "/out";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (::chdir(HETMAP_SOURCE_DIR) != 0) ::_exit(126);
    ::execl(HETMAP_BINARY, "hetmap", "explore", "-m", "models/tiny-ee.yaml", "-p",
            "profiles/example/platform.yaml", "--profile", "profiles/example/tiny-ee.csv",
            "--generations", "1000000", "--population", "8", "--out", dir.c_str(), (char*)nullptr);
    ::_exit(127);
  }
  // Wait until the explore holds the folder (its id in the lock file).
  const std::string lock_file = dir + "/" + detail::kLockFileName;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (slurp(lock_file) != std::to_string(child) + "\n" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(slurp(lock_file), std::to_string(child) + "\n");

  auto r = run_hetmap(explore_args(dir));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "hetmap: error: " + dir + ": in use by another hetmap run (pid " + std::to_string(child) +
                       "); wait for it to end or choose another --out\n");

  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(fs::exists(lock_file));  // the killed run's, unlocked
  r = run_hetmap(explore_args(dir));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir + "/front.csv"));
  EXPECT_FALSE(fs::exists(lock_file));
}

// A run that fails before writing anything into a folder it created leaves no folder behind.
TEST(FolderLock, AFailedRunLeavesNoNewFolder) {
  const std::string dir = temp_dir() + "/a/b";
  const auto r = run_hetmap("explore -m models/tiny-ee.yaml -p profiles/example/platform.yaml "
                            "--profile /nonexistent.csv --out " + quote(dir));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(fs::path(dir).parent_path()));
}

// ---- Write failures say why ----

TEST(WriteFailures, NameTheFileTheOperationAndTheReason) {
  const std::string dir = temp_dir();
  write_file(dir, "file", "x");
  // A folder that cannot be created: a file in the way (ENOTDIR, root or not).
  try {
    detail::write_file_atomic(dir + "/file/sub/a.txt", "a");
    FAIL() << "wrote under a file";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kOtherError);
    EXPECT_EQ(std::string(e.what()), dir + "/file/sub: cannot create the folder: Not a directory");
  }
  EXPECT_THROW(detail::create_folder(dir + "/file/sub"), Error);
}

// A file the disk has no room for (here a file size limit: EFBIG) names the file, the temporary
// file, the operation and the reason; nothing is left behind.
TEST(WriteFailures, AWriteThatFailsSaysWhy) {
  const std::string dir = temp_dir();
  const std::string json = dir + "/result.json";
  const auto r = run_limited("simulate " + kInputs + " --mapping examples/tiny-ee-parallel.yaml --inputs 200 "
                             "--chrome-trace " + quote(dir + "/trace.json") + " --json " + quote(json), 4);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::string prefix = "hetmap: error: " + dir + "/trace.json: cannot write " + dir + "/trace.json.tmp.";
  EXPECT_EQ(r.err.substr(0, prefix.size()), prefix) << r.err;
  EXPECT_NE(r.err.find(": File too large\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // one line
  EXPECT_EQ(files_in(dir), (std::map<std::string, std::string>{}));
}

// A result printed to a full disk is an error, not a silent success.
TEST(WriteFailures, StandardOutputOnAFullDiskIsAnError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const std::string dir = temp_dir();
  const std::string cmd = "cd " + quote(HETMAP_SOURCE_DIR) + " && " + quote(HETMAP_BINARY) + " simulate " +
                          kInputs + " --mapping examples/tiny-ee-parallel.yaml --json - >/dev/full 2>" +
                          quote(dir + "/err");
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_EQ(slurp(dir + "/err"), "hetmap: error: standard output: write failed: No space left on device\n");
}

// ---- A failed run leaves every existing file as it was ----

TEST(FailedRuns, SimulateKeepsAnExistingChromeTrace) {
  const std::string dir = temp_dir();
  const std::string trace = write_file(dir, "trace.json", "the previous trace\n");
  const std::string json = write_file(dir, "result.json", "the previous result\n");
  const std::string outputs = " --chrome-trace " + quote(trace) + " --json " + quote(json);
  // A mapping that does not resolve (exit 2).
  const std::string bad_mapping = write_file(dir, "bad.yaml", "model: tiny-ee\nplatform: example\ndefault: nowhere\n");
  auto r = run_hetmap("simulate " + kInputs + " --mapping " + quote(bad_mapping) + outputs);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // A profile whose durations would add up beyond any double (refused at load, docs/formats.md
  // "Numbers and quantities").
  const std::string model = write_file(dir, "m.yaml", "name: m\ninput: [4]\nlayers:\n  - {name: a, op: relu}\n"
                                                      "  - {name: b, op: relu}\n");
  const std::string platform = write_file(dir, "p.yaml", "name: p\nhost: cpu\nprocessors:\n"
                                                         "  - {name: cpu, kind: cpu}\nsource: test\n");
  const std::string profile = write_file(dir, "prof.csv", "layer,processor,mean_ms\na,cpu,1e308\nb,cpu,1e308\n");
  const std::string mapping = write_file(dir, "map.yaml", "model: m\nplatform: p\ndefault: cpu\n");
  r = run_hetmap("simulate -m " + quote(model) + " -p " + quote(platform) + " --profile " + quote(profile) +
                 " --mapping " + quote(mapping) + " --inputs 3" + outputs);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("prof.csv:2: column 'mean_ms': expected 0..1e+12 ms"), std::string::npos) << r.err;
  // A --json that cannot be written (a file in the way of its folder): refused before the run.
  write_file(dir, "file", "x");
  r = run_hetmap("simulate " + kInputs + " --mapping examples/tiny-ee-parallel.yaml --chrome-trace " +
                 quote(trace) + " --json " + quote(dir + "/file/result.json"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // Files too big to write: found at output time, after the whole simulation.
  r = run_limited("simulate " + kInputs + " --mapping examples/tiny-ee-parallel.yaml --inputs 300 --chrome-trace " +
                      quote(trace) + " --json " + quote(json),
                  4);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;

  EXPECT_EQ(slurp(trace), "the previous trace\n");
  EXPECT_EQ(slurp(json), "the previous result\n");
  EXPECT_EQ(leftovers(dir), "");
}

// An exploration that fails once the search is done (its outputs, or its final checkpoint,
// cannot be written) leaves the previous run's folder as it was.
TEST(FailedRuns, ExploreKeepsThePreviousRunsFolder) {
  const std::string dir = temp_dir() + "/out";
  ASSERT_EQ(run_hetmap(explore_args(dir)).exit_code, 0);
  const auto before = files_in(dir);
  ASSERT_TRUE(before.count("front.json") && before.count("checkpoint.json") && before.count("mappings/0.yaml"));

  // Too big to write: the checkpoint, then the outputs (with the checkpoint elsewhere).
  auto r = run_limited(explore_args(dir, "--seed 5"), 4);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  const std::string elsewhere = temp_dir() + "/checkpoint.json";
  r = run_limited(explore_args(dir, "--seed 5 --checkpoint " + quote(elsewhere), "--generations 1 --population 4"), 4);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  // A target that is a folder, found when the mappings are already staged.
  fs::remove(dir + "/front.json");
  fs::create_directories(dir + "/front.json");
  auto expected = before;
  expected.erase("front.json");
  r = run_hetmap(explore_args(dir, "--seed 5 --checkpoint " + quote(elsewhere)));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(last_line(r.err), "hetmap: error: " + dir + "/front.json: is a folder, expected a file\n");

  EXPECT_EQ(files_in(dir), expected);
  EXPECT_EQ(leftovers(dir), "");
}

// A fresh sweep whose record cannot be written keeps the previous run's points (they used to be
// deleted first); a resumed point that cannot write its files keeps its previous ones.
TEST(FailedRuns, SweepKeepsThePreviousRunsPoints) {
  const std::string dir = temp_dir();
  const std::string exp = simulate_experiment(dir);
  const std::string out = dir + "/out";
  ASSERT_EQ(run_hetmap("sweep " + quote(exp) + " --out " + quote(out)).exit_code, 0);
  auto before = files_in(out);
  ASSERT_EQ(before.count("results.csv"), 1u);

  fs::remove(out + "/experiment.yaml");
  fs::create_directories(out + "/experiment.yaml");
  before.erase("experiment.yaml");
  auto r = run_hetmap("sweep " + quote(exp) + " --out " + quote(out));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.substr(r.err.find("\n") + 1),
            "hetmap: error: " + out + "/experiment.yaml: is a folder, expected a file\n");
  EXPECT_EQ(files_in(out), before);
  EXPECT_EQ(leftovers(out), "");
}

// A resumed point whose files cannot be written keeps its previous ones; its summary says why.
TEST(FailedRuns, AResumedSweepPointThatCannotWriteKeepsItsFiles) {
  const std::string dir = temp_dir();
  const std::string exp = simulate_experiment(dir);
  const std::string out = dir + "/out";
  ASSERT_EQ(run_hetmap("sweep " + quote(exp) + " --out " + quote(out)).exit_code, 0);
  // The second point to redo: its summary is gone, its other files stay.
  std::string point;
  for (const auto& e : fs::directory_iterator(out + "/points")) point = std::max(point, e.path().string());
  ASSERT_TRUE(fs::exists(point + "/trace.json"));
  fs::remove(point + "/summary.json");
  auto before = files_in(point);

  const auto r = run_limited("sweep " + quote(exp) + " --out " + quote(out) + " --resume", 4);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto after = files_in(point);
  const std::string summary = after["summary.json"];
  EXPECT_NE(summary.find("\"status\": \"error: " + point + "/trace.json: cannot write"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("File too large"), std::string::npos) << summary;
  after.erase("summary.json");
  EXPECT_EQ(after, before);
  EXPECT_EQ(leftovers(out), "");
}

// profile: the measurements are done, the files cannot be written: the folder keeps the
// previous profile.
TEST(FailedRuns, ProfileKeepsThePreviousProfile) {
  const std::string dir = temp_dir() + "/prof";
  const std::string args = "profile -m models/tiny-ee.yaml --quick --no-power --no-contention --out " + quote(dir);
  auto r = run_hetmap(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto before = files_in(dir);
  r = run_limited(args + " --seed 3", 1);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  EXPECT_EQ(files_in(dir), before);
  EXPECT_EQ(leftovers(dir), "");
}

}  // namespace
}  // namespace hetmap
