// The layer-time estimator (hetmap/estimate.hpp) and `hetmap estimate`: fits recover known
// coefficients, stay non-negative, cross-validate exactly on exact data, and the CLI writes a
// profile that says which rows are measured and which estimated, or fails with exit code 2.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "fixtures.hpp"
#include "hetmap/estimate.hpp"

namespace hetmap::test {
namespace {

std::vector<TimeSample> synthetic(const TimeModel& truth, int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> ops(1, 12), gmacs(0.001, 0.8), mbytes(0.05, 150);
  std::vector<TimeSample> out;
  for (int i = 0; i < n; ++i) {
    TimeSample s;
    s.work = {std::round(ops(rng)), gmacs(rng), mbytes(rng)};
    s.ms = truth.predict(s.work);
    out.push_back(s);
  }
  return out;
}

TEST(EstimateFit, RecoversKnownCoefficients) {
  TimeModel truth;
  truth.coef = {1.25, 0.3, 102.0, 0.19};  // ms, ms/op, ms/GMAC, ms/MB
  const TimeModel fit = fit_time_model(synthetic(truth, 60, 1), kAllTerms);
  for (int k = 0; k < kTimeTerms; ++k) EXPECT_NEAR(fit.coef[k], truth.coef[k], 1e-9 * (1 + truth.coef[k])) << k;
  const ErrorStats e = errors(fit, synthetic(truth, 20, 2));
  EXPECT_EQ(e.n, 20);
  EXPECT_LT(e.max_ape, 1e-9);
}

TEST(EstimateFit, OnlyTheChosenTermsAndNeverNegative) {
  TimeModel truth;
  truth.coef = {0.0, 0.0, 40.0, 0.0};
  const TimeModel mac_only = fit_time_model(synthetic(truth, 10, 3), kMacTerm);
  EXPECT_NEAR(mac_only.coef[2], 40.0, 1e-9);
  EXPECT_EQ(mac_only.coef[0], 0.0);
  EXPECT_EQ(mac_only.coef[1], 0.0);
  EXPECT_EQ(mac_only.coef[3], 0.0);

  // Times that fall with the bytes moved: an unconstrained fit would give the byte term a
  // negative coefficient; NNLS drops it and fits the rest.
  std::vector<TimeSample> s;
  for (int i = 1; i <= 8; ++i) s.push_back({{1, 0.1 * i, 10.0 * (9 - i)}, 5.0 + 20.0 * 0.1 * i - 0.01 * 10.0 * (9 - i)});
  const TimeModel fit = fit_time_model(s, kOverheadTerm | kMacTerm | kByteTerm);
  for (double c : fit.coef) EXPECT_GE(c, 0.0);
  EXPECT_EQ(fit.coef[3], 0.0);
  EXPECT_LT(errors(fit, s).mape, 10.0);
}

TEST(EstimateFit, Terms) {
  EXPECT_EQ(parse_terms("overhead,op,mac,byte", "t"), kAllTerms);
  EXPECT_EQ(parse_terms("mac", "t"), kMacTerm);
  EXPECT_EQ(terms_string(kOverheadTerm | kByteTerm), "overhead,byte");
  EXPECT_THROW(parse_terms("mac,flops", "t"), InputError);
  EXPECT_THROW(parse_terms("", "t"), InputError);
}

// --- the CLI on a synthetic platform whose layer times follow a known model exactly.

const char* kPlatform = R"(name: synth
host: big
processors:
  - {name: big, kind: cpu, cores: 2, freqs_mhz: [1000, 2000]}
  - {name: gpu, kind: gpu}
links:
  - {between: [big, gpu], latency_ms: 0.5, gbytes_per_s: 1.0}
)";

std::string chain_model(const std::string& name, const std::vector<int>& filters, int hw) {
  std::string s = "name: " + name + "\ninput: [3, " + std::to_string(hw) + ", " +
                  std::to_string(hw) + "]\nlayers:\n";
  for (std::size_t i = 0; i < filters.size(); ++i)
    s += "  - {name: c" + std::to_string(i) + ", op: conv, filters: " + std::to_string(filters[i]) +
         ", kernel: " + std::to_string(i % 2 ? 1 : 3) + ", pad: " + std::to_string(i % 2 ? 0 : 1) +
         ", stride: " + std::to_string(i == 2 ? 2 : 1) + "}\n";
  return s;
}

const char* kTarget = R"(name: target
input: [3, 40, 40]
layers:
  - {name: c0, op: conv, filters: 24, kernel: 3, pad: 1}
  - {name: c1, op: conv, filters: 48, kernel: 3, stride: 2, pad: 1}
  - {name: c2, op: conv, filters: 48, kernel: 1}
exits:
  - name: exit1
    after: c0
    layers:
      - name: e1_branch
        op: block
        body:
          - {name: conv, op: conv, filters: 32, kernel: 3, stride: 2, pad: 1}
          - {name: relu, op: relu}
          - {name: pool, op: avgpool, global: true}
          - {name: fc, op: fc, units: 10}
    taken: 0.5
)";

// Coefficients (overhead ms, -, ms/GMAC, ms/MB) per operating point of the synthetic board.
TimeModel truth(const std::string& point) {
  TimeModel t;
  if (point == "big@2000") t.coef = {0.4, 0, 90.0, 0.2};
  if (point == "big@1000") t.coef = {0.8, 0, 180.0, 0.25};
  if (point == "gpu") t.coef = {1.5, 0, 30.0, 0.1};
  return t;
}

std::string exact_profile(const Model& m) {
  std::string csv = "# source: synthetic, exact\nlayer,processor,freq_mhz,threads,mean_ms\n";
  for (int l = 0; l < static_cast<int>(m.layers.size()); ++l) {
    const LayerWork w = layer_work(m, l);
    const std::string n = m.layers[l].name;
    csv += n + ",big,2000,," + std::to_string(truth("big@2000").predict(w)) + "\n";
    csv += n + ",big,1000,," + std::to_string(truth("big@1000").predict(w)) + "\n";
    csv += n + ",gpu,,," + std::to_string(truth("gpu").predict(w)) + "\n";
  }
  return csv;
}

struct Files {
  std::string dir, platform, target, cal_a, cal_b, measured;
};

Files write_inputs() {
  Files f;
  f.dir = temp_dir();
  f.platform = write_file(f.dir, "platform.yaml", kPlatform);
  const Platform pf = parse_platform(kPlatform, "platform.yaml");
  const std::string a = chain_model("cal-a", {16, 32, 64, 64, 128, 32}, 32);
  const std::string b = chain_model("cal-b", {8, 96, 48, 200, 24, 64, 16}, 48);
  write_file(f.dir, "cal-a.yaml", a);
  write_file(f.dir, "cal-b.yaml", b);
  write_file(f.dir, "cal-a.csv", exact_profile(parse_model(a, "cal-a.yaml")));
  write_file(f.dir, "cal-b.csv", exact_profile(parse_model(b, "cal-b.yaml")));
  f.cal_a = f.dir + "/cal-a.yaml:" + f.dir + "/cal-a.csv";
  f.cal_b = f.dir + "/cal-b.yaml:" + f.dir + "/cal-b.csv";
  f.target = write_file(f.dir, "target.yaml", kTarget);
  // The backbone of the target was measured (made-up times, std and samples); the branch not.
  f.measured = write_file(f.dir, "measured.csv",
                          "# source: bench\nlayer,processor,freq_mhz,threads,mean_ms,std_ms,p99_ms,samples\n"
                          "c0,big,2000,,3.5,0.1,3.9,50\nc1,big,2000,,2.2512345678,,,\nc2,big,2000,,1.125,,,\n"
                          "c0,gpu,,,4.5,,,\nc1,gpu,,,3.5,,,\nc2,gpu,,,2.5,,,\n");
  write_file(f.dir, "measured.transfers.csv",
             "# source: bench copies\nlayer,from,to,mean_ms\nc0,big,gpu,0.75\ninput,big,gpu,0\n");
  return f;
}

TEST(EstimateCli, MeasuredRowsCopiedTheRestEstimated) {
  const Files f = write_inputs();
  const std::string out = f.dir + "/out/target.csv";
  const RunResult r = run_hetmap("estimate -m " + quote(f.target) + " -p " + quote(f.platform) +
                                 " --calibrate " + quote(f.cal_a) + " --calibrate " +
                                 quote(f.cal_b) + " --measured " + quote(f.dir + "/measured.csv") +
                                 " -o " + quote(out) + " --cross-validate");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("leave-one-network-out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("6 measured rows copied, 3 rows estimated"), std::string::npos) << r.out;

  const Platform pf = parse_platform(kPlatform, "platform.yaml");
  const Model target = parse_model(kTarget, "target.yaml");
  const Profile p = load_profile(out, target, pf);
  // The source line names the measured and the estimated rows and where they come from.
  EXPECT_NE(p.source.find("MEASURED rows: c0, c1, c2 on big, gpu (copied from " + f.dir +
                          "/measured.csv, whose source: bench)"),
            std::string::npos)
      << p.source;
  EXPECT_NE(p.source.find("ESTIMATED rows"), std::string::npos) << p.source;
  EXPECT_NE(p.source.find("e1_branch on big, gpu"), std::string::npos) << p.source;
  EXPECT_NE(p.source.find("cal-a (" + f.dir + "/cal-a.csv)"), std::string::npos) << p.source;
  EXPECT_NE(p.source.find("leave-one-network-out MAPE per processor: big 0.0%"), std::string::npos)
      << p.source;

  const int big = pf.find("big"), gpu = pf.find("gpu");
  const int c0 = target.find_layer("c0"), e1 = target.find_layer("e1_branch");
  // Measured: exactly as given, every column; no estimate added at another frequency.
  ASSERT_EQ(p.rows_of(c0, big).size(), 1u);
  const ProfileRow m = p.rows_of(c0, big)[0];
  EXPECT_EQ(m.mean_ms, 3.5);
  EXPECT_EQ(m.std_ms, 0.1);
  EXPECT_EQ(m.samples, 50);
  const int c1 = target.find_layer("c1");
  EXPECT_EQ(p.rows_of(c1, big)[0].mean_ms, 2.2512345678);  // copied exactly
  // Estimated: the known model, at every fitted operating point.
  const LayerWork w = layer_work(target, e1);
  ASSERT_EQ(p.rows_of(e1, big).size(), 2u);
  EXPECT_NEAR(p.lookup(e1, big, 2000, 2)->mean_ms, truth("big@2000").predict(w), 1e-4);
  EXPECT_NEAR(p.lookup(e1, big, 1000, 2)->mean_ms, truth("big@1000").predict(w), 1e-4);
  EXPECT_NEAR(p.lookup(e1, gpu, 0, 1)->mean_ms, truth("gpu").predict(w), 1e-4);

  // The measured copies travel with the profile.
  const std::string transfers = slurp(f.dir + "/out/target.transfers.csv");
  EXPECT_NE(transfers.find("c0,big,gpu,0.75\n"), std::string::npos) << transfers;
  EXPECT_NE(transfers.find("bench copies"), std::string::npos) << transfers;
}

TEST(EstimateCli, ProcessorsRestrictTheEstimates) {
  const Files f = write_inputs();
  const std::string out = f.dir + "/gpu-only.csv";
  const RunResult r = run_hetmap("estimate -m " + quote(f.target) + " -p " + quote(f.platform) +
                                 " --calibrate " + quote(f.cal_a) + " --processors gpu -o " +
                                 quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string csv = slurp(out);
  EXPECT_EQ(csv.find(",big,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("e1_branch,gpu,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("c0,gpu,"), std::string::npos) << csv;  // no --measured: all estimated
}

TEST(EstimateCli, BadInputExitsTwoAndWritesNothing) {
  const Files f = write_inputs();
  const std::string out = f.dir + "/never.csv";
  const std::string base = "estimate -m " + quote(f.target) + " -p " + quote(f.platform) + " -o " +
                           quote(out) + " ";
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"--calibrate " + quote(f.dir + "/cal-a.yaml"), "--calibrate: expected MODEL.yaml:PROFILE.csv"},
      {"--calibrate " + quote(f.dir + "/cal-a.yaml:" + f.dir + "/missing.csv"), "missing.csv"},
      {"--calibrate " + quote(f.cal_a) + " --terms mac,flops", "unknown term 'flops'"},
      {"--calibrate " + quote(f.cal_a) + " --processors npu", "unknown processor 'npu'"},
      {"--calibrate " + quote(f.cal_a) + " --min-samples 1000", "no operating point"},
      // A measured profile must name the target's layers exactly.
      {"--calibrate " + quote(f.cal_a) + " --measured " + quote(f.dir + "/cal-b.csv"),
       "unknown layer 'c3'"},
  };
  for (const Case& c : cases) {
    const RunResult r = run_hetmap(base + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find("hetmap: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(slurp(out).empty()) << c.args;
  }
  EXPECT_EQ(run_hetmap(base).exit_code, 2);  // --calibrate is required
}

TEST(EstimateCrossValidation, ExactDataHasNoError) {
  const Files f = write_inputs();
  const Platform pf = load_platform(f.platform);
  const std::vector<CalibrationSet> sets = {load_calibration(f.cal_a, pf), load_calibration(f.cal_b, pf)};
  const CrossValidation cv = cross_validate(sets, pf, kOverheadTerm | kMacTerm | kByteTerm, 4);
  ASSERT_EQ(cv.networks, (std::vector<std::string>{"cal-a", "cal-b"}));
  EXPECT_EQ(cv.overall.n, 3 * (6 + 7));
  EXPECT_LT(cv.overall.max_ape, 1e-3);  // the profiles round times to 6 decimals
  const std::vector<PointFit> fits = fit_points(sets, kOverheadTerm | kMacTerm | kByteTerm, 4);
  ASSERT_EQ(fits.size(), 3u);
  EXPECT_EQ(to_string(fits[0].point, pf), "big@1000MHz");
  EXPECT_EQ(fits[0].networks, (std::vector<std::string>{"cal-a", "cal-b"}));
  EXPECT_NEAR(fits[0].model.coef[2], 180.0, 1e-3);
}

}  // namespace
}  // namespace hetmap::test
