// End-to-end tests of `hetmap explore` (docs/design.md, "Command line" and "Quality bars"): the files it writes,
// that every exported mapping reproduces its row in `hetmap simulate`, the exhaustive front and
// the search's share of its hypervolume, checkpoint/resume, determinism over seeds and thread
// counts, and the exit code and message of bad input (nothing written on error).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/dse/hypervolume.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_hetmap;
using test::source_path;
using test::temp_dir;
using test::write_file;

const std::string kModel = "models/tiny-ee.yaml";
const std::string kPlatform = "profiles/example/platform.yaml";
const std::string kProfile = "profiles/example/tiny-ee.csv";

using test::quote;

using test::slurp;

std::string inputs(const std::string& platform = kPlatform, const std::string& profile = kProfile) {
  return "-m " + quote(kModel) + " -p " + quote(platform) + " --profile " + quote(profile);
}

test::RunResult explore(const std::string& out, const std::string& extra,
                        const std::string& platform = kPlatform,
                        const std::string& profile = kProfile) {
  return run_hetmap("explore " + inputs(platform, profile) + " --out " + quote(out) + " " + extra);
}

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int column(const std::string& name) const {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  }
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

Csv read_csv(const std::string& path) {
  Csv csv;
  std::istringstream in(slurp(path));
  std::string line;
  if (std::getline(in, line)) csv.header = split(line);
  while (std::getline(in, line)) {
    csv.rows.push_back(split(line));
    EXPECT_EQ(csv.rows.back().size(), csv.header.size()) << path << ": " << line;
  }
  return csv;
}

// The shipped profile without the little cluster's rows: tiny-ee on big and gpu only, a space
// of 2^15 placements x 4 exit states x 2 policies = 262144 points, small enough to enumerate.
std::string big_gpu_profile() {
  std::istringstream in(slurp(source_path(kProfile)));
  std::string csv, line;
  while (std::getline(in, line))
    if (line.find(",little,") == std::string::npos) csv += line + "\n";
  return write_file(temp_dir(), "tiny-ee.csv", csv);
}

// The simulate --json key of an objective column.
const std::map<std::string, std::string> kJsonKey = {{"mean_latency", "mean_latency_ms"},
                                                     {"worst_latency", "worst_latency_ms"},
                                                     {"energy", "energy_mj"},
                                                     {"accuracy", "accuracy"},
                                                     {"throughput", "throughput_ips"}};

bool maximised(const std::string& objective) {
  return objective == "accuracy" || objective == "throughput";
}

// Objective values of every row, minimised (maximised objectives negated).
std::vector<dse::Point> minimised_points(const Csv& csv, const std::vector<std::string>& objectives) {
  std::vector<dse::Point> out;
  for (const auto& row : csv.rows) {
    dse::Point p;
    for (const std::string& o : objectives) {
      const double v = std::stod(row[csv.column(o)]);
      p.push_back(maximised(o) ? -v : v);
    }
    out.push_back(p);
  }
  return out;
}

bool dominates(const dse::Point& a, const dse::Point& b) {
  bool better = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    better = better || a[i] < b[i];
  }
  return better;
}

// Runs `hetmap simulate --json -` on every row's mapping and checks that it reproduces the row
// exactly. Returns the number of rows checked.
int ExpectRowsReproduce(const std::string& dir, const std::string& csv_name,
                        const std::string& platform = kPlatform,
                        const std::string& profile = kProfile) {
  const Csv csv = read_csv(dir + "/" + csv_name);
  const int mapping = csv.column("mapping");
  EXPECT_GE(mapping, 0);
  if (mapping < 0) return 0;
  int checked = 0;
  for (const auto& row : csv.rows) {
    const std::string path = dir + "/" + row[mapping];
    const auto r = run_hetmap("simulate " + inputs(platform, profile) + " --mapping " +
                              quote(path) + " --json -");
    EXPECT_EQ(r.exit_code, 0) << path << ": " << r.err;
    if (r.exit_code != 0) continue;
    const json j = json::parse(r.out);
    for (std::size_t c = 0; c < csv.header.size(); ++c) {
      const auto key = kJsonKey.find(csv.header[c]);
      if (key == kJsonKey.end()) continue;
      const double expected = std::stod(row[c]);
      EXPECT_TRUE(j.at(key->second).is_number()) << path << " " << key->second;
      if (!j.at(key->second).is_number()) continue;
      EXPECT_EQ(j.at(key->second).get<double>(), expected)
          << csv_name << " row " << row[0] << " (" << path << "): " << csv.header[c];
    }
    ++checked;
  }
  return checked;
}

// ---- the files -------------------------------------------------------------------------------

TEST(ExploreCli, WritesFrontCsvJsonBaselinesAndMappings) {
  const std::string out = temp_dir() + "/result";
  const auto r = explore(out, "--generations 20 --population 32 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"front.csv", "front.json", "baselines.csv", "mappings"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;

  // front.csv: id, the objectives (the platform has power: latency and energy by default),
  // mapping; ids 0..n-1, each mapping a file under mappings/.
  const Csv front = read_csv(out + "/front.csv");
  EXPECT_EQ(front.header,
            (std::vector<std::string>{"id", "mean_latency", "worst_latency", "energy", "mapping"}));
  ASSERT_GT(front.rows.size(), 3u);
  std::set<std::string> listed;
  for (std::size_t i = 0; i < front.rows.size(); ++i) {
    EXPECT_EQ(front.rows[i][0], std::to_string(i));
    EXPECT_EQ(front.rows[i][4], "mappings/" + std::to_string(i) + ".yaml");
    EXPECT_TRUE(fs::is_regular_file(out + "/" + front.rows[i][4]));
    listed.insert(front.rows[i][4]);
  }
  // A non-dominated set of distinct points.
  const auto pts = minimised_points(front, {"mean_latency", "worst_latency", "energy"});
  for (std::size_t i = 0; i < pts.size(); ++i)
    for (std::size_t j = 0; j < pts.size(); ++j)
      if (i != j) {
        EXPECT_FALSE(dominates(pts[i], pts[j])) << i << " dominates " << j;
        EXPECT_NE(pts[i], pts[j]);
      }

  // front.json agrees with front.csv.
  const json doc = json::parse(slurp(out + "/front.json"));
  EXPECT_EQ(doc.at("model"), "tiny-ee");
  EXPECT_EQ(doc.at("platform"), "example");
  EXPECT_EQ(doc.at("method"), "nsga2");
  EXPECT_GT(doc.at("hypervolume").get<double>(), 0.0);
  EXPECT_EQ(doc.at("hypervolume_reference").size(), 3u);
  EXPECT_EQ(doc.at("evaluations").get<int>(), 32 + 20 * 32);
  ASSERT_EQ(doc.at("front").size(), front.rows.size());
  for (std::size_t i = 0; i < front.rows.size(); ++i) {
    const json& item = doc.at("front")[i];
    EXPECT_EQ(item.at("mapping"), front.rows[i][4]);
    EXPECT_EQ(item.at("objectives").at("mean_latency").get<double>(), std::stod(front.rows[i][1]));
    EXPECT_EQ(item.at("objectives").at("energy").get<double>(), std::stod(front.rows[i][3]));
    EXPECT_EQ(item.at("metrics").at("mean_latency_ms").get<double>(), std::stod(front.rows[i][1]));
  }
  // The hypervolume in front.json is that of front.csv with its reference point.
  dse::Point ref;
  for (const auto& v : doc.at("hypervolume_reference")) ref.push_back(v.get<double>());
  EXPECT_DOUBLE_EQ(dse::hypervolume(pts, ref), doc.at("hypervolume").get<double>());

  // baselines.csv: the papers' baselines, each with its mapping file.
  const Csv base = read_csv(out + "/baselines.csv");
  EXPECT_EQ(base.header, (std::vector<std::string>{"name", "mean_latency", "worst_latency",
                                                   "energy", "satisfies_constraints", "mapping"}));
  std::set<std::string> names;
  for (const auto& row : base.rows) {
    names.insert(row[0]);
    EXPECT_EQ(row[4], "true");
    EXPECT_TRUE(fs::is_regular_file(out + "/" + row[5])) << row[5];
    listed.insert(row[5]);
  }
  for (const char* n : {"single:big", "single:little", "single:gpu", "best-single",
                        "layer-switched", "ee-coop:big/gpu", "ee-coop:gpu/big",
                        "ee-coop:little/gpu"})
    EXPECT_TRUE(names.count(n)) << n;
  EXPECT_EQ(base.rows.size(), 3u + 1 + 1 + 6);

  // Every row, of the front and of the baselines, is what simulate predicts for its mapping.
  EXPECT_EQ(ExpectRowsReproduce(out, "front.csv"), static_cast<int>(front.rows.size()));
  EXPECT_EQ(ExpectRowsReproduce(out, "baselines.csv"), static_cast<int>(base.rows.size()));

  // mappings/ holds exactly the files the two tables name.
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(out + "/mappings"))
    files.insert("mappings/" + e.path().filename().string());
  EXPECT_EQ(files, listed);

  // A rerun into the same folder with a smaller front leaves no stale mapping behind.
  const auto again = explore(out, "--generations 1 --population 4 --seed 3");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const Csv small = read_csv(out + "/front.csv");
  std::size_t yaml_files = 0;
  for (const auto& e : fs::directory_iterator(out + "/mappings")) yaml_files += e.path().extension() == ".yaml";
  EXPECT_EQ(yaml_files, small.rows.size() + base.rows.size());
}

TEST(ExploreCli, ObjectivesChooseTheColumns) {
  const std::string out = temp_dir();
  const auto r = explore(out, "--objectives accuracy,mean_latency --generations 5 --population 8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_csv(out + "/front.csv").header,
            (std::vector<std::string>{"id", "accuracy", "mean_latency", "mapping"}));
  const json doc = json::parse(slurp(out + "/front.json"));
  EXPECT_EQ(doc.at("objectives")[0].at("sense"), "max");
  EXPECT_EQ(doc.at("objectives")[1].at("sense"), "min");

  // Without power data, the default objectives leave energy out.
  const std::string no_power = std::regex_replace(
      slurp(source_path(kPlatform)), std::regex(R"(, active_w: (\[[^\]]*\]|[0-9.]+), idle_w: [0-9.]+)"), "");
  ASSERT_EQ(no_power.find("active_w"), std::string::npos);
  const std::string platform = write_file(temp_dir(), "platform.yaml", no_power);
  const std::string out2 = temp_dir();
  const auto r2 = explore(out2, "--generations 5 --population 8", platform);
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(read_csv(out2 + "/front.csv").header,
            (std::vector<std::string>{"id", "mean_latency", "worst_latency", "mapping"}));
}

// ---- every exported mapping reproduces its row ------------------------------------------------

TEST(ExploreCli, EveryMappingReproducesItsRowInSimulate) {
  // All five objectives, and DVFS levels and thread counts in the mappings.
  const std::string out = temp_dir();
  const auto r = explore(out, "--objectives mean_latency,worst_latency,energy,accuracy,throughput "
                              "--dvfs --threads --generations 15 --population 32 --seed 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int rows = ExpectRowsReproduce(out, "front.csv");
  EXPECT_GT(rows, 20);
  EXPECT_EQ(rows, static_cast<int>(read_csv(out + "/front.csv").rows.size()));
  EXPECT_EQ(ExpectRowsReproduce(out, "baselines.csv"), 11);
  // Some mapping uses a lower frequency or fewer threads, so those were exported too.
  bool levels = false;
  for (const auto& e : fs::directory_iterator(out + "/mappings")) {
    const std::string y = slurp(e.path().string());
    levels = levels || y.find("big: 1008") != std::string::npos ||
             y.find("big: 408") != std::string::npos || y.find("gpu: 200") != std::string::npos ||
             y.find("little: 408") != std::string::npos;
  }
  EXPECT_TRUE(levels);
}

TEST(ExploreCli, ConstraintsHoldOnEveryRow) {
  const std::string out = temp_dir();
  const auto r = explore(out, "--objectives mean_latency,accuracy --constraint 'accuracy >= 0.74' "
                              "--constraint 'worst_latency <= 6' --generations 30 --population 32");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Csv front = read_csv(out + "/front.csv");
  ASSERT_FALSE(front.rows.empty());
  for (const auto& row : front.rows) EXPECT_GE(std::stod(row[front.column("accuracy")]), 0.74);
  // worst_latency is not a column: check it through simulate.
  for (const auto& row : front.rows) {
    const auto s = run_hetmap("simulate " + inputs() + " --mapping " +
                              quote(out + "/" + row[front.column("mapping")]) + " --json -");
    ASSERT_EQ(s.exit_code, 0) << s.err;
    EXPECT_LE(json::parse(s.out).at("worst_latency_ms").get<double>(), 6.0);
  }
  // Most baselines run every exit (accuracy 0.719) and violate the accuracy bound; ee-coop with
  // the backbone on the gpu gets 0.746 (exit1's result on the CPU arrives after exit2's).
  const Csv base = read_csv(out + "/baselines.csv");
  int violating = 0;
  for (const auto& row : base.rows) {
    const bool ok = row[base.column("satisfies_constraints")] == "true";
    if (std::stod(row[base.column("accuracy")]) < 0.74) {
      EXPECT_FALSE(ok) << row[0];
    }
    violating += !ok;
  }
  EXPECT_GT(violating, 0);
  const json doc = json::parse(slurp(out + "/front.json"));
  EXPECT_EQ(doc.at("constraints").size(), 2u);
}

// ---- the exhaustive front --------------------------------------------------------------------

TEST(ExploreCli, ExhaustiveFrontAndTheSearchsShareOfItsHypervolume) {
  const std::string profile = big_gpu_profile();
  const std::string exact_dir = temp_dir(), search_dir = temp_dir();
  const auto exact = explore(exact_dir, "--exhaustive", kPlatform, profile);
  ASSERT_EQ(exact.exit_code, 0) << exact.err;
  const auto search = explore(search_dir, "--seed 1", kPlatform, profile);  // 100 x 64
  ASSERT_EQ(search.exit_code, 0) << search.err;

  const json exact_doc = json::parse(slurp(exact_dir + "/front.json"));
  EXPECT_EQ(exact_doc.at("method"), "exhaustive");
  EXPECT_EQ(exact_doc.at("evaluations").get<double>(), 262144.0);
  EXPECT_EQ(exact_doc.at("settings").at("space_points").get<double>(), 262144.0);

  const std::vector<std::string> objectives = {"mean_latency", "worst_latency", "energy"};
  const Csv exact_csv = read_csv(exact_dir + "/front.csv");
  const Csv search_csv = read_csv(search_dir + "/front.csv");
  const auto exact_pts = minimised_points(exact_csv, objectives);
  const auto search_pts = minimised_points(search_csv, objectives);
  const auto base_pts = minimised_points(read_csv(exact_dir + "/baselines.csv"), objectives);
  ASSERT_FALSE(exact_pts.empty());
  // Nothing the search found beats the exact front.
  for (const auto& s : search_pts) {
    bool covered = false;
    for (const auto& e : exact_pts) covered = covered || e == s || dominates(e, s);
    EXPECT_TRUE(covered);
  }
  const dse::Point ref = dse::reference_point({exact_pts, search_pts, base_pts});
  const double hv_exact = dse::hypervolume(exact_pts, ref);
  const double hv_search = dse::hypervolume(search_pts, ref);
  std::cout << "[ quality  ] tiny-ee (big, gpu) via the CLI: exact front " << exact_pts.size()
            << ", search front " << search_pts.size() << ", hypervolume ratio "
            << hv_search / hv_exact << "\n";
  EXPECT_GE(hv_search / hv_exact, 0.99);

  // The exhaustive front's mappings reproduce their rows too.
  EXPECT_EQ(ExpectRowsReproduce(exact_dir, "front.csv", kPlatform, profile),
            static_cast<int>(exact_pts.size()));
}

// ---- checkpoint and resume ---------------------------------------------------------------------

TEST(ExploreCli, ResumeContinuesToTheSameFront) {
  const std::string straight = temp_dir(), split = temp_dir();
  const std::string common = "--population 32 --seed 4 ";
  const auto a = explore(straight, common + "--generations 20");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto b1 = explore(split, common + "--generations 10");
  ASSERT_EQ(b1.exit_code, 0) << b1.err;
  EXPECT_TRUE(fs::exists(split + "/checkpoint.json"));
  const auto b2 = explore(split, common + "--generations 20 --resume");
  ASSERT_EQ(b2.exit_code, 0) << b2.err;
  EXPECT_NE(b2.err.find("resumed"), std::string::npos) << b2.err;
  EXPECT_NE(b2.err.find("generation 10"), std::string::npos) << b2.err;

  const std::string front = slurp(straight + "/front.csv");
  EXPECT_EQ(slurp(split + "/front.csv"), front);
  const Csv csv = read_csv(straight + "/front.csv");
  for (const auto& row : csv.rows)
    EXPECT_EQ(slurp(split + "/" + row.back()), slurp(straight + "/" + row.back())) << row.back();
  EXPECT_EQ(json::parse(slurp(split + "/front.json")).at("evaluations"),
            json::parse(slurp(straight + "/front.json")).at("evaluations"));

  // --resume without a checkpoint starts afresh, and --checkpoint picks the file.
  const std::string fresh = temp_dir();
  const auto c = explore(fresh, common + "--generations 20 --resume --checkpoint " +
                                    quote(fresh + "/state.json"));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(fs::exists(fresh + "/state.json"));
  EXPECT_EQ(slurp(fresh + "/front.csv"), front);

  // A checkpoint of another seed is refused.
  const auto d = explore(split, "--population 32 --seed 5 --generations 20 --resume");
  EXPECT_EQ(d.exit_code, 2) << d.err;
  EXPECT_EQ(d.err.rfind("hetmap: error:", 0), 0u) << d.err;
  EXPECT_NE(d.err.find("checkpoint.json"), std::string::npos) << d.err;
  EXPECT_EQ(slurp(split + "/front.csv"), front) << "nothing written on error";
}

// ---- determinism -----------------------------------------------------------------------------

TEST(ExploreCli, SameSeedSameFrontOnAnyNumberOfJobs) {
  const std::string common = "--objectives mean_latency,energy,accuracy --dvfs "
                             "--generations 25 --population 48 --seed 7 ";
  const std::string a = temp_dir(), b = temp_dir(), c = temp_dir(), d = temp_dir();
  ASSERT_EQ(explore(a, common).exit_code, 0);
  ASSERT_EQ(explore(b, common).exit_code, 0);
  ASSERT_EQ(explore(c, common + "--jobs 1").exit_code, 0);
  ASSERT_EQ(explore(d, common + "--jobs 2").exit_code, 0);
  const std::string front = slurp(a + "/front.csv");
  ASSERT_FALSE(front.empty());
  EXPECT_EQ(slurp(b + "/front.csv"), front);
  EXPECT_EQ(slurp(c + "/front.csv"), front);
  EXPECT_EQ(slurp(d + "/front.csv"), front);
  EXPECT_EQ(slurp(b + "/baselines.csv"), slurp(a + "/baselines.csv"));
  for (const auto& row : read_csv(a + "/front.csv").rows)
    EXPECT_EQ(slurp(d + "/" + row.back()), slurp(a + "/" + row.back()));
  // Exhaustive, 1 vs 2 jobs.
  const std::string profile = big_gpu_profile();
  const std::string e1 = temp_dir(), e2 = temp_dir();
  ASSERT_EQ(explore(e1, "--exhaustive --jobs 1", kPlatform, profile).exit_code, 0);
  ASSERT_EQ(explore(e2, "--exhaustive --jobs 2", kPlatform, profile).exit_code, 0);
  EXPECT_EQ(slurp(e1 + "/front.csv"), slurp(e2 + "/front.csv"));
  // Another seed, another search.
  const std::string other = temp_dir();
  ASSERT_EQ(explore(other, "--objectives mean_latency,energy,accuracy --dvfs --generations 25 "
                           "--population 48 --seed 8").exit_code, 0);
  EXPECT_NE(slurp(other + "/front.csv"), front);
}

// ---- settings --------------------------------------------------------------------------------

// `hetmap explore` and an experiment file read their settings through the same parsers (one per
// kind: objectives, constraints, policy, booleans): the same settings are the same typed values,
// hence the same exploration, file for file.
TEST(ExploreCli, SameSettingsAsAnExperimentFileSameExploration) {
  const std::string out = temp_dir() + "/cli";
  const auto r = explore(out, "--objectives 'mean_latency, energy' --constraint 'energy <= 20' "
                              "--policy parallel --processors big,gpu --dvfs --threads=false "
                              "--fixed-exits=true --generations 6 --population 8 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string dir = temp_dir();
  const std::string exp = write_file(
      dir, "exp.yaml",
      "name: same\nmodel: " + source_path(kModel) + "\nplatform: " + source_path(kPlatform) +
          "\nprofile: " + source_path(kProfile) +
          "\ntask: explore\npolicy: parallel\nsearch:\n  objectives: [mean_latency, energy]\n"
          "  constraints: ['energy <= 20']\n  processors: [big, gpu]\n  dvfs: true\n"
          "  threads: false\n  fixed_exits: true\n  generations: 6\n  population: 8\n  seed: 3\n");
  const auto s = run_hetmap("sweep " + quote(exp) + " --out " + quote(dir + "/out"));
  ASSERT_EQ(s.exit_code, 0) << s.err;
  for (const char* f : {"front.csv", "front.json", "baselines.csv"}) {
    EXPECT_FALSE(slurp(out + "/" + f).empty()) << f;
    EXPECT_EQ(slurp(dir + "/out/points/000/" + f), slurp(out + "/" + f)) << f;
  }
}

// A boolean flag alone or `=true` is on, `=false` off (docs/formats.md, "Booleans"); an empty
// --objectives is the default set, as an empty `objectives:` is in an experiment file.
TEST(ExploreCli, FlagValuesAndEmptyObjectivesMeanWhatTheySay) {
  const std::string common = "--generations 4 --population 8 --seed 5 ";
  const std::string plain = temp_dir(), on = temp_dir(), on_true = temp_dir(), off = temp_dir(),
                    empty = temp_dir();
  ASSERT_EQ(explore(plain, common).exit_code, 0);
  ASSERT_EQ(explore(on, common + "--dvfs").exit_code, 0);
  ASSERT_EQ(explore(on_true, common + "--dvfs=true").exit_code, 0);
  ASSERT_EQ(explore(off, common + "--dvfs=false").exit_code, 0);
  ASSERT_EQ(explore(empty, common + "--objectives ''").exit_code, 0);
  EXPECT_NE(slurp(on + "/front.json"), slurp(plain + "/front.json"));
  EXPECT_EQ(slurp(on_true + "/front.json"), slurp(on + "/front.json"));
  EXPECT_EQ(slurp(off + "/front.json"), slurp(plain + "/front.json"));
  EXPECT_EQ(slurp(empty + "/front.json"), slurp(plain + "/front.json"));
}

// ---- bad input -------------------------------------------------------------------------------

// Every result file of a folder with its text (the search's checkpoint aside: it is the
// search's state, rewritten while the search runs).
std::map<std::string, std::string> results_in(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != "checkpoint.json")
      files[fs::relative(e.path(), dir).string()] = slurp(e.path().string());
  return files;
}

// A result file that cannot be written (here a folder in its place) fails the run with exit 2
// naming it, and leaves every file of the previous run as it was, its mappings included
// (docs/design.md, "Output files": all or none).
TEST(ExploreCli, AFailedWriteLeavesThePreviousResultsAsTheyWere) {
  const std::string out = temp_dir() + "/result";
  ASSERT_EQ(explore(out, "--generations 3 --population 8 --seed 3").exit_code, 0);
  fs::remove(out + "/front.json");
  fs::create_directories(out + "/front.json");
  const auto before = results_in(out);
  ASSERT_TRUE(before.count("front.csv") && before.count("mappings/0.yaml"));
  const auto r = explore(out, "--generations 1 --population 4 --seed 5");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("front.json: is a folder, expected a file"), std::string::npos) << r.err;
  EXPECT_EQ(results_in(out), before);
  for (const auto& e : fs::recursive_directory_iterator(out))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(ExploreCli, BadInputExitsWithTwoAndWritesNothing) {
  const std::string no_power = std::regex_replace(
      slurp(source_path(kPlatform)), std::regex(R"(, active_w: (\[[^\]]*\]|[0-9.]+), idle_w: [0-9.]+)"), "");
  const std::string platform = write_file(temp_dir(), "platform.yaml", no_power);
  struct Case {
    std::string args, platform, expect;
  };
  const std::vector<Case> cases = {
      {"--objectives mean_latency,speed", kPlatform, "speed"},
      {"--objectives mean_latency,", kPlatform, "objective"},
      {"--objectives energy,energy", kPlatform, "twice"},
      {"--constraint 'accuracy > 0.7'", kPlatform, "accuracy > 0.7"},
      {"--constraint 'accuracy >= high'", kPlatform, "number"},
      {"--constraint 'speed <= 3'", kPlatform, "speed"},
      {"--objectives mean_latency,energy", platform, "energy"},
      {"--constraint 'energy <= 5' --objectives mean_latency", platform, "energy"},
      {"--population 5", kPlatform, "population"},
      {"--population 2", kPlatform, "population"},
      {"--exhaustive --exhaustive-limit 10", kPlatform, "limit"},
      {"--exhaustive", kPlatform, "exhaustive"},  // 1.1e8 points, over the default limit
      {"--policy sometimes", kPlatform, "policy"},
      {"--generations -1", kPlatform, "generations"},
      {"--dvfs=yes", kPlatform, "--dvfs: expected true or false, got 'yes'"},
      {"--fixed-exits=on", kPlatform, "--fixed-exits: expected true or false, got 'on'"},
      {"--exhaustive=1", kPlatform, "--exhaustive: expected true or false, got '1'"},
      {"--threads=True", kPlatform, "--threads: expected true or false, got 'True'"},
      {"--policy Parallel", kPlatform, "--policy: expected search, parallel or sequential, got 'Parallel'"},
  };
  for (const Case& c : cases) {
    const std::string out = temp_dir() + "/out";
    const auto r = explore(out, c.args, c.platform);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("hetmap: error:", 0), 0u) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.args << ": nothing is written on error";
  }
  // Missing inputs.
  const std::string out = temp_dir() + "/out";
  const auto r = run_hetmap("explore -m models/none.yaml -p " + quote(kPlatform) + " --profile " +
                            quote(kProfile) + " --out " + quote(out));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("hetmap: error:", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace hetmap
