// The profiler and validation: statistics and the link fit on synthetic data, Kendall's tau-b
// and MAPE on hand examples, `hetmap profile` files that load back and drive `simulate`, and
// `hetmap validate --random 3` end to end on the reference backend (structure, not accuracy:
// CI machines are noisy).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/profiler.hpp"
#include "hetmap/backend/validate.hpp"
#include "hetmap/error.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/profile.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using backend::fit_link;
using backend::kendall_tau_b;
using backend::mape;
using test::run_hetmap;
using test::source_path;
using test::temp_dir;

using test::slurp;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep = ',') {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(s);
  while (std::getline(in, cell, sep)) out.push_back(cell);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

std::string fmt_mape(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%%", v);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Statistics

TEST(ProfilerStats, StudentQuantiles) {
  EXPECT_NEAR(backend::t_quantile_975(1), 12.706, 1e-3);
  EXPECT_NEAR(backend::t_quantile_975(10), 2.228, 1e-3);
  EXPECT_NEAR(backend::t_quantile_975(30), 2.042, 1e-3);
  EXPECT_NEAR(backend::t_quantile_975(40), 2.021, 1e-3);   // expansion beyond the table
  EXPECT_NEAR(backend::t_quantile_975(120), 1.980, 1e-3);
  EXPECT_NEAR(backend::t_quantile_975(100000), 1.960, 1e-3);
}

TEST(ProfilerStats, SummarizeHandExample) {
  const std::vector<double> s = {1, 2, 3, 4, 5};
  const backend::SampleStats st = backend::summarize(s, 0.02);
  EXPECT_EQ(st.samples, 5);
  EXPECT_DOUBLE_EQ(st.mean_ms, 3.0);
  EXPECT_NEAR(st.std_ms, std::sqrt(2.5), 1e-12);
  EXPECT_DOUBLE_EQ(st.p99_ms, 5.0);  // nearest rank: the ceil(0.99 x 5) = 5th smallest
  EXPECT_NEAR(st.ci_half_ms, 2.776 * std::sqrt(2.5) / std::sqrt(5.0), 1e-3);
  EXPECT_FALSE(st.converged);
  EXPECT_TRUE(backend::summarize({10, 10.01, 9.99, 10, 10.02, 9.98}, 0.02).converged);
}

TEST(ProfilerStats, RepeatStopsAtTheCaps) {
  int calls = 0;
  backend::RepeatOptions o;
  o.warmup = 2;
  o.min_reps = 4;
  o.max_reps = 7;
  o.rel_ci = 0.0;  // never converges: the samples below differ, so the CI is never 0
  o.time_cap_ms = 1e9;
  // Timed samples of an empty function can all read the same (clock granularity), which
  // would "converge" with a zero-width interval; feed distinct samples instead.
  EXPECT_EQ(backend::repeat_samples([&] { return 1.0 + (++calls % 2); }, o).size(), 7u);
  EXPECT_EQ(calls, 9);
  o.rel_ci = 1e9;  // converges at once
  EXPECT_EQ(backend::repeat_timed([] {}, o).size(), 4u);
}

// ---------------------------------------------------------------------------------------------
// The link fit

TEST(LinkFit, RecoversKnownLatencyAndBandwidth) {
  for (const auto& [lat, gbps] : std::vector<std::pair<double, double>>{{0.15, 2.0}, {0.002, 40.0}, {1.0, 0.5}}) {
    std::vector<double> bytes, ms;
    for (double b = 4096; b <= 16.0 * 1024 * 1024; b *= 4) {
      bytes.push_back(b);
      ms.push_back(lat + b / (gbps * 1e9) * 1e3);
    }
    const backend::LinkFit f = fit_link(bytes, ms);
    EXPECT_NEAR(f.latency_ms, lat, 1e-9 + 1e-9 * lat);
    EXPECT_NEAR(f.gbytes_per_s, gbps, 1e-6 * gbps);
    EXPECT_LT(f.max_rel_residual, 1e-9);
  }
}

TEST(LinkFit, ToleratesNoiseAndClampsANegativeLatency) {
  // +-3% multiplicative noise, alternating: the fit stays within a few percent.
  std::vector<double> bytes, ms;
  int i = 0;
  for (double b = 4096; b <= 16.0 * 1024 * 1024; b *= 2, ++i) {
    bytes.push_back(b);
    ms.push_back((0.05 + b / (4e9) * 1e3) * (i % 2 ? 1.03 : 0.97));
  }
  const backend::LinkFit f = fit_link(bytes, ms);
  EXPECT_NEAR(f.latency_ms, 0.05, 0.005);
  EXPECT_NEAR(f.gbytes_per_s, 4.0, 0.2);
  // Pure bandwidth with the small copies slightly fast: the intercept would be negative.
  const backend::LinkFit g = fit_link({1e3, 1e6, 1e7}, {0.0009, 1.0, 10.0});
  EXPECT_EQ(g.latency_ms, 0.0);
  EXPECT_NEAR(g.gbytes_per_s, 1.0, 0.05);
  EXPECT_THROW(fit_link({1e3}, {1.0}), std::invalid_argument);
  EXPECT_THROW(fit_link({1e3, 1e3}, {1.0, 1.1}), std::invalid_argument);
  EXPECT_THROW(fit_link({1e3, 1e6}, {2.0, 1.0}), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Accuracy metrics

TEST(Metrics, MapeHandExample) {
  EXPECT_NEAR(mape({110, 90, 100}, {100, 100, 100}), 20.0 / 3, 1e-12);
  EXPECT_NEAR(mape({1.5}, {2.0}), 25.0, 1e-12);
  EXPECT_DOUBLE_EQ(mape({3, 4}, {3, 4}), 0.0);
  EXPECT_THROW(mape({}, {}), std::invalid_argument);
  EXPECT_THROW(mape({1}, {1, 2}), std::invalid_argument);
  EXPECT_THROW(mape({1}, {0}), std::invalid_argument);
}

TEST(Metrics, KendallTauBHandExamples) {
  EXPECT_DOUBLE_EQ(kendall_tau_b({1, 2, 3, 4, 5}, {10, 20, 30, 40, 50}), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_b({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}), -1.0);
  // One swapped pair of six: (5 - 1) / 6.
  EXPECT_NEAR(kendall_tau_b({1, 2, 3, 4}, {1, 3, 2, 4}), 4.0 / 6, 1e-12);
  // Ties: pairs (1,2) tied in x, (1,3) tied in y; 4 concordant, 0 discordant:
  // 4 / sqrt((6 - 1) * (6 - 1)) = 0.8 (tau-a would give 4/6).
  EXPECT_NEAR(kendall_tau_b({1, 2, 2, 3}, {1, 3, 2, 3}), 0.8, 1e-12);
  // A pair tied in both counts in both tie totals: x ties (0,1); y ties (0,1) and (2,3);
  // concordant: (0,2) (0,3) (1,2) (1,3) = 4 -> 4 / sqrt((6 - 1) * (6 - 2)).
  EXPECT_NEAR(kendall_tau_b({1, 1, 2, 3}, {5, 5, 7, 7}), 4.0 / std::sqrt(20.0), 1e-12);
  EXPECT_TRUE(std::isnan(kendall_tau_b({1, 1, 1}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(kendall_tau_b({1}, {1})));
  EXPECT_THROW(kendall_tau_b({1, 2}, {1}), std::invalid_argument);
}

TEST(Metrics, NearestRankP99) {
  std::vector<double> v;
  for (int i = 1; i <= 200; ++i) v.push_back(i);
  EXPECT_DOUBLE_EQ(backend::p99_of(v), 198.0);
  EXPECT_DOUBLE_EQ(backend::p99_of({3, 1, 2}), 3.0);
  EXPECT_DOUBLE_EQ(backend::mean_of({1, 2, 6}), 3.0);
}

// ---------------------------------------------------------------------------------------------
// `hetmap profile`: files that load back and drive `simulate`

// Whether `hetmap profile --backend reference` measures power here (readable RAPL counters).
bool rapl_covers_reference() {
  static const bool covers = [] {
    std::unique_ptr<backend::Backend> be = backend::make_backend("reference");
    return be->power_meters().covers_all(static_cast<int>(be->platform().processors.size()));
  }();
  return covers;
}

struct Profiled {
  std::string dir;
  Platform platform;
};

// One quick profile of tiny-ee shared by the tests below.
const Profiled& profiled() {
  static const Profiled p = [] {
    Profiled r;
    r.dir = temp_dir() + "/prof";
    const auto run = run_hetmap("profile --backend reference -m models/tiny-ee.yaml --quick --out '" +
                                r.dir + "'");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.err.find("conv1"), std::string::npos) << "per-layer progress on stderr";
    EXPECT_NE(run.out.find("wrote"), std::string::npos) << run.out;
    r.platform = load_platform(r.dir + "/platform.yaml");
    return r;
  }();
  return p;
}

TEST(Profile, PlatformLoadsBackWithMeasuredLinksAndSource) {
  const Platform& pf = profiled().platform;
  EXPECT_EQ(pf.name, "host-cpu");
  ASSERT_GE(pf.processors.size(), 1u);
  EXPECT_EQ(pf.processors[pf.host].name, "cpu0");
  // Power where this machine's RAPL counters cover the backend's processors, else none.
  EXPECT_EQ(pf.has_power(), rapl_covers_reference());
  const std::size_t P = pf.processors.size();
  EXPECT_EQ(pf.links.size(), P * (P - 1) / 2);
  for (const Link& l : pf.links) {
    EXPECT_GE(l.latency_ms, 0.0);
    EXPECT_GT(l.gbytes_per_s, 0.0);
  }
  EXPECT_GE(pf.contention, 1.0);
  EXPECT_EQ(pf.source.rfind("measured with hetmap profile --backend reference on reference backend", 0), 0u)
      << pf.source;
  EXPECT_NE(pf.source.find("UTC"), std::string::npos);
}

TEST(Profile, ProfileLoadsBackWithARowPerLayerAndProcessor) {
  const Model model = load_model(source_path("models/tiny-ee.yaml"));
  const std::string csv = profiled().dir + "/tiny-ee.csv";
  const Profile prof = load_profile(csv, model, profiled().platform);
  EXPECT_EQ(prof.rows().size(), model.layers.size() * profiled().platform.processors.size());
  std::set<std::pair<int, int>> cells;
  for (const ProfileRow& r : prof.rows()) {
    cells.insert({r.layer, r.proc});
    EXPECT_GT(r.mean_ms, 0.0);
    EXPECT_GE(r.p99_ms, 0.0);
    EXPECT_GE(r.samples, 3);
  }
  EXPECT_EQ(cells.size(), prof.rows().size());
  EXPECT_NE(prof.source.find("measured with hetmap profile --backend reference"), std::string::npos);
  EXPECT_NE(prof.source.find("cannot set DVFS levels or thread counts"), std::string::npos);
  const std::string tr = profiled().dir + "/tiny-ee.transfers.csv";
  if (profiled().platform.processors.size() > 1) {
    const Transfers t = load_transfers(tr, model, profiled().platform);
    const std::size_t P = profiled().platform.processors.size();
    EXPECT_EQ(t.rows.size(), (model.layers.size() + 1) * P * (P - 1));
  }
}

TEST(Profile, FilesDriveSimulate) {
  const Profiled& p = profiled();
  const bool two = p.platform.processors.size() > 1;
  const std::string mapping = test::write_file(
      temp_dir(), "m.yaml",
      std::string("model: tiny-ee\nplatform: host-cpu\npolicy: parallel\ndefault: cpu0\n") +
          (two ? "assign: {conv2: cpu1, relu2: cpu1, e1_pool: cpu1, e1_fc: cpu1}\n" : ""));
  const auto r = run_hetmap("simulate -m models/tiny-ee.yaml -p '" + p.dir + "/platform.yaml' --profile '" +
                            p.dir + "/tiny-ee.csv' --mapping '" + mapping + "' --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["mean_latency_ms"].get<double>(), 0.0);
  EXPECT_EQ(j["energy_mj"].is_null(), !rapl_covers_reference());  // power data only with RAPL
}

TEST(Profile, UnknownBackendIsBadInputAndWritesNothing) {
  const std::string dir = temp_dir() + "/none";
  const auto r = run_hetmap("profile --backend nosuch -m models/tiny-ee.yaml --quick --out '" + dir + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown backend 'nosuch'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir));
}

// ---------------------------------------------------------------------------------------------
// `hetmap validate`: end to end on the reference backend (structure only)

TEST(Validate, RandomMappingsEndToEnd) {
  const Profiled& p = profiled();
  const std::string out = temp_dir() + "/val";
  const auto r = run_hetmap("validate --backend reference -m models/tiny-ee.yaml --profile '" + p.dir +
                            "' --random 3 --inputs 6 --warmup-inputs 1 --seed 3 --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("MAPE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Kendall tau-b"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("m002.yaml"), std::string::npos) << "per-mapping progress on stderr";

  // validation.csv: a source comment, the exact header, one row per mapping.
  const std::vector<std::string> lines = lines_of(slurp(out + "/validation.csv"));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].rfind("# source: hetmap validate --backend reference", 0), 0u) << lines[0];
  // The fixed columns, then one predicted mean per model term left out (the profile has
  // per-tensor transfers, so at least "no_transfers").
  const std::string fixed =
      "mapping,predicted_mean_ms,measured_mean_ms,predicted_p99_ms,measured_p99_ms,error_pct,"
      "predicted_energy_mj,measured_energy_mj,energy_scope,predicted_worst_ms,measured_worst_ms,"
      "predicted_max_ms,measured_max_ms";
  EXPECT_EQ(lines[1].rfind(fixed, 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find(",predicted_mean_ms_no_transfers"), std::string::npos) << lines[1];
  const std::size_t columns = split(lines[1]).size();
  std::vector<double> pred, meas;
  for (int i = 0; i < 3; ++i) {
    const std::vector<std::string> c = split(lines[2 + i]);
    ASSERT_EQ(c.size(), columns) << lines[2 + i];
    EXPECT_EQ(c[8].empty(), !rapl_covers_reference()) << "energy_scope: " << lines[2 + i];
    // Worst-path latencies at least the means, largest latencies at least those, both sides.
    EXPECT_GE(std::stod(c[9]), std::stod(c[1]) * 0.999) << lines[2 + i];
    EXPECT_GE(std::stod(c[10]), std::stod(c[2]) * 0.999) << lines[2 + i];
    EXPECT_GE(std::stod(c[11]), std::stod(c[9]) * 0.999) << lines[2 + i];
    EXPECT_GE(std::stod(c[12]), std::stod(c[10]) * 0.999) << lines[2 + i];
    for (std::size_t k = 13; k < c.size(); ++k) EXPECT_GT(std::stod(c[k]), 0.0) << lines[2 + i];
    // Energies: both present where RAPL covers the processors (profile and run), else empty.
    EXPECT_EQ(c[6].empty(), !rapl_covers_reference()) << lines[2 + i];
    EXPECT_EQ(c[7].empty(), !rapl_covers_reference()) << lines[2 + i];
    EXPECT_EQ(c[0], "m00" + std::to_string(i) + ".yaml");
    std::vector<double> v;
    for (int k = 1; k < 6; ++k) v.push_back(std::stod(c[k]));
    for (int k = 0; k < 4; ++k) {
      EXPECT_TRUE(std::isfinite(v[k]));
      EXPECT_GT(v[k], 0.0);
    }
    EXPECT_GE(v[3], v[1] * 0.999) << "measured p99 >= measured mean";
    EXPECT_NEAR(v[4], 100.0 * (v[0] - v[1]) / v[1], 0.01 + 1e-3 * std::abs(v[4]));
    pred.push_back(v[0]);
    meas.push_back(v[1]);
    // The random mapping was written and drives `simulate` on the profiled platform.
    const std::string m = out + "/mappings/" + c[0];
    ASSERT_TRUE(fs::exists(m)) << m;
    const auto sim = run_hetmap("simulate -m models/tiny-ee.yaml -p '" + p.dir + "/platform.yaml' --profile '" +
                                p.dir + "/tiny-ee.csv' --mapping '" + m + "' --json -");
    EXPECT_EQ(sim.exit_code, 0) << sim.err;
  }
  // The printed MAPE is the metric of the file's rows.
  const std::string mape_text = fmt_mape(mape(pred, meas));
  EXPECT_NE(r.out.find("MAPE " + mape_text), std::string::npos) << mape_text << "\n" << r.out;
  EXPECT_NE(r.out.find(rapl_covers_reference() ? "energy MAPE " : "energy not compared: "), std::string::npos)
      << r.out;

  // `hetmap plot` draws the predicted-vs-measured scatter.
  const auto plot = run_hetmap("plot '" + out + "'");
  EXPECT_EQ(plot.exit_code, 0) << plot.err;
  EXPECT_TRUE(fs::exists(out + "/validation.png"));
  EXPECT_TRUE(fs::exists(out + "/validation.pdf"));

  // The same folder of mappings, given with --mappings, validates again.
  const std::string out2 = temp_dir() + "/val2";
  const auto r2 = run_hetmap("validate -m models/tiny-ee.yaml --profile '" + p.dir + "' --mappings '" +
                             out + "/mappings' --inputs 2 --warmup-inputs 0 --out '" + out2 + "'");
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(lines_of(slurp(out2 + "/validation.csv")).size(), 5u);
  EXPECT_FALSE(fs::exists(out2 + "/mappings")) << "given mappings are not copied";

  // --mappings and --random together: the folder's first, then new random ones whose names
  // skip the folder's (m000..m002 are taken); only the random ones are written.
  const std::string out3 = temp_dir() + "/val3";
  const auto r3 = run_hetmap("validate -m models/tiny-ee.yaml --profile '" + p.dir + "' --mappings '" + out +
                             "/mappings' --random 2 --seed 3 --inputs 2 --warmup-inputs 0 --out '" + out3 + "'");
  ASSERT_EQ(r3.exit_code, 0) << r3.err;
  const std::vector<std::string> l3 = lines_of(slurp(out3 + "/validation.csv"));
  ASSERT_EQ(l3.size(), 7u);
  std::vector<std::string> names;
  for (std::size_t i = 2; i < l3.size(); ++i) names.push_back(split(l3[i])[0]);
  EXPECT_EQ(names, (std::vector<std::string>{"m000.yaml", "m001.yaml", "m002.yaml", "m003.yaml", "m004.yaml"}));
  EXPECT_FALSE(fs::exists(out3 + "/mappings/m000.yaml"));
  EXPECT_TRUE(fs::exists(out3 + "/mappings/m003.yaml"));
  EXPECT_TRUE(fs::exists(out3 + "/mappings/m004.yaml"));
  // Distinct from the folder's (tiny-ee on two clusters has thousands of mappings).
  for (const char* m : {"m003.yaml", "m004.yaml"})
    for (int i = 0; i < 3; ++i)
      EXPECT_NE(slurp(out3 + "/mappings/" + m), slurp(out + "/mappings/m00" + std::to_string(i) + ".yaml")) << m;
}

// Every file of a folder with its text.
std::map<std::string, std::string> files_in(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = slurp(e.path().string());
  return files;
}

// A file that cannot be written (a folder in its place) fails the run with exit 2 naming it,
// and every file of the previous run stays as it was (docs/design.md, "Output files"): the
// profile's MODEL.csv is not replaced while its platform.yaml stays old.
TEST(Profile, AFailedWriteLeavesThePreviousFilesAsTheyWere) {
  const std::string dir = temp_dir() + "/again";
  fs::copy(profiled().dir, dir, fs::copy_options::recursive);
  fs::remove(dir + "/platform.yaml");
  fs::create_directories(dir + "/platform.yaml");
  test::write_file(dir, "tiny-ee.dvfs.csv", "an earlier sweep\n");  // would be removed on success
  const auto before = files_in(dir);
  const auto r = run_hetmap("profile --backend reference -m models/tiny-ee.yaml --quick --no-power "
                            "--no-contention --out '" + dir + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("platform.yaml: is a folder, expected a file"), std::string::npos) << r.err;
  EXPECT_EQ(files_in(dir), before);
}

TEST(Validate, AFailedWriteWritesNoMapping) {
  const Profiled& p = profiled();
  const std::string out = temp_dir() + "/val";
  fs::create_directories(out + "/validation.csv");
  const auto r = run_hetmap("validate --backend reference -m models/tiny-ee.yaml --profile '" + p.dir +
                            "' --random 2 --inputs 2 --warmup-inputs 0 --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("validation.csv: is a folder, expected a file"), std::string::npos) << r.err;
  EXPECT_TRUE(files_in(out).empty()) << "the drawn mappings are not written without validation.csv";
}

TEST(Validate, BadInvocationsAreBadInputAndWriteNothing) {
  const Profiled& p = profiled();
  const std::string out = temp_dir() + "/bad";
  const std::string base = "validate -m models/tiny-ee.yaml --profile '" + p.dir + "' --out '" + out + "'";
  auto r = run_hetmap(base);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--mappings DIR or --random N"), std::string::npos) << r.err;
  r = run_hetmap(base + " --random 2 --mappings '" + temp_dir() + "'");  // allowed together...
  EXPECT_EQ(r.exit_code, 2) << r.err;  // ... but an empty folder is still bad input
  EXPECT_NE(r.err.find("no mapping files"), std::string::npos) << r.err;
  r = run_hetmap(base + " --mappings '" + temp_dir() + "'");  // an empty folder
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no mapping files"), std::string::npos) << r.err;
  r = run_hetmap("validate -m models/tiny-ee.yaml --profile profiles/example --random 2 --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 2);  // the example platform is not the reference backend's
  EXPECT_NE(r.err.find("does not match backend"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace hetmap

namespace hetmap::backend {
namespace {

// A reference backend whose kernels take long to build (as cuDNN's algorithm search and the
// CUDA backend's warm-up runs do): the layer time caps are for measuring, so every layer still
// gets its samples.
class SlowBuildBackend : public Backend {
 public:
  explicit SlowBuildBackend(std::chrono::milliseconds per_layer)
      : inner_(make_backend("reference", BackendOptions{1})), per_layer_(per_layer) {
    dev_ = std::make_unique<Dev>(inner_->device(0), per_layer_);
  }
  std::string name() const override { return "slow-build"; }
  const Platform& platform() const override { return inner_->platform(); }
  Device& device(int) override { return *dev_; }
  void copy(const Buffer& s, int from, Buffer& d, int to) override { inner_->copy(s, from, d, to); }
  void upload(const float* x, Buffer& d, int p) override { inner_->upload(x, d, p); }
  void download(const Buffer& s, int p, float* x) override { inner_->download(s, p, x); }
  std::string describe() const override { return "slow-build " + inner_->describe(); }

 private:
  struct Dev : Device {
    Dev(Device& d, std::chrono::milliseconds wait) : inner(d), wait(wait) {}
    std::unique_ptr<Kernel> build(const Model& m, int l, std::uint64_t seed) override {
      std::this_thread::sleep_for(wait);
      return inner.build(m, l, seed);
    }
    std::unique_ptr<Buffer> allocate(const Shape& s) override { return inner.allocate(s); }
    void bind_thread() override { inner.bind_thread(); }
    Device& inner;
    std::chrono::milliseconds wait;
  };
  std::unique_ptr<Backend> inner_;
  std::chrono::milliseconds per_layer_;
  std::unique_ptr<Dev> dev_;
};

TEST(Profile, SlowKernelBuildsDoNotEatTheMeasuringBudget) {
  const Model model = load_model(test::source_path("models/tiny-ee.yaml"));
  // Building takes 30 ms per layer, longer than the whole measuring budget of 1 ms per layer.
  SlowBuildBackend be(std::chrono::milliseconds(30));
  ProfileOptions o = ProfileOptions::quick();
  o.layers = {1, 3, 50, 0.05, 1.0};
  o.transfers = o.contention = o.power = false;
  o.link_bytes = {4 << 10, 64 << 10};
  const ProfileResult r = profile(be, model, o);
  EXPECT_TRUE(r.refused.empty()) << r.refused.front();
  ASSERT_EQ(r.layers.size(), model.layers.size());
  for (const LayerMeasurement& m : r.layers) EXPECT_GE(m.stats.samples, 1) << model.layers[m.layer].name;
}

// A reference backend on a busy machine: during its first `stalled` link sweeps, each copy of
// `small` bytes stalls for 2 ms (a preempted hand-off), so those sweeps' times shrink with size.
// A sweep starts where a copy is smaller than the one before (the profiler sweeps sizes upwards).
class StalledCopyBackend : public Backend {
 public:
  StalledCopyBackend(std::size_t small, std::size_t large, int stalled)
      : inner_(make_backend("reference", BackendOptions{2})), small_(small), large_(large), stalled_(stalled) {}
  std::string name() const override { return "stalled-copy"; }
  const Platform& platform() const override { return inner_->platform(); }
  Device& device(int p) override { return inner_->device(p); }
  void copy(const Buffer& s, int from, Buffer& d, int to) override {
    const std::size_t bytes = s.bytes();
    if (bytes == small_ || bytes == large_) {
      bool stall = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (bytes < last_) ++sweep_;
        last_ = bytes;
        stall = bytes == small_ && sweep_ < stalled_;
      }
      if (stall) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    inner_->copy(s, from, d, to);
  }
  void upload(const float* x, Buffer& d, int p) override { inner_->upload(x, d, p); }
  void download(const Buffer& s, int p, float* x) override { inner_->download(s, p, x); }
  std::string describe() const override { return "stalled-copy " + inner_->describe(); }

 private:
  std::unique_ptr<Backend> inner_;
  std::size_t small_, large_;
  int stalled_;
  std::mutex mutex_;
  std::size_t last_ = 0;
  int sweep_ = 0;
};

// Link sizes no layer of tiny-ee has, so only the link sweeps count.
ProfileOptions link_only_profile(std::vector<std::string>& log) {
  ProfileOptions o = ProfileOptions::quick();
  o.layers = {1, 3, 5, 0.5, 20};
  o.transfers = o.contention = o.power = false;
  o.link_bytes = {4000, 400000};
  o.log = [&log](const std::string& line) { log.push_back(line); };
  return o;
}

TEST(Profile, ALinkSweepStalledByABusyMachineIsMeasuredAgain) {
  const Model model = load_model(test::source_path("models/tiny-ee.yaml"));
  StalledCopyBackend be(4000, 400000, 1);
  if (be.platform().processors.size() < 2) GTEST_SKIP() << "needs two CPUs";
  std::vector<std::string> log;
  const ProfileResult r = profile(be, model, link_only_profile(log));
  ASSERT_EQ(r.links.size(), 1u);
  EXPECT_GT(r.links[0].fit.gbytes_per_s, 0.0);
  EXPECT_LT(r.links[0].ms.front(), 2.0) << "the kept sweep is the one measured again";
  int again = 0;
  for (const std::string& line : log)
    again += line.find("copy times do not grow with size; measuring again (2 of 3)") != std::string::npos;
  EXPECT_EQ(again, 1);
}

TEST(Profile, ALinkThatNeverGrowsWithSizeFailsAfterThreeSweeps) {
  const Model model = load_model(test::source_path("models/tiny-ee.yaml"));
  StalledCopyBackend be(4000, 400000, 1000);
  if (be.platform().processors.size() < 2) GTEST_SKIP() << "needs two CPUs";
  std::vector<std::string> log;
  try {
    profile(be, model, link_only_profile(log));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(": copy times do not grow with size in 3 sweeps (is the machine busy?)"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(e.exit_code(), kOtherError);
  }
}

}  // namespace
}  // namespace hetmap::backend
