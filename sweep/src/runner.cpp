#include "hetmap/sweep/runner.hpp"

#include <fmt/format.h>

#include <cmath>
#include <exception>
#include <filesystem>
#include <limits>
#include <mutex>

#include "hetmap/detail/io.hpp"
#include "hetmap/detail/parallel.hpp"
#include "hetmap/error.hpp"
#include "hetmap/dse/explore.hpp"
#include "hetmap/report.hpp"
#include "hetmap/run.hpp"
#include "hetmap/sweep/progress.hpp"
#include "hetmap/sweep/results.hpp"
#include "hetmap/detail/number.hpp"

namespace hetmap::sweep {

namespace fs = std::filesystem;

namespace {

using hetmap::detail::kNaN;

// Metrics of one point, as they go into results.csv.
struct Summary {
  std::string status = "ok";
  double best_mean = kNaN, best_worst = kNaN, best_energy = kNaN, hypervolume = kNaN;
  long front_size = -1;
  std::string improvement_objective;
  double improvement_pct = kNaN;
};

Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json summary_json(const Point& p, const Experiment& x, const Summary& s) {
  Json values = Json::object();
  const std::vector<std::string> keys = point_keys(x);
  for (std::size_t a = 0; a < keys.size(); ++a) values[keys[a]] = p.values[a];
  return Json{{"id", p.id},
              {"dir", p.dir},
              {"values", values},
              {"task", to_string(p.spec.task)},
              {"status", s.status},
              {"best_mean_latency_ms", number(s.best_mean)},
              {"best_worst_latency_ms", number(s.best_worst)},
              {"best_energy_mj", number(s.best_energy)},
              {"hypervolume", number(s.hypervolume)},
              {"front_size", s.front_size >= 0 ? Json(s.front_size) : Json(nullptr)},
              {"improvement_objective", s.improvement_objective},
              {"improvement_pct", number(s.improvement_pct)}};
}

// The settings a point's exploration runs with, in its folder `dir`.
dse::ExploreSettings explore_settings(const Point& p, const fs::path& dir, bool resume) {
  dse::ExploreSettings settings = p.spec.search;
  settings.checkpoint = (dir / "checkpoint.json").string();
  settings.resume = resume;
  return settings;
}

Summary run_explore_point(const Problem& pb, const Point& p, const fs::path& dir, bool resume) {
  const dse::ExploreSettings settings = explore_settings(p, dir, resume);
  const dse::Exploration x = dse::explore(pb, settings);
  dse::write_exploration(dir.string(), pb, x);
  Summary s;
  Evaluator ev(pb);
  auto take_min = [](double& best, double v) {
    if (std::isfinite(v) && !(best <= v)) best = v;
  };
  for (const dse::Individual& ind : x.front) {
    const Metrics& e = ev.evaluate(ind.config);
    take_min(s.best_mean, e.mean_latency_ms);
    take_min(s.best_worst, e.worst_latency_ms);
    take_min(s.best_energy, e.energy_mj);
  }
  s.hypervolume = x.hypervolume;
  s.front_size = static_cast<long>(x.front.size());
  const auto imps = dse::improvements(x);
  if (!imps.empty()) {
    s.improvement_objective = dse::to_string(imps[0].objective);
    s.improvement_pct = imps[0].percent;
  }
  return s;
}

Config resolve_mapping(const Problem& pb, const RunSpec& r) {
  Mapping m = load_mapping(r.mapping);
  if (r.policy)
    if (const std::optional<Policy> p = dse::fixed_policy(*r.policy)) m.policy = *p;
  return pb.resolve(m);
}

RunSettings simulate_settings(const RunSpec& r) {
  RunSettings settings = r.simulate;
  settings.record_schedule = settings.inputs <= 2000;  // a Gantt chart of more is unreadable anyway
  return settings;
}

Summary run_simulate_point(const Problem& pb, const Point& p, const fs::path& dir) {
  const Config c = resolve_mapping(pb, p.spec);
  const RunSettings settings = simulate_settings(p.spec);
  const Metrics run = run_simulation(pb, c, settings, p.spec.mapping);
  std::string latencies;
  if (run.origin == Origin::simulated) {
    latencies = "input,latency_ms\n";
    for (std::size_t i = 0; i < run.latency_ms.size(); ++i)
      latencies += fmt::format("{},{}\n", i, run.latency_ms[i]);
  }
  Summary s;
  s.best_mean = run.mean_latency_ms;
  s.best_worst = run.worst_latency_ms;
  s.best_energy = run.energy_mj;
  // All or none (docs/design.md, "Output files"), as an exploration's files.
  detail::OutputSet files;
  files.write((dir / "result.json").string(), to_json(pb, run).dump(2) + "\n");
  if (!run.schedule.tasks.empty())
    files.write((dir / "trace.json").string(), chrome_trace(pb, run.schedule).dump() + "\n");
  if (!latencies.empty()) files.write((dir / "latencies.csv").string(), latencies);
  files.commit();
  return s;
}

// A number of summary.json (null: none).
double summary_number(const Json& v) { return v.is_null() ? PointResult::kNone : v.get<double>(); }

// results.csv from every summary.json present.
void write_results(const fs::path& out, const Experiment& x, const std::vector<Point>& points) {
  ResultsTable t;
  t.keys = point_keys(x);
  for (const Point& p : points) {
    const fs::path f = out / "points" / p.dir / "summary.json";
    if (!fs::exists(f)) continue;
    const Json s = Json::parse(detail::read_file(f.string()));
    PointResult r;
    r.id = p.id;
    r.values = p.values;
    r.task = s["task"].get<std::string>();
    r.status = s["status"].get<std::string>();
    r.best_mean_latency_ms = summary_number(s["best_mean_latency_ms"]);
    r.best_worst_latency_ms = summary_number(s["best_worst_latency_ms"]);
    r.best_energy_mj = summary_number(s["best_energy_mj"]);
    r.hypervolume = summary_number(s["hypervolume"]);
    r.front_size = s["front_size"].is_null() ? -1 : s["front_size"].get<long>();
    r.improvement_objective = s["improvement_objective"].get<std::string>();
    r.improvement_pct = summary_number(s["improvement_pct"]);
    r.dir = "points/" + p.dir;
    t.rows.push_back(std::move(r));
  }
  detail::write_file_atomic((out / "results.csv").string(), results_csv(t));
}

bool finished_ok(const fs::path& summary) {
  if (!fs::exists(summary)) return false;
  try {
    return Json::parse(detail::read_file(summary.string())).value("status", "") == "ok";
  } catch (...) {
    return false;
  }
}

}  // namespace

std::vector<std::string> result_columns(const Experiment& x) { return results_columns(point_keys(x)); }

namespace {

// An error of one point, naming the experiment file and the point where it does not already
// (a model that fails to load names the model file only). The kind, and so the exit code, stays.
[[noreturn]] void rethrow_for_point(const Error& e, const Experiment& x, const Point& p) {
  const std::string what = e.what();
  if (what.find(p.spec.label) != std::string::npos) throw;
  const std::string message = p.spec.label + ": " + what;
  if (e.exit_code() == kBadInput) throw InputError(x.file, 0, message);
  if (e.exit_code() == kInfeasible) throw InfeasibleError(x.file, 0, message);
  throw Error(x.file, 0, message, e.exit_code());
}

// Everything running the point would refuse before it computes: its inputs, its overrides, and
// the checks of the task itself (dse::plan_exploration, check_simulation), the same functions
// the run calls.
void validate_point(const Point& p) {
  const Problem pb = build_problem(p.spec);
  if (p.spec.task == Task::simulate)
    check_simulation(pb, resolve_mapping(pb, p.spec), simulate_settings(p.spec), p.spec.mapping);
  else
    dse::plan_exploration(pb, p.spec.search);
}

}  // namespace

void validate_sweep(const Experiment& x, const std::vector<Point>& points) {
  for (const Point& p : points) {
    try {
      validate_point(p);
    } catch (const Error& e) {
      rethrow_for_point(e, x, p);
    }
  }
}

void validate_resume(const Experiment& x, const std::vector<Point>& points, const std::string& out) {
  for (const Point& p : points) {
    const fs::path dir = fs::path(out) / "points" / p.dir;
    if (p.spec.task != Task::explore || finished_ok(dir / "summary.json")) continue;
    const dse::ExploreSettings settings = explore_settings(p, dir, true);
    if (!fs::exists(settings.checkpoint)) continue;
    try {
      const Problem pb = build_problem(p.spec);
      dse::check_resume(pb, settings);
    } catch (const Error& e) {
      rethrow_for_point(e, x, p);
    }
  }
}

void collectively(Group* g, const std::function<void()>& step) {
  if (!g || g->size() == 1) {
    step();
    return;
  }
  std::exception_ptr error;
  int code = kOk;
  try {
    step();
  } catch (const Error& e) {
    error = std::current_exception();
    code = e.exit_code();
  } catch (...) {
    error = std::current_exception();
    code = kOtherError;
  }
  const int first = g->min(error ? g->rank() : g->size());
  if (first == g->size()) return;
  code = g->broadcast({code}, first)[0];
  if (g->rank() == first) std::rethrow_exception(error);
  throw PeerFailed(code);
}

SweepOutcome run_sweep(const Experiment& x, const std::vector<Point>& points,
                       const SweepOptions& o) {
  Group* g = o.group && o.group->size() > 1 ? o.group : nullptr;
  const int rank = g ? g->rank() : 0, ranks = g ? g->size() : 1;

  // 1. Every point must load, resolve and accept its settings before anything is written (on
  //    every rank: each needs them, and a rank that cannot read an input must not start).
  collectively(g, [&] { validate_sweep(x, points); });

  // 2. The folder, and the provenance record a resume must match: rank 0 alone, before any
  //    rank writes a point. Rank 0 also picks the points to run, before anyone starts.
  const fs::path out(o.out);
  std::vector<int> todo_ids;  // indices into points
  collectively(g, [&] {
    if (rank != 0) return;
    const std::string resolved = resolved_yaml(x, points);
    const fs::path record = out / "experiment.yaml";
    if (o.resume && fs::exists(record) && detail::read_file(record.string()) != resolved)
      throw InputError(record.string(), 0, "the experiment changed since this folder was written; "
                                           "run without --resume or use another --out");
    // The checkpoints the points will resume from, before anything is written.
    if (o.resume) validate_resume(x, points, o.out);
    // The record is staged first, so that a folder it cannot be written to keeps the previous
    // run's points; it goes in place after they are cleared, so that it never describes
    // points of another experiment (a --resume would take them as its own).
    detail::OutputSet files;
    files.write(record.string(), resolved);
    if (!o.resume) {
      detail::remove_tree((out / "points").string());
      files.remove((out / "results.csv").string());
    }
    detail::create_folder((out / "points").string());
    files.commit();
    for (std::size_t i = 0; i < points.size(); ++i)
      if (!(o.resume && finished_ok(out / "points" / points[i].dir / "summary.json")))
        todo_ids.push_back(static_cast<int>(i));
  });
  if (g) todo_ids = g->broadcast(todo_ids, 0);

  // 3. This rank's share of the points not finished yet (every ranks-th, round-robin), in
  //    parallel.
  SweepOutcome outcome;
  outcome.points = static_cast<int>(points.size());
  outcome.skipped = outcome.points - static_cast<int>(todo_ids.size());
  std::vector<const Point*> todo;
  for (std::size_t i = static_cast<std::size_t>(rank); i < todo_ids.size(); i += ranks)
    todo.push_back(&points[todo_ids[i]]);
  collectively(g, [&] {
    ProgressBar bar(static_cast<int>(todo.size()), o.progress && rank == 0);
    std::mutex mutex;
    auto run_point = [&](std::size_t i) {
      const Point& p = *todo[i];
      const fs::path dir = out / "points" / p.dir;
      detail::create_folder(dir.string());
      Summary s;
      try {
        const Problem pb = build_problem(p.spec);
        s = p.spec.task == Task::explore ? run_explore_point(pb, p, dir, o.resume)
                                         : run_simulate_point(pb, p, dir);
      } catch (const std::exception& e) {
        s = Summary{};
        s.status = std::string("error: ") + e.what();
      }
      Json summary = summary_json(p, x, s);
      if (g) summary["rank"] = rank;
      detail::write_file_atomic((dir / "summary.json").string(), summary.dump(2) + "\n");
      std::lock_guard<std::mutex> lock(mutex);
      ++outcome.ran;
      if (s.status != "ok") ++outcome.failed;
      if (!g) write_results(out, x, points);  // alone: results.csv follows every point
      bar.tick();
    };
    detail::parallel_for(0, todo.size(), 1, [&](std::size_t begin, std::size_t end, std::size_t) {
      for (std::size_t i = begin; i < end; ++i) run_point(i);
    });
    bar.finish();
  });

  // 4. Once every rank is done (the sum is a barrier): the totals, and results.csv by rank 0.
  if (g) {
    const std::vector<long long> totals = g->sum({outcome.ran, outcome.failed});
    outcome.ran = static_cast<int>(totals[0]);
    outcome.failed = static_cast<int>(totals[1]);
  }
  collectively(g, [&] {
    if (rank == 0) write_results(out, x, points);
  });
  return outcome;
}

}  // namespace hetmap::sweep
