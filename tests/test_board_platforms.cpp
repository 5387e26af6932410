// The board platform templates (docs/boards/rk3399pro.yaml, docs/boards/a311d.yaml; see
// docs/boards.md): both load with the platform loader, name the processors the acl backend
// gives these chips (big, little, gpu, host big) with their cores, hold strictly ascending
// level tables, carry nothing measured (no power, no links), and agree with the shipped,
// measured profiles where they overlap: profiles/rock-pi-n10 uses exactly rk3399pro.yaml's
// tables, and profiles/khadas-vim3's single levels are the tops of a311d.yaml's tables.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/platform.hpp"

namespace hetmap {
namespace {

using test::source_path;

Platform load(const std::string& relative) { return load_platform(source_path(relative)); }

// The processor called `name`; a failure (and a null return) when there is none.
const Processor* processor(const Platform& p, const std::string& name) {
  const int i = p.find(name);
  if (i < 0) {
    ADD_FAILURE() << p.file << " has no processor '" << name << "'";
    return nullptr;
  }
  return &p.processors[static_cast<std::size_t>(i)];
}

std::vector<std::string> names(const Platform& p) {
  std::vector<std::string> out;
  for (const Processor& q : p.processors) out.push_back(q.name);
  return out;
}

struct Expected {
  const char* name;
  const char* kind;
  int cores;
};

// Name, host, processors (names, kinds, cores), ascending levels, nothing measured.
void check_template(const Platform& p, const std::string& name, const std::vector<Expected>& procs) {
  SCOPED_TRACE(p.file);
  EXPECT_EQ(p.name, name);
  EXPECT_EQ(p.processors.size(), procs.size());
  ASSERT_GE(p.host, 0);
  EXPECT_EQ(p.processors[static_cast<std::size_t>(p.host)].name, "big");
  for (const Expected& e : procs) {
    const Processor* q = processor(p, e.name);
    if (!q) continue;
    SCOPED_TRACE(e.name);
    EXPECT_STREQ(to_string(q->kind), e.kind);
    EXPECT_EQ(q->cores, e.cores);
    ASSERT_FALSE(q->freqs_mhz.empty()) << "a template lists every DVFS level";
    for (std::size_t i = 1; i < q->freqs_mhz.size(); ++i)
      EXPECT_LT(q->freqs_mhz[i - 1], q->freqs_mhz[i]) << "level " << i;
    EXPECT_GT(q->freqs_mhz.front(), 0.0);
    // A template of the chip: no measured (or estimated) power.
    EXPECT_FALSE(q->has_power);
    EXPECT_EQ(q->idle_w, 0.0);
  }
  EXPECT_FALSE(p.has_power());
  EXPECT_TRUE(p.links.empty()) << "links are measured on the board, not templated";
  EXPECT_EQ(p.contention, 1.0);
  EXPECT_EQ(p.source.rfind("template", 0), 0u) << "source: " << p.source;
}

TEST(BoardPlatforms, Rk3399ProTemplateLoads) {
  const Platform p = load("docs/boards/rk3399pro.yaml");
  check_template(p, "rk3399pro", {{"big", "cpu", 2}, {"little", "cpu", 4}, {"gpu", "gpu", 1}});
  const Processor* big = processor(p, "big");
  const Processor* little = processor(p, "little");
  const Processor* gpu = processor(p, "gpu");
  ASSERT_TRUE(big && little && gpu);
  // The tables of Linux's rk3399-opp.dtsi (CPUs) and the BSP's Mali-T860 levels.
  EXPECT_EQ(big->freqs_mhz, (std::vector<double>{408, 600, 816, 1008, 1200, 1416, 1608, 1800}));
  EXPECT_EQ(little->freqs_mhz, (std::vector<double>{408, 600, 816, 1008, 1200, 1416}));
  EXPECT_EQ(gpu->freqs_mhz, (std::vector<double>{200, 300, 400, 600, 800}));
}

TEST(BoardPlatforms, A311dTemplateLoads) {
  const Platform p = load("docs/boards/a311d.yaml");
  check_template(p, "a311d", {{"big", "cpu", 4}, {"little", "cpu", 2}, {"gpu", "gpu", 1}});
  const Processor* big = processor(p, "big");
  const Processor* little = processor(p, "little");
  const Processor* gpu = processor(p, "gpu");
  ASSERT_TRUE(big && little && gpu);
  // meson-g12b-a311d.dtsi: A53 100..1800 MHz (11 levels), A73 100..2208 MHz (15 levels), the
  // A73's table being the A53's plus four levels above 1800 MHz.
  EXPECT_EQ(little->freqs_mhz.size(), 11u);
  EXPECT_EQ(little->freqs_mhz.front(), 100.0);
  EXPECT_EQ(little->freqs_mhz.back(), 1800.0);
  EXPECT_EQ(big->freqs_mhz.size(), 15u);
  EXPECT_EQ(big->freqs_mhz.front(), 100.0);
  EXPECT_EQ(big->freqs_mhz.back(), 2208.0);
  ASSERT_GE(big->freqs_mhz.size(), little->freqs_mhz.size());
  EXPECT_TRUE(std::equal(little->freqs_mhz.begin(), little->freqs_mhz.end(), big->freqs_mhz.begin()));
  // The mainline Mali-G52 OPP table, at its nominal rates: 7 levels, 125..800 MHz.
  EXPECT_EQ(gpu->freqs_mhz.size(), 7u);
  EXPECT_EQ(gpu->freqs_mhz.front(), 125.0);
  EXPECT_EQ(gpu->freqs_mhz.back(), 800.0);
}

// profiles/rock-pi-n10 (the published data, every DVFS level) uses rk3399pro.yaml's tables, its
// cores and kinds; it also has an npu, which the acl backend does not drive.
TEST(BoardPlatforms, Rk3399ProMatchesTheRockPiProfile) {
  const Platform t = load("docs/boards/rk3399pro.yaml");
  const Platform shipped = load("profiles/rock-pi-n10/platform.yaml");
  EXPECT_EQ(t.name, shipped.name);
  EXPECT_EQ(t.processors[static_cast<std::size_t>(t.host)].name,
            shipped.processors[static_cast<std::size_t>(shipped.host)].name);
  for (const std::string name : {"big", "little", "gpu"}) {
    SCOPED_TRACE(name);
    const Processor* a = processor(t, name);
    const Processor* b = processor(shipped, name);
    if (!a || !b) continue;
    EXPECT_EQ(a->freqs_mhz, b->freqs_mhz);
    EXPECT_EQ(a->cores, b->cores);
    EXPECT_EQ(a->kind, b->kind);
  }
  EXPECT_EQ(names(shipped), (std::vector<std::string>{"big", "little", "gpu", "npu"}));
}

// profiles/khadas-vim3 was measured at the top levels only: each of its processors has one
// level, the top of a311d.yaml's table for it.
TEST(BoardPlatforms, A311dTopsAreTheVim3ProfileLevels) {
  const Platform t = load("docs/boards/a311d.yaml");
  const Platform shipped = load("profiles/khadas-vim3/platform.yaml");
  EXPECT_EQ(t.name, shipped.name);
  EXPECT_EQ(t.processors[static_cast<std::size_t>(t.host)].name,
            shipped.processors[static_cast<std::size_t>(shipped.host)].name);
  EXPECT_EQ(names(shipped), (std::vector<std::string>{"big", "little", "gpu"}));
  for (const Processor& b : shipped.processors) {
    SCOPED_TRACE(b.name);
    const Processor* a = processor(t, b.name);
    if (!a) continue;
    ASSERT_EQ(b.freqs_mhz.size(), 1u);
    ASSERT_FALSE(a->freqs_mhz.empty());
    EXPECT_EQ(a->freqs_mhz.back(), b.freqs_mhz.front());
    EXPECT_EQ(a->freq_level(b.freqs_mhz.front()), static_cast<int>(a->freqs_mhz.size()) - 1);
    EXPECT_EQ(a->cores, b.cores);
    EXPECT_EQ(a->kind, b.kind);
  }
}

}  // namespace
}  // namespace hetmap
