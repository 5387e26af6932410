// `hetmap sweep`: run a grid of explorations or simulations from an experiment file.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "flags.hpp"
#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/folder_lock.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/dse/export.hpp"
#include "hetmap/sweep/results.hpp"
#include "hetmap/sweep/runner.hpp"
#if HETMAP_WITH_MPI
#include "hetmap/sweep/distributed.hpp"
#endif

namespace hetmap::cli {

namespace {

struct SweepArgs {
  std::string experiment, out;
  bool resume = false;
};

// results.csv as an aligned table; each explore point's front too when there are few points.
void print_results(const std::string& out) {
  namespace fs = std::filesystem;
  const sweep::ResultsTable t = sweep::load_results_csv((fs::path(out) / "results.csv").string());
  const std::vector<std::string> header = sweep::results_columns(t.keys);
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : t.rows) rows.push_back(sweep::result_cells(r));
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t c = 0; c < cells.size(); ++c) s += fmt::format("{:<{}}  ", cells[c], width[c]);
    std::cout << s << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  // One front, compactly: the point with the lowest best mean latency.
  const sweep::PointResult* best = nullptr;
  for (const auto& r : t.rows) {
    if (std::isnan(r.best_mean_latency_ms)) continue;
    if (!best || r.best_mean_latency_ms < best->best_mean_latency_ms) best = &r;
  }
  if (!best) return;
  const fs::path folder = fs::path(out) / best->dir;
  const fs::path front = folder / "front.csv";
  if (!fs::exists(front)) return;
  const dse::FrontTable f = dse::load_front_csv(front.string());
  const std::size_t shown = std::min<std::size_t>(f.rows.size(), 12);
  std::cout << fmt::format("\nPareto front of point {} ({}; {} of {} points shown, all in front.csv):\n",
                           best->id, folder.string(), shown, f.rows.size());
  std::string head = fmt::format("{:>16}", "id");
  for (const std::string& o : f.objectives) head += fmt::format("{:>16}", o);
  std::cout << head << "   mapping\n";
  for (std::size_t i = 0; i < shown; ++i) {
    const std::size_t k = shown > 1 ? i * (f.rows.size() - 1) / (shown - 1) : 0;
    const auto& r = f.rows[k];
    std::string line = fmt::format("{:>16}", r.id);
    for (double v : r.values) line += fmt::format("{:>16.5g}", v);
    std::cout << line << "   " << r.mapping << "\n";
  }
}

// Under mpirun every rank runs this; rank 0 alone prints (docs/experiments.md).
int run(const SweepArgs& a, sweep::Group* group) {
  const bool printer = !group || group->rank() == 0;
  sweep::Experiment x;
  std::vector<sweep::Point> points;
  std::string out;
  // One sweep at a time into a folder (docs/design.md, "Output files"). The ranks of one
  // mpirun are one run: rank 0 holds the lock until every rank is done (the last collective
  // step of run_sweep waits for all of them), and a refusal exits 2 on every rank.
  std::optional<detail::FolderLock> lock;
  sweep::collectively(group, [&] {
    x = sweep::load_experiment(a.experiment);
    points = sweep::expand(x);
    sweep::validate_sweep(x, points);
    out = a.out.empty() ? (std::filesystem::path("out") / x.name).string() : a.out;
    const std::string option = a.out.empty() ? "the default out/NAME" : "--out";
    detail::check_output_dir(out, option);
    if (printer) lock.emplace(out, option);
  });
  if (printer) {
    const std::string ranks =
        group && group->size() > 1 ? fmt::format(" over {} MPI ranks", group->size()) : "";
    std::cerr << fmt::format("hetmap sweep: {} ({} points) into {}{}\n", x.name, points.size(),
                             out, ranks);
  }
  sweep::SweepOptions o;
  o.out = out;
  o.resume = a.resume;
  o.group = group;
  const sweep::SweepOutcome r = sweep::run_sweep(x, points, o);
  if (printer) {
    print_results(out);
    std::cout << fmt::format("\n{} points: {} run, {} already done, {} failed; results in {}/results.csv\n",
                             r.points, r.ran, r.skipped, r.failed, out);
  }
  return r.failed > 0 ? kOtherError : kOk;
}

int run(const SweepArgs& a) {
#if HETMAP_WITH_MPI
  if (sweep::under_mpi_launcher()) {
    sweep::MpiGroup group;
    try {
      return run(a, &group);
    } catch (const sweep::PeerFailed& e) {
      return e.exit_code();  // the failing rank reported it
    }
  }
#endif
  return run(a, nullptr);
}

}  // namespace

Action add_sweep(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  CLI::App* cmd = app.add_subcommand("sweep", "Run a grid of explorations or simulations");
  cmd->add_option("experiment", a->experiment, "experiment YAML")->required();
  cmd->add_option("--out", a->out, "result folder (default out/NAME)");
  add_bool_flag(cmd, "--resume", a->resume, "skip the points already finished in --out");
  return [a, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    return run(*a);
  };
}

}  // namespace hetmap::cli
