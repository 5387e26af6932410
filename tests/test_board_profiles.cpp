// The shipped board profiles (profiles/rock-pi-n10, profiles/khadas-vim3): the converter
// (scripts/convert-board-data.py) regenerates them byte for byte from data; every one
// loads with its model and platform; and spot checks tie their numbers to the raw CSVs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/problem.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using test::slurp;

const std::string kRoot = HETMAP_SOURCE_DIR;


struct Shipped {
  std::string platform;  // folder under profiles/
  std::vector<std::string> models;
};
const std::vector<Shipped> kShipped = {
    {"rock-pi-n10", {"alexnet", "googlenet", "mobilenetv1", "resnet50", "squeezenet", "yolov3"}},
    {"khadas-vim3", {"googlenet", "inceptionv3", "inceptionv4", "inception-resnet-v2"}},
};

// The converter's files in a folder (others' files, such as rock-pi-n10/ee-*.csv, are not
// the converter's and are left out).
std::set<std::string> converter_files(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ee-", 0) != 0) out.insert(name);
  }
  return out;
}

TEST(BoardProfiles, ConverterReproducesShippedFilesByteForByte) {
  const std::string data = test::board_data();
  const std::string out = test::temp_dir();
  const std::string cmd = "cd " + test::quote(kRoot) +
                          " && python3 scripts/convert-board-data.py --data " + test::quote(data) + " --out " +
                          test::quote(out) + " --hetmap " + test::quote(HETMAP_BINARY) +
                          " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  for (const Shipped& s : kShipped) {
    const std::string shipped = kRoot + "/profiles/" + s.platform;
    const std::string fresh = out + "/" + s.platform;
    EXPECT_EQ(converter_files(shipped), converter_files(fresh)) << s.platform;
    for (const std::string& name : converter_files(fresh)) {
      const std::string want = slurp(shipped + "/" + name);
      EXPECT_FALSE(want.empty()) << shipped << "/" << name;
      EXPECT_TRUE(want == slurp(fresh + "/" + name))
          << s.platform << "/" << name << " differs from a fresh conversion";
    }
  }
}

// `--estimate-npu DIR` (an experiment, docs/profiles.md "Estimated NPU rows"): a copy of
// rock-pi-n10/ in DIR where the networks without N rows get npu rows on every layer at every
// host level, labelled estimated; the shipped folder is not touched (test above).
TEST(BoardProfiles, EstimatedNpuVariantIsLabelledAndComplete) {
  const std::string out = test::temp_dir();
  const std::string variant = out + "/estimated-npu";
  const std::string cmd = "cd " + test::quote(kRoot) +
                          " && python3 scripts/convert-board-data.py --data " +
                          test::quote(test::board_data()) + " --out " + test::quote(out) +
                          " --hetmap " + test::quote(HETMAP_BINARY) + " --estimate-npu " +
                          test::quote(variant) + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  for (const std::string m : {"alexnet", "googlenet", "resnet50", "squeezenet"}) {
    SCOPED_TRACE(m);
    const Problem p = load_problem(kRoot + "/models/" + m + ".yaml", variant + "/platform.yaml",
                                   variant + "/" + m + ".csv");
    const int npu = p.platform().find("npu");
    for (int l = 0; l < p.layers(); ++l) EXPECT_TRUE(p.can_run(l, npu)) << l;
    const std::string text = slurp(variant + "/" + m + ".csv");
    EXPECT_NE(text.find("# npu rows: estimated ("), std::string::npos);
    // The measured rows are the shipped ones, unchanged, ahead of the estimated npu rows.
    const std::string shipped = slurp(kRoot + "/profiles/rock-pi-n10/" + m + ".csv");
    const std::string rows = shipped.substr(shipped.find("\nlayer,"));
    EXPECT_NE(text.find(rows), std::string::npos);
  }
}

TEST(BoardProfiles, EveryProfileLoadsWithItsModelAndPlatform) {
  for (const Shipped& s : kShipped) {
    const std::string dir = kRoot + "/profiles/" + s.platform + "/";
    for (const std::string& m : s.models) {
      SCOPED_TRACE(s.platform + "/" + m);
      const Problem p = load_problem(kRoot + "/models/" + m + ".yaml", dir + "platform.yaml",
                                     dir + m + ".csv");
      EXPECT_FALSE(p.profile().source.empty());
      // Every layer can run on big, little and gpu (the data measured all of them).
      for (int l = 0; l < p.layers(); ++l)
        for (const char* proc : {"big", "little", "gpu"})
          EXPECT_TRUE(p.can_run(l, p.platform().find(proc))) << p.model().layers[l].name;
    }
  }
}

// Problem for a shipped Rock Pi model.
Problem rock_pi(const std::string& model) {
  const std::string dir = kRoot + "/profiles/rock-pi-n10/";
  return load_problem(kRoot + "/models/" + model + ".yaml", dir + "platform.yaml",
                      dir + model + ".csv");
}

// The Time of one Layers.csv row.
double raw_time(const std::string& file, const std::vector<std::string>& key) {
  const detail::CsvTable t = detail::parse_csv(detail::read_file(file), file);
  for (const auto& row : t.rows) {
    bool match = true;
    for (std::size_t i = 0; i < key.size(); ++i) match = match && row.cells[i] == key[i];
    if (match) return std::stod(row.cells[key.size() == 6 ? 6 : 4]);
  }
  ADD_FAILURE() << "no row in " << file;
  return 0.0;
}

TEST(BoardProfiles, SpotChecksAgainstRawCsv) {
  const std::string data = test::board_data();
  const std::string layers = data + "/rock-pi-n10/Layers.csv";
  {
    const Problem p = rock_pi("alexnet");
    const int big = p.platform().find("big"), gpu = p.platform().find("gpu");
    // Alex layer 0 on B at level 0 (408 MHz); layer 5 on G at level 4 with the host at 7.
    EXPECT_DOUBLE_EQ(p.duration(0, big, 0, 2), raw_time(layers, {"Alex", "B", "0", "-1", "0", "task"}));
    EXPECT_DOUBLE_EQ(p.duration(5, gpu, 4, 1), raw_time(layers, {"Alex", "G", "4", "7", "5", "task"}));
    EXPECT_DOUBLE_EQ(p.duration(0, big, 0, 2), 101.9405);
    // Transfers.csv "Alex,0,B,G,1.297": layer 0's output from G (Src) to B (Dest).
    EXPECT_DOUBLE_EQ(p.copy_ms(0, gpu, big), 1.297);
    EXPECT_DOUBLE_EQ(p.copy_ms(0, big, gpu), 2.80771);
  }
  {
    const Problem p = rock_pi("yolov3");
    const int little = p.platform().find("little");
    EXPECT_DOUBLE_EQ(p.duration(74, little, 5, 4),
                     raw_time(layers, {"YOLOv3", "L", "5", "-1", "74", "task"}));
    EXPECT_EQ(p.platform().processors[little].freqs_mhz.back(), 1416);
    EXPECT_TRUE(p.can_run(0, p.platform().find("npu")));
  }
  {
    // No NPU rows where Layers.csv has none.
    const Problem p = rock_pi("googlenet");
    EXPECT_FALSE(p.can_run(0, p.platform().find("npu")));
  }
  {
    const std::string dir = kRoot + "/profiles/khadas-vim3/";
    const Problem p = load_problem(kRoot + "/models/inceptionv4.yaml", dir + "platform.yaml",
                                   dir + "inceptionv4.csv");
    const int gpu = p.platform().find("gpu");
    EXPECT_DOUBLE_EQ(p.duration(3, gpu, 0, 1),
                     raw_time(data + "/khadas-vim3/Layers.csv",
                              {"InceptionV4", "G", "max", "max", "3", "task"}));
  }
}

}  // namespace
}  // namespace hetmap
