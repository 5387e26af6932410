// Writers beside readers (docs/design.md, "Output files"): every format hetmap reads is written
// by the module that reads it, and what it writes reads back equal (names with commas, quotes,
// '#' and blanks included); and detail::OutputSet writes a command's files all or none.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/backend/validate.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/dse/export.hpp"
#include "hetmap/error.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/profile.hpp"
#include "hetmap/sweep/results.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using test::slurp;
using test::source_path;
using test::temp_dir;
using test::write_file;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Names a CSV or YAML writer must keep as they are.
const std::string kComma = "big, fast", kQuote = "say \"hi\"", kHash = "#1", kBlank = " padded ";

// Equal, or both NaN.
bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// The text of a file without its `#` comment lines (what the writers put before the data).
std::string without_comments(const std::string& text) {
  std::string out, line;
  std::istringstream in(text);
  while (std::getline(in, line))
    if (line.rfind('#', 0) != 0) out += line + "\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Platform YAML

Platform odd_platform() {
  Platform pf;
  pf.name = "pf: " + kQuote;
  Processor a;
  a.name = kComma;
  a.kind = ProcKind::cpu;
  a.cores = 4;
  a.freqs_mhz = {408, 1008.5, 1800};
  a.active_w = {0.1, 1.0 / 3.0, 2.25};  // one per level
  a.idle_w = 0.05;
  a.has_power = true;
  Processor b;
  b.name = kQuote;
  b.kind = ProcKind::gpu;
  b.freqs_mhz = {200, 800};
  b.active_w = {2.4, 2.4};  // the same at every level: one number
  b.idle_w = 1e-5;
  b.has_power = true;
  Processor c;
  c.name = kHash;
  c.kind = ProcKind::npu;
  c.active_w = {0.0};
  c.idle_w = 0.2;  // idle power without active power
  pf.processors = {a, b, c};
  pf.host = 1;
  Link l;
  l.a = 0;
  l.b = 2;
  l.latency_ms = 0.0173195;
  l.gbytes_per_s = 21.5;
  pf.links = {l};
  pf.contention = 1.25;
  pf.source = "measured \"here\",\nover two lines";
  return pf;
}

void expect_same_platform(const Platform& a, const Platform& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.host, b.host);
  ASSERT_EQ(a.processors.size(), b.processors.size());
  for (std::size_t i = 0; i < a.processors.size(); ++i) {
    const Processor &p = a.processors[i], &q = b.processors[i];
    EXPECT_EQ(p.name, q.name);
    EXPECT_EQ(p.kind, q.kind);
    EXPECT_EQ(p.cores, q.cores);
    EXPECT_EQ(p.freqs_mhz, q.freqs_mhz);
    EXPECT_EQ(p.active_w, q.active_w);
    EXPECT_EQ(p.idle_w, q.idle_w);
    EXPECT_EQ(p.has_power, q.has_power);
  }
  ASSERT_EQ(a.links.size(), b.links.size());
  for (std::size_t i = 0; i < a.links.size(); ++i) {
    EXPECT_EQ(a.links[i].a, b.links[i].a);
    EXPECT_EQ(a.links[i].b, b.links[i].b);
    EXPECT_EQ(a.links[i].latency_ms, b.links[i].latency_ms);
    EXPECT_EQ(a.links[i].gbytes_per_s, b.links[i].gbytes_per_s);
  }
  EXPECT_EQ(a.contention, b.contention);
  EXPECT_EQ(a.source, b.source);
}

TEST(PlatformWriter, RoundTrips) {
  const Platform pf = odd_platform();
  const std::string yaml = to_yaml(pf, {"a comment", "two\nlines"});
  EXPECT_EQ(yaml.rfind("# a comment\n# two lines\nname: ", 0), 0u) << yaml;
  expect_same_platform(parse_platform(yaml, "rt.yaml"), pf);
  // What it reads, it writes back the same.
  const Platform shipped = load_platform(source_path("profiles/example/platform.yaml"));
  expect_same_platform(parse_platform(to_yaml(shipped), "rt.yaml"), shipped);
}

// The profiler's platform.yaml, as committed, is what the writer writes (its comments aside).
TEST(PlatformWriter, WritesTheProfilersFormat) {
  const std::string path = source_path("profiles/x86-h100/platform.yaml");
  EXPECT_EQ(to_yaml(load_platform(path)), without_comments(slurp(path)));
}

// ---------------------------------------------------------------------------------------------
// Profile and transfers CSV

struct OddProblem {
  Platform platform = odd_platform();
  Model model = parse_model("name: m\ninput: [16]\nlayers:\n"
                            "  - {name: \"" + kComma + "\", op: opaque, out: [16]}\n"
                            "  - {name: \"say \\\"hi\\\"\", op: opaque, out: [16]}\n"
                            "  - {name: \"" + kHash + "\", op: opaque, out: [16]}\n"
                            "  - {name: \"" + kBlank + "\", op: opaque, out: [16]}\n",
                            "m.yaml");
};

void expect_same_rows(const Profile& a, const Profile& b) {
  ASSERT_EQ(a.rows().size(), b.rows().size());
  for (std::size_t i = 0; i < a.rows().size(); ++i) {
    const ProfileRow &r = a.rows()[i], &s = b.rows()[i];
    EXPECT_EQ(r.layer, s.layer) << i;
    EXPECT_EQ(r.proc, s.proc) << i;
    EXPECT_EQ(r.freq_mhz, s.freq_mhz) << i;
    EXPECT_EQ(r.default_freq, s.default_freq) << i;
    EXPECT_EQ(r.threads, s.threads) << i;
    EXPECT_EQ(r.mean_ms, s.mean_ms) << i;
    EXPECT_EQ(r.std_ms, s.std_ms) << i;
    EXPECT_EQ(r.p99_ms, s.p99_ms) << i;
    EXPECT_EQ(r.samples, s.samples) << i;
  }
}

TEST(ProfileWriter, RoundTripsNamesAndExactNumbers) {
  const OddProblem o;
  ASSERT_EQ(o.model.layers[1].name, kQuote);
  Profile p = Profile::empty(o.model, o.platform);
  p.source = "unit test, \"quoted\"\nand a second line";
  auto row = [](int layer, int proc, double f, bool dflt, int threads, double mean, double sd,
                double p99, int n) {
    ProfileRow r;
    r.layer = layer;
    r.proc = proc;
    r.freq_mhz = f;
    r.default_freq = dflt;
    r.threads = threads;
    r.mean_ms = mean;
    r.std_ms = sd;
    r.p99_ms = p99;
    r.samples = n;
    return r;
  };
  p.add(row(0, 0, 1800, true, 4, 1.0 / 3.0, 0.1, 0.5, 10));  // the default level, empty
  p.add(row(0, 0, 1800, false, 2, 2.0, 0.0, 0.0, 0));        // the same level, written out
  p.add(row(1, 0, 1008.5, false, 4, 1e-7, 1e-9, 2e-7, 3));
  p.add(row(2, 1, 800, true, 1, 12345678.9, 0, 0, 0));
  p.add(row(3, 2, 0, true, 1, 0.0, 0, 0, 0));  // a processor without levels
  const std::string csv = to_csv(p, o.model, o.platform, {"a note, with a comma"});
  const Profile q = parse_profile(csv, "rt.csv", o.model, o.platform);
  EXPECT_EQ(q.source, "unit test, \"quoted\" and a second line");
  expect_same_rows(q, p);
  EXPECT_TRUE(q.has_rows(0, 0));
  EXPECT_EQ(q.rows_of(0, 0).size(), 2u);
  EXPECT_FALSE(q.has_rows(0, 1));
  EXPECT_NE(csv.find("\n# a note, with a comma\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n\"big, fast\",\"big, fast\",,,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n\"#1\",\"say \"\"hi\"\"\",,,12345678.9,,,\n"), std::string::npos) << csv;
  EXPECT_EQ(to_csv(q, o.model, o.platform, {"a note, with a comma"}), csv);
}

TEST(ProfileWriter, TransfersRoundTrip) {
  const OddProblem o;
  Transfers t;
  t.source = "copied, \"exactly\"";
  t.rows = {{-1, 0, 1, 0.1, 0}, {3, 2, 0, 1.0 / 7.0, 0}, {1, 1, 2, 0.0, 0}};
  const std::string csv = to_csv(t, o.model, o.platform);
  const Transfers u = parse_transfers(csv, "rt.transfers.csv", o.model, o.platform);
  EXPECT_EQ(u.source, t.source);
  ASSERT_EQ(u.rows.size(), t.rows.size());
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    EXPECT_EQ(u.rows[i].layer, t.rows[i].layer);
    EXPECT_EQ(u.rows[i].from, t.rows[i].from);
    EXPECT_EQ(u.rows[i].to, t.rows[i].to);
    EXPECT_EQ(u.rows[i].mean_ms, t.rows[i].mean_ms);
  }
  EXPECT_EQ(csv.substr(csv.find("\ninput,")),
            "\ninput,\"big, fast\",\"say \"\"hi\"\"\",0.1\n"
            "\" padded \",\"#1\",\"big, fast\",0.14285714285714285\n"
            "\"say \"\"hi\"\"\",\"say \"\"hi\"\"\",\"#1\",0\n");
}

// The committed profiles written by `hetmap profile` and `hetmap estimate` are what the writers
// write from what the readers read.
TEST(ProfileWriter, WritesTheCommittedProfilesByteForByte) {
  int checked = 0;
  for (const std::string& dir : {std::string("profiles/x86-h100"), std::string("profiles/rock-pi-n10")}) {
    const Platform pf = load_platform(source_path(dir + "/platform.yaml"));
    for (const auto& entry : fs::directory_iterator(source_path(dir))) {
      const std::string path = entry.path().string();
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() != ".csv" || name.find(".transfers.") != std::string::npos) continue;
      const std::string text = slurp(path);
      const bool generated = text.rfind("# source: measured with hetmap profile", 0) == 0 ||
                             text.rfind("# source: hetmap estimate", 0) == 0;
      if (!generated) continue;  // converted from published data by a script
      SCOPED_TRACE(path);
      const std::string model_name = name.substr(0, name.find('.'));
      const Model m = load_model(source_path("models/" + model_name + ".yaml"));
      const Profile p = load_profile(path, m, pf);
      EXPECT_EQ(to_csv(p, m, pf), text);
      ++checked;
      if (const auto tr = transfers_path_for(path); tr && name.find(".device.") == std::string::npos) {
        EXPECT_EQ(to_csv(load_transfers(*tr, m, pf), m, pf), slurp(*tr));
      }
    }
  }
  EXPECT_GE(checked, 8);  // x86-h100: 3 profiles and their device times; rock-pi-n10: 2 estimates
}

// ---------------------------------------------------------------------------------------------
// Mapping YAML

TEST(MappingWriter, RoundTrips) {
  Mapping m;
  m.model = "m: " + kQuote;
  m.platform = kComma;
  m.policy = Policy::parallel;
  m.default_proc = kHash;
  m.assign[kComma] = {kQuote, 0};
  m.assign[kBlank] = {kHash, 0};
  m.exits["exit, 1"] = {false, 0};
  m.freq_mhz[kComma] = {1008.5, 0};
  m.threads[kQuote] = {3, 0};
  m.thresholds["exit, 1"] = {1.0 / 3.0, 0};
  const Mapping r = parse_mapping(to_yaml(m), "rt.yaml");
  EXPECT_EQ(r.model, m.model);
  EXPECT_EQ(r.platform, m.platform);
  EXPECT_EQ(r.policy, m.policy);
  EXPECT_EQ(r.default_proc, m.default_proc);
  auto values = [](const auto& entries) {
    std::map<std::string, std::decay_t<decltype(entries.begin()->second.value)>> v;
    for (const auto& [k, e] : entries) v[k] = e.value;
    return v;
  };
  EXPECT_EQ(values(r.assign), values(m.assign));
  EXPECT_EQ(values(r.exits), values(m.exits));
  EXPECT_EQ(values(r.freq_mhz), values(m.freq_mhz));
  EXPECT_EQ(values(r.threads), values(m.threads));
  EXPECT_EQ(values(r.thresholds), values(m.thresholds));
}

// ---------------------------------------------------------------------------------------------
// front.csv, results.csv, validation.csv

TEST(FrontWriter, RoundTrips) {
  dse::FrontTable f;
  f.objectives = {"mean_latency", "energy"};
  f.rows = {{0, {1.0 / 3.0, 9.146868991999998}, "mappings/0.yaml"},
            {1, {1e-300, kNaN}, "mappings/a, \"b\".yaml"}};
  const std::string csv = dse::front_csv(f);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "id,mean_latency,energy,mapping");
  const dse::FrontTable g = dse::parse_front_csv(csv, "front.csv");
  EXPECT_EQ(g.objectives, f.objectives);
  ASSERT_EQ(g.rows.size(), f.rows.size());
  for (std::size_t i = 0; i < f.rows.size(); ++i) {
    EXPECT_EQ(g.rows[i].id, f.rows[i].id);
    EXPECT_EQ(g.rows[i].mapping, f.rows[i].mapping);
    ASSERT_EQ(g.rows[i].values.size(), 2u);
    for (std::size_t k = 0; k < 2; ++k) EXPECT_TRUE(same(g.rows[i].values[k], f.rows[i].values[k]));
  }
  EXPECT_THROW(dse::parse_front_csv("mapping,id\nx,1\n", "front.csv"), InputError);
}

TEST(ResultsWriter, RoundTrips) {
  sweep::ResultsTable t;
  t.keys = {"case", "search.objectives"};
  sweep::PointResult a;
  a.id = 0;
  a.values = {kComma, "mean_latency,energy"};
  a.task = "explore";
  a.status = "ok";
  a.best_mean_latency_ms = 1.0 / 3.0;
  a.best_worst_latency_ms = 2.5;
  a.best_energy_mj = 9.146868991999998;
  a.hypervolume = 0.0;
  a.front_size = 7;
  a.improvement_objective = "mean_latency";
  a.improvement_pct = -12.5;
  a.dir = "points/000";
  sweep::PointResult b;
  b.id = 1;
  b.values = {kQuote, kHash};
  b.task = "simulate";
  b.status = "error: file \"x\", line 2";
  b.dir = "points/001";
  t.rows = {a, b};
  const std::string csv = sweep::results_csv(t);
  const sweep::ResultsTable u = sweep::parse_results_csv(csv, "results.csv");
  EXPECT_EQ(u.keys, t.keys);
  ASSERT_EQ(u.rows.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const sweep::PointResult &r = u.rows[i], &s = t.rows[i];
    EXPECT_EQ(r.id, s.id);
    EXPECT_EQ(r.values, s.values);
    EXPECT_EQ(r.task, s.task);
    EXPECT_EQ(r.status, s.status);
    EXPECT_TRUE(same(r.best_mean_latency_ms, s.best_mean_latency_ms));
    EXPECT_TRUE(same(r.best_worst_latency_ms, s.best_worst_latency_ms));
    EXPECT_TRUE(same(r.best_energy_mj, s.best_energy_mj));
    EXPECT_TRUE(same(r.hypervolume, s.hypervolume));
    EXPECT_EQ(r.front_size, s.front_size);
    EXPECT_EQ(r.improvement_objective, s.improvement_objective);
    EXPECT_TRUE(same(r.improvement_pct, s.improvement_pct));
    EXPECT_EQ(r.dir, s.dir);
    EXPECT_EQ(sweep::result_cells(r), sweep::result_cells(s));
  }
  EXPECT_EQ(sweep::results_csv(u), csv);
}

TEST(ValidationWriter, RoundTripsToTheDigitsWritten) {
  backend::ValidationReport rep;
  rep.variant_names = {"no_transfers", "no_contention"};
  backend::ValidationRow a;
  a.mapping = "m, \"1\".yaml";
  a.predicted_mean_ms = 1.5;
  a.measured_mean_ms = 1.25;
  a.predicted_p99_ms = 2.125;
  a.measured_p99_ms = 3.0;
  a.error_pct = 20.0;
  a.predicted_energy_mj = 12.5;
  a.measured_energy_mj = 13.75;
  a.energy_scope = kComma + ";coarse";
  a.predicted_worst_ms = 1.75;
  a.measured_worst_ms = 1.5;
  a.predicted_max_ms = 4.0;
  a.measured_max_ms = 5.5;
  a.variant_mean_ms = {1.4, 1.5};
  backend::ValidationRow b = a;
  b.mapping = kHash;
  b.predicted_energy_mj = b.measured_energy_mj = kNaN;
  b.energy_scope = "";
  b.error_pct = -3.125;
  rep.rows = {a, b};
  const std::string csv = backend::validation_csv(rep, "source: unit test");
  const backend::ValidationTable t = backend::parse_validation_csv(csv, "validation.csv");
  EXPECT_EQ(t.source, "unit test");
  EXPECT_EQ(t.variant_names, rep.variant_names);
  ASSERT_EQ(t.rows.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const backend::ValidationRow &r = t.rows[i], &s = rep.rows[i];
    EXPECT_EQ(r.mapping, s.mapping);
    EXPECT_EQ(r.predicted_mean_ms, s.predicted_mean_ms);
    EXPECT_EQ(r.measured_mean_ms, s.measured_mean_ms);
    EXPECT_EQ(r.predicted_p99_ms, s.predicted_p99_ms);
    EXPECT_EQ(r.measured_p99_ms, s.measured_p99_ms);
    EXPECT_EQ(r.error_pct, s.error_pct);
    EXPECT_TRUE(same(r.predicted_energy_mj, s.predicted_energy_mj));
    EXPECT_TRUE(same(r.measured_energy_mj, s.measured_energy_mj));
    EXPECT_EQ(r.energy_scope, s.energy_scope);
    EXPECT_EQ(r.predicted_worst_ms, s.predicted_worst_ms);
    EXPECT_EQ(r.measured_worst_ms, s.measured_worst_ms);
    EXPECT_EQ(r.predicted_max_ms, s.predicted_max_ms);
    EXPECT_EQ(r.measured_max_ms, s.measured_max_ms);
    EXPECT_EQ(r.variant_mean_ms, s.variant_mean_ms);
  }
  // The committed validations load, the oldest without the max columns.
  for (const char* m : {"alexnet", "ee-mobilenetv1", "resnet50"}) {
    const auto v = backend::load_validation_csv(
        source_path(std::string("docs/data/x86-h100/") + m + ".validation.csv"));
    EXPECT_FALSE(v.rows.empty()) << m;
    EXPECT_NE(v.source.find("hetmap validate --backend cuda"), std::string::npos) << m;
  }
}

// ---------------------------------------------------------------------------------------------
// detail::OutputSet: all or none

// Every file of a folder, by name, with its text (and any leftover temporary or kept file).
std::map<std::string, std::string> folder(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = slurp(e.path().string());
  return files;
}

TEST(OutputSet, CommitsEveryFileAndRemovesTheMarkedOnes) {
  const std::string dir = temp_dir();
  write_file(dir, "a.txt", "old a");
  write_file(dir, "stale.txt", "stale");
  detail::OutputSet out;
  out.write(dir + "/a.txt", "new a");
  out.write(dir + "/sub/b.txt", "b");   // its folder is created
  out.write(dir + "/c.txt", "first");
  out.write(dir + "/./c.txt", "second");  // the same file: the later text wins
  out.remove(dir + "/stale.txt");
  out.remove(dir + "/absent.txt");        // nothing to remove: fine
  EXPECT_EQ(slurp(dir + "/a.txt"), "old a") << "nothing changes before commit()";
  out.commit();
  EXPECT_EQ(folder(dir), (std::map<std::string, std::string>{
                             {"a.txt", "new a"}, {"sub/b.txt", "b"}, {"c.txt", "second"}}));
}

TEST(OutputSet, WithoutCommitNothingChanges) {
  const std::string dir = temp_dir();
  write_file(dir, "a.txt", "old a");
  {
    detail::OutputSet out;
    out.write(dir + "/a.txt", "new a");
    out.write(dir + "/b.txt", "b");
    out.remove(dir + "/a.txt");
  }
  EXPECT_EQ(folder(dir), (std::map<std::string, std::string>{{"a.txt", "old a"}}));
}

// A target that is a folder: an InputError naming it (exit 2), every other file as it was.
TEST(OutputSet, AFolderAsTargetChangesNothing) {
  const std::string dir = temp_dir();
  write_file(dir, "a.txt", "old a");
  fs::create_directories(dir + "/b.txt");
  detail::OutputSet out;
  out.write(dir + "/a.txt", "new a");
  try {
    out.write(dir + "/b.txt", "b");
    FAIL() << "a folder was accepted as a file";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/b.txt: is a folder, expected a file");
    EXPECT_EQ(e.exit_code(), kBadInput);
  }
  out.discard();
  EXPECT_EQ(folder(dir), (std::map<std::string, std::string>{{"a.txt", "old a"}}));

  // Turned into a folder after it was staged: commit() refuses before changing anything.
  detail::OutputSet late;
  late.write(dir + "/a.txt", "new a");
  late.write(dir + "/c.txt", "c");
  fs::create_directories(dir + "/c.txt");
  EXPECT_THROW(late.commit(), InputError);
  EXPECT_EQ(folder(dir), (std::map<std::string, std::string>{{"a.txt", "old a"}}));
  EXPECT_EQ(late.size(), 0u);
}

// A rename that fails midway: the files already replaced get their previous version back, a
// removed file comes back, a new one goes.
TEST(OutputSet, AFailureDuringTheRenamesPutsEveryFileBack) {
  const std::string dir = temp_dir();
  write_file(dir, "a.txt", "old a");
  write_file(dir, "stale.txt", "stale");
  detail::OutputSet out;
  out.write(dir + "/a.txt", "new a");
  out.remove(dir + "/stale.txt");
  out.write(dir + "/new.txt", "new");
  out.write(dir + "/z.txt", "z");
  // z.txt's staged text disappears: its rename, the last, fails.
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("z.txt.tmp.", 0) == 0) fs::remove(e.path());
  try {
    out.commit();
    FAIL() << "the commit succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("z.txt: cannot rename into place"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), kOtherError);
  }
  EXPECT_EQ(folder(dir), (std::map<std::string, std::string>{{"a.txt", "old a"}, {"stale.txt", "stale"}}));
}

TEST(OutputSet, WriteFileAtomicReplacesOneFile) {
  const std::string dir = temp_dir();
  write_file(dir, "a.txt", "old a");
  detail::write_file_atomic(dir + "/a.txt", "new a");
  EXPECT_EQ(folder(dir), (std::map<std::string, std::string>{{"a.txt", "new a"}}));
  EXPECT_THROW(detail::write_file_atomic(dir, "x"), InputError);
}

}  // namespace
}  // namespace hetmap
