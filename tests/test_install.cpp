// `cmake --install`: the installed hetmap (PREFIX/bin/hetmap) finds its plot scripts in
// PREFIX/share/hetmap/plots, relative to itself, and runs from any folder: no source path is
// compiled into it.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "fixtures.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;

int sh(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Install, TheInstalledBinaryPlotsWithTheScriptsInstalledBesideIt) {
  const std::string prefix = test::temp_dir() + "/prefix";
  const std::string log = test::temp_dir() + "/install.log";
  ASSERT_EQ(sh(test::quote(HETMAP_CMAKE) + " --install " + test::quote(HETMAP_BUILD_DIR) +
               " --prefix " + test::quote(prefix) + " >" + test::quote(log) + " 2>&1"),
            0)
      << test::slurp(log);
  const std::string bin = prefix + "/bin/hetmap";
  ASSERT_TRUE(fs::exists(bin));
  ASSERT_TRUE(fs::exists(prefix + "/share/hetmap/plots/plot_dir.py"));
  // The internals' headers (hetmap/detail/, docs/design.md "Targets") are never installed.
  EXPECT_FALSE(fs::exists(prefix + "/include/hetmap/detail"));

  // From a folder outside the source tree, with the inputs given by absolute paths.
  const std::string work = test::temp_dir();
  const std::string src = test::source_path("");
  const std::string run = "cd " + test::quote(work) + " && env -u HETMAP_PLOTS " + test::quote(bin);
  ASSERT_EQ(sh(run + " explore -m " + test::quote(src + "models/tiny-ee.yaml") + " -p " +
               test::quote(src + "profiles/example/platform.yaml") + " --profile " +
               test::quote(src + "profiles/example/tiny-ee.csv") +
               " --generations 2 --population 8 --out ex >/dev/null 2>&1"),
            0);
  ASSERT_EQ(sh(run + " plot ex >" + test::quote(work + "/plot.log") + " 2>&1"), 0)
      << test::slurp(work + "/plot.log");
  EXPECT_GT(fs::file_size(work + "/ex/pareto.png"), 1000u);
}

}  // namespace
}  // namespace hetmap
