#include "hetmap/problem.hpp"
#include "hetmap/detail/number.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <tuple>

namespace hetmap {

namespace {
using hetmap::detail::kNaN;
}

Problem::Problem(Model model, Platform platform, Profile profile,
                 std::optional<Transfers> transfers, std::optional<ExitTrace> trace)
    : model_(std::move(model)),
      platform_(std::move(platform)),
      profile_(std::move(profile)),
      transfers_(std::move(transfers)),
      trace_(std::move(trace)) {
  n_layers_ = static_cast<int>(model_.layers.size());
  n_procs_ = static_cast<int>(platform_.processors.size());
  // The loader enforces this for files; platforms built in code (backends) are checked here.
  if (n_procs_ > kMaxProcessors || n_procs_ < 1)
    throw InputError(platform_.file, 0,
                     "platform.processors: " + std::to_string(n_procs_) + " processors, expected 1 to " +
                         std::to_string(kMaxProcessors));
  n_exits_ = static_cast<int>(model_.exits.size());

  // The model's DAG in flat arrays (duplicate inputs collapse: a tensor arrives once).
  pred_begin_.push_back(0);
  succ_begin_.push_back(0);
  std::vector<int> in;
  for (const Layer& layer : model_.layers) {
    in = layer.inputs;
    std::sort(in.begin(), in.end());
    in.erase(std::unique(in.begin(), in.end()), in.end());
    pred_.insert(pred_.end(), in.begin(), in.end());
    pred_begin_.push_back(static_cast<int>(pred_.size()));
    succ_.insert(succ_.end(), layer.consumers.begin(), layer.consumers.end());
    succ_begin_.push_back(static_cast<int>(succ_.size()));
  }

  // Results and sequential gates.
  for (const Layer& l : model_.layers) exit_of_.push_back(l.exit);
  result_of_.assign(n_layers_, -1);
  gate_exits_.assign(n_layers_, {});
  std::vector<int> backbone_pos(n_layers_, -1);
  for (std::size_t i = 0; i < model_.backbone.size(); ++i)
    backbone_pos[model_.backbone[i]] = static_cast<int>(i);
  for (int k = 0; k < n_exits_; ++k) {
    const Exit& e = model_.exits[k];
    result_layer_.push_back(e.layers.back());
    result_of_[e.layers.back()] = k;
    const std::size_t next = static_cast<std::size_t>(backbone_pos[e.after]) + 1;
    const int gated = next == model_.backbone.size() ? -1 : model_.backbone[next];
    gated_.push_back(gated);
    if (gated >= 0) gate_exits_[gated].push_back(k);
  }
  result_layer_.push_back(model_.final_layer());
  result_of_[model_.final_layer()] = n_exits_;

  index_settings();
  check_table_sizes();
  fill_durations();

  // Link resources: the platform's links, then one per unlinked pair with measured transfers.
  n_link_res_ = static_cast<int>(platform_.links.size());
  for (const Link& l : platform_.links) link_res_pairs_.push_back({l.a, l.b});
  link_res_.assign(static_cast<std::size_t>(n_procs_) * n_procs_, -1);
  for (int p = 0; p < n_procs_; ++p)
    for (int q = 0; q < n_procs_; ++q)
      if (p != q) link_res_[p * n_procs_ + q] = platform_.link_index(p, q);
  const std::vector<int> link_of = link_res_;  // the platform's links alone
  if (transfers_) {
    for (const TransferRow& r : transfers_->rows) {
      if (link_res_[r.from * n_procs_ + r.to] >= 0) continue;
      link_res_pairs_.push_back({std::min(r.from, r.to), std::max(r.from, r.to)});
      link_res_[r.from * n_procs_ + r.to] = link_res_[r.to * n_procs_ + r.from] = n_link_res_++;
    }
  }

  // Copy costs per tensor and ordered pair: the link's formula, or 0 without a link; then the
  // measured transfers, which replace it for their tensor and direction.
  copy_.assign(static_cast<std::size_t>(n_layers_ + 1) * n_procs_ * n_procs_, 0.0);
  for (int src = -1; src < n_layers_; ++src) {
    const double bytes = static_cast<double>(
        src < 0 ? model_.input.bytes() : model_.layers[src].out.bytes());
    double* row = &copy_[static_cast<std::size_t>(src + 1) * n_procs_ * n_procs_];
    for (int pq = 0; pq < n_procs_ * n_procs_; ++pq)
      if (link_of[pq] >= 0) row[pq] = platform_.links[link_of[pq]].copy_ms(bytes);
  }
  if (transfers_)
    for (const TransferRow& r : transfers_->rows)
      copy_[(static_cast<std::size_t>(r.layer + 1) * n_procs_ + r.from) * n_procs_ + r.to] = r.mean_ms;
}

// A column of the duration table per setting (processor, frequency level, thread count) whose
// thread count has rows on that processor: by docs/formats.md's lookup, only those settings can
// have a duration. Every other setting shares one column of NaN. The table is then sized by what
// the profile measured, not by every level and thread count the platform allows (64 processors
// x 255 levels x 255 thread counts would be 4 million columns).
void Problem::index_settings() {
  thread_begin_.assign(1, 0);
  for (const Processor& p : platform_.processors)
    thread_begin_.push_back(thread_begin_.back() + p.cores);
  thread_slot_.assign(thread_begin_.back(), 0);
  for (const ProfileRow& r : profile_.rows()) thread_slot_[thread_begin_[r.proc] + r.threads - 1] = 1;
  n_columns_ = 0;
  for (int p = 0; p < n_procs_; ++p) {
    int slots = 0;
    for (int i = thread_begin_[p]; i < thread_begin_[p + 1]; ++i)
      thread_slot_[i] = thread_slot_[i] ? slots++ : -1;
    column_begin_.push_back(static_cast<int>(n_columns_));
    thread_slots_.push_back(slots);
    n_columns_ += static_cast<std::int64_t>(platform_.processors[p].levels()) * slots;
  }
  nan_column_ = static_cast<int>(n_columns_);
  row_ = n_columns_ + 1;
}

// The tables are allocated only within kMaxTableBytes, so that no input within the documented
// maximums (docs/formats.md, "Model size") ends in an allocation failure: past it, the error
// says which dimensions to reduce.
void Problem::check_table_sizes() const {
  const double durations = 2.0 * sizeof(double) * static_cast<double>(n_layers_) * row_;
  const double copies =
      sizeof(double) * static_cast<double>(n_layers_ + 1) * n_procs_ * n_procs_;
  const double bytes = durations + copies + static_cast<double>(n_layers_) * n_procs_;
  if (bytes <= static_cast<double>(kMaxTableBytes)) return;
  const double gib = static_cast<double>(std::uint64_t{1} << 30);
  throw InputError(
      profile_.file, 0,
      fmt::format("the cost tables of {} layers on {} processors would need {:.1f} GiB, more than "
                  "the {} GiB hetmap allows: durations at {} settings (frequency level x profiled "
                  "thread count, summed over processors) take {:.1f} GiB, copy times between {} "
                  "processor pairs {:.1f} GiB; profile fewer thread counts, give the platform "
                  "fewer frequency levels or processors, or split the model",
                  n_layers_, n_procs_, bytes / gib, kMaxTableBytes >> 30, n_columns_,
                  durations / gib, n_procs_ * n_procs_, copies / gib));
}

// docs/formats.md lookup at every level of every profiled thread count: the exact row, else the
// row at the highest profiled frequency scaled by f_row / f. Rows are visited sorted by (layer,
// processor, threads, frequency), so that each (layer, processor, threads) group is walked once
// beside the processor's ascending levels.
void Problem::fill_durations() {
  const std::size_t cells = static_cast<std::size_t>(n_layers_) * row_;
  dur_.assign(cells, kNaN);
  dur_std_.assign(cells, kNaN);
  can_run_.assign(static_cast<std::size_t>(n_layers_) * n_procs_, 0);
  const std::vector<ProfileRow>& rows = profile_.rows();
  std::vector<int> order(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const ProfileRow &x = rows[a], &y = rows[b];
    return std::tie(x.layer, x.proc, x.threads, x.freq_mhz) <
           std::tie(y.layer, y.proc, y.threads, y.freq_mhz);
  });
  for (std::size_t g = 0; g < order.size();) {
    const ProfileRow& first = rows[order[g]];
    std::size_t end = g + 1;
    while (end < order.size() && rows[order[end]].layer == first.layer &&
           rows[order[end]].proc == first.proc && rows[order[end]].threads == first.threads)
      ++end;
    const int l = first.layer, p = first.proc, t = first.threads;
    const Processor& proc = platform_.processors[p];
    const ProfileRow& best = rows[order[end - 1]];  // the highest profiled frequency
    std::size_t at = g;
    for (int lv = 0; lv < proc.levels(); ++lv) {
      const double f = proc.freqs_mhz.empty() ? 0.0 : proc.freqs_mhz[lv];
      while (at < end && rows[order[at]].freq_mhz < f) ++at;
      double mean = kNaN, sd = kNaN;
      if (at < end && rows[order[at]].freq_mhz == f) {
        mean = rows[order[at]].mean_ms;
        sd = rows[order[at]].std_ms;
      } else if (best.freq_mhz > 0 && f > 0) {
        const double scale = best.freq_mhz / f;
        mean = best.mean_ms * scale;
        sd = best.std_ms * scale;
      } else {
        continue;
      }
      const std::size_t i = static_cast<std::size_t>(l) * row_ + column(p, lv, t);
      dur_[i] = mean;
      dur_std_[i] = sd;
      can_run_[static_cast<std::size_t>(l) * n_procs_ + p] = 1;
    }
    g = end;
  }
}

std::string Problem::link_name(int resource) const {
  const auto& [a, b] = link_res_pairs_[resource];
  return platform_.processors[a].name + "-" + platform_.processors[b].name;
}

double Problem::active_w(int proc, int level) const {
  return platform_.processors[proc].active_w[level];
}

Config Problem::default_config() const {
  Config c;
  c.policy = Policy::sequential;
  c.proc.assign(n_layers_, static_cast<std::uint8_t>(host()));
  c.exits_enabled = n_exits_ == 64 ? ~0ULL : ((1ULL << n_exits_) - 1);
  for (const Processor& p : platform_.processors) {
    c.freq_level.push_back(static_cast<std::uint8_t>(p.levels() - 1));
    c.threads.push_back(static_cast<std::uint8_t>(p.cores));
  }
  c.thresholds.assign(n_exits_, kDefaultThreshold);
  return c;
}

std::string Problem::infeasibility(const Config& c) const {
  for (int l = 0; l < n_layers_; ++l) {
    const int k = exit_of(l);
    if (k >= 0 && !c.exit_enabled(k)) continue;
    const int p = c.proc[l];
    if (std::isnan(duration(l, p, c.freq_level[p], c.threads[p]))) {
      const Processor& proc = platform_.processors[p];
      std::string at;
      if (!proc.freqs_mhz.empty())
        at = " at " + std::to_string(static_cast<long long>(proc.freqs_mhz[c.freq_level[p]])) +
             " MHz";
      return "layer '" + model_.layers[l].name + "' cannot run on '" + proc.name + "'" + at +
             " with " + std::to_string(c.threads[p]) + " threads: no usable row in profile " +
             profile_.file;
    }
  }
  return "";
}

Config Problem::resolve(const Mapping& m, bool check_profile) const {
  const std::string& file = m.file;
  if (m.model != model_.name)
    throw InputError(file, m.line_model,
                     "model: the mapping is for '" + m.model + "', the model is '" + model_.name + "'");
  if (m.platform != platform_.name)
    throw InputError(file, m.line_platform, "platform: the mapping is for '" + m.platform +
                                                "', the platform is '" + platform_.name + "'");
  auto proc_of = [&](const std::string& name, int line, const std::string& what) {
    const int p = platform_.find(name);
    if (p < 0)
      throw InputError(file, line, what + ": unknown processor '" + name + "' (not in platform " +
                                       platform_.name + ")");
    return p;
  };
  auto exit_of_name = [&](const std::string& name, int line, const std::string& what) {
    const int k = model_.find_exit(name);
    if (k < 0)
      throw InputError(file, line, what + ": unknown exit '" + name + "' (not in model " +
                                       model_.name + ")");
    return k;
  };
  Config c = default_config();
  c.policy = m.policy;
  const int def = m.default_proc ? proc_of(*m.default_proc, m.line_default, "default") : host();
  std::vector<int> line_of_layer(n_layers_, m.line_default);
  c.proc.assign(n_layers_, static_cast<std::uint8_t>(def));
  for (const auto& [name, e] : m.assign) {
    const int l = model_.find_layer(name);
    if (l < 0)
      throw InputError(file, e.line, "assign: unknown layer '" + name + "' (not in model " +
                                         model_.name + ")");
    c.proc[l] = static_cast<std::uint8_t>(proc_of(e.value, e.line, "assign." + name));
    line_of_layer[l] = e.line;
  }
  for (const auto& [name, e] : m.exits) {
    const int k = exit_of_name(name, e.line, "exits");
    if (e.value) c.exits_enabled |= 1ULL << k;
    else c.exits_enabled &= ~(1ULL << k);
  }
  for (const auto& [name, e] : m.freq_mhz) {
    const int p = proc_of(name, e.line, "freq_mhz");
    const Processor& proc = platform_.processors[p];
    const int lv = proc.freqs_mhz.empty() ? -1 : proc.freq_level(e.value);
    if (lv < 0) {
      std::string levels;
      for (double f : proc.freqs_mhz) levels += (levels.empty() ? "" : ", ") + std::to_string(static_cast<long long>(f));
      throw InputError(file, e.line, "freq_mhz." + name + ": " +
                                         (levels.empty() ? "processor has no DVFS levels"
                                                         : "expected one of " + levels));
    }
    c.freq_level[p] = static_cast<std::uint8_t>(lv);
  }
  for (const auto& [name, e] : m.threads) {
    const int p = proc_of(name, e.line, "threads");
    if (e.value < 1 || e.value > platform_.processors[p].cores)
      throw InputError(file, e.line, "threads." + name + ": expected 1.." +
                                         std::to_string(platform_.processors[p].cores));
    c.threads[p] = static_cast<std::uint8_t>(e.value);
  }
  for (const auto& [name, e] : m.thresholds) {
    const int k = exit_of_name(name, e.line, "thresholds");
    c.thresholds[k] = e.value;
  }
  // Infeasible placements, reported at the line that placed the layer.
  for (int l = 0; check_profile && l < n_layers_; ++l) {
    const int k = exit_of(l);
    if (k >= 0 && !c.exit_enabled(k)) continue;
    const int p = c.proc[l];
    // infeasibility() reports the first infeasible layer in declaration order: this one.
    if (std::isnan(duration(l, p, c.freq_level[p], c.threads[p])))
      throw InfeasibleError(file, line_of_layer[l], infeasibility(c));
  }
  return c;
}

Mapping Problem::to_mapping(const Config& c) const {
  Mapping m;
  m.model = model_.name;
  m.platform = platform_.name;
  m.policy = c.policy;
  std::vector<int> count(n_procs_, 0);
  for (int l = 0; l < n_layers_; ++l) ++count[c.proc[l]];
  const int def = static_cast<int>(std::max_element(count.begin(), count.end()) - count.begin());
  m.default_proc = platform_.processors[def].name;
  for (int l = 0; l < n_layers_; ++l)
    if (c.proc[l] != def) m.assign[model_.layers[l].name] = {platform_.processors[c.proc[l]].name, 0};
  for (int k = 0; k < n_exits_; ++k) m.exits[model_.exits[k].name] = {c.exit_enabled(k), 0};
  for (int p = 0; p < n_procs_; ++p) {
    const Processor& proc = platform_.processors[p];
    if (!proc.freqs_mhz.empty()) m.freq_mhz[proc.name] = {proc.freqs_mhz[c.freq_level[p]], 0};
    if (proc.kind == ProcKind::cpu) m.threads[proc.name] = {c.threads[p], 0};
  }
  if (trace_)
    for (int k = 0; k < n_exits_; ++k) m.thresholds[model_.exits[k].name] = {c.thresholds[k], 0};
  return m;
}

Problem::Dependencies Problem::dependencies(const Config& c) const {
  Dependencies d;
  d.enabled.assign(n_layers_, 0);
  d.wait.assign(n_layers_, 0);
  for (int l = 0; l < n_layers_; ++l) {
    const int k = exit_of(l);
    if (k >= 0 && !c.exit_enabled(k)) continue;
    d.enabled[l] = 1;
    d.enabled_layers.push_back(l);
  }
  // Sequential gates: the backbone layer after an exit waits for the exit's last layer.
  std::vector<std::vector<int>> gated_by(n_layers_);
  if (c.policy == Policy::sequential) {
    for (int l : d.enabled_layers)
      for (int k : gate_exits(l))
        if (c.exit_enabled(k)) {
          gated_by[result_layer(k)].push_back(l);
          ++d.wait[l];
        }
  }
  d.gate_begin.assign(1, 0);
  for (int l = 0; l < n_layers_; ++l) {
    d.gates.insert(d.gates.end(), gated_by[l].begin(), gated_by[l].end());
    d.gate_begin.push_back(static_cast<int>(d.gates.size()));
  }
  for (int l : d.enabled_layers) {
    d.wait[l] += n_preds(l);
    if (d.wait[l] == 0) d.unblocked.push_back(l);
  }

  // Where each output goes: enabled consumers, and one copy per other processor that holds one
  // (plus the host for an enabled result).
  std::vector<std::vector<Dependencies::Consumer>> cons(n_layers_ + 1);
  for (int l : d.enabled_layers)
    for (int i = 0; i < n_preds(l); ++i) cons[preds(l)[i] + 1].push_back({l, c.proc[l]});
  d.result_at.assign(n_layers_ + 1, -1);
  for (int r = 0; r <= n_exits_; ++r)
    if (r == n_exits_ || c.exit_enabled(r)) d.result_at[result_layer(r) + 1] = r;
  d.cons_begin.assign(1, 0);
  d.dest_begin.assign(1, 0);
  std::vector<char> to(n_procs_);
  for (int p = -1; p < n_layers_; ++p) {
    const auto& cp = cons[p + 1];
    d.consumers.insert(d.consumers.end(), cp.begin(), cp.end());
    d.cons_begin.push_back(static_cast<int>(d.consumers.size()));
    if (p < 0 || d.enabled[p]) {
      const int from = p < 0 ? host() : c.proc[p];
      std::fill(to.begin(), to.end(), 0);
      for (const auto& x : cp) to[x.proc] = 1;
      if (d.result_at[p + 1] >= 0) to[host()] = 1;
      to[from] = 0;
      for (int q = 0; q < n_procs_; ++q)
        if (to[q]) d.dests.push_back(q);
    }
    d.dest_begin.push_back(static_cast<int>(d.dests.size()));
  }
  return d;
}

void Problem::shares(const Config& c, double* out) const {
  double carried = 0.0, taken = 0.0;
  for (int k = 0; k < n_exits_; ++k) {
    const double t = model_.exits[k].taken;
    taken += t;
    if (c.exit_enabled(k)) {
      out[k] = t + carried;
      carried = 0.0;
    } else {
      out[k] = 0.0;
      carried += t;
    }
  }
  out[n_exits_] = std::max(0.0, 1.0 - taken) + carried;
}

Problem load_problem(const std::string& model_path, const std::string& platform_path,
                     const std::string& profile_path,
                     const std::optional<std::string>& trace_path) {
  Model model = load_model(model_path);
  Platform platform = load_platform(platform_path);
  Profile profile = load_profile(profile_path, model, platform);
  std::optional<Transfers> transfers;
  if (auto tp = transfers_path_for(profile_path)) transfers = load_transfers(*tp, model, platform);
  std::optional<ExitTrace> trace;
  if (trace_path) trace = load_trace(*trace_path, model);
  return Problem(std::move(model), std::move(platform), std::move(profile), std::move(transfers),
                 std::move(trace));
}

}  // namespace hetmap
