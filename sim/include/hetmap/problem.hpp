#pragma once
// A Problem is a model, a platform and a profile compiled into flat tables, so that evaluating
// a mapping touches only arrays: the hot loop of every search and sweep. A Config is one point
// of the design space in dense form (the YAML Mapping resolved against the Problem).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hetmap/error.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/profile.hpp"
#include "hetmap/trace.hpp"

namespace hetmap {

inline constexpr int kMaxExits = 64;

/// The most memory a Problem's cost tables may take (docs/formats.md, "Model size"): durations
/// (two doubles per layer and profiled setting) and copy times (a double per tensor and ordered
/// processor pair). A problem past it is refused up front, naming what to reduce, rather than
/// failing to allocate.
inline constexpr std::size_t kMaxTableBytes = std::size_t{4} << 30;  // 4 GiB

/// One point of the design space.
struct Config {
  Policy policy = Policy::sequential;
  std::vector<std::uint8_t> proc;        // processor per layer (Model::layers order)
  std::uint64_t exits_enabled = ~0ULL;   // bit k: Model::exits[k] runs
  std::vector<std::uint8_t> freq_level;  // per processor: index into freqs_mhz
  std::vector<std::uint8_t> threads;     // per processor: 1..cores
  std::vector<double> thresholds;        // per exit, used with a trace

  bool exit_enabled(int k) const { return (exits_enabled >> k) & 1ULL; }
  bool operator==(const Config& o) const {
    return policy == o.policy && proc == o.proc && exits_enabled == o.exits_enabled &&
           freq_level == o.freq_level && threads == o.threads && thresholds == o.thresholds;
  }
};

inline constexpr double kDefaultThreshold = 0.5;

class Problem {
 public:
  Problem(Model model, Platform platform, Profile profile,
          std::optional<Transfers> transfers = std::nullopt,
          std::optional<ExitTrace> trace = std::nullopt);

  const Model& model() const { return model_; }
  const Platform& platform() const { return platform_; }
  const Profile& profile() const { return profile_; }
  /// Measured per-tensor copy times, where the profile had them (MODEL.transfers.csv).
  const std::optional<Transfers>& transfers() const { return transfers_; }
  const std::optional<ExitTrace>& trace() const { return trace_; }

  int layers() const { return n_layers_; }
  int processors() const { return n_procs_; }
  int exits() const { return n_exits_; }
  int host() const { return platform_.host; }

  // --- the model's DAG (Layer::inputs, Layer::consumers), flat. Preds may contain -1 (the
  // model input, on the host at t=0).
  const int* preds(int layer) const { return &pred_[pred_begin_[layer]]; }
  int n_preds(int layer) const { return pred_begin_[layer + 1] - pred_begin_[layer]; }
  const int* succs(int layer) const { return &succ_[succ_begin_[layer]]; }
  int n_succs(int layer) const { return succ_begin_[layer + 1] - succ_begin_[layer]; }
  /// Layers that read the model input.
  const std::vector<int>& input_consumers() const { return model_.input_consumers; }
  int exit_of(int layer) const { return exit_of_[layer]; }
  /// Exit k's last layer, or the final backbone layer for k == exits().
  int result_layer(int k) const { return result_layer_[k]; }
  /// Result index (0..exits()) whose output layer is `layer`, or -1.
  int result_of(int layer) const { return result_of_[layer]; }
  /// Under `sequential`, the backbone layer that waits for exit k's last layer (-1: none).
  int gated_layer(int k) const { return gated_[k]; }
  /// Exits whose last layers gate `layer` under `sequential` (usually none or one).
  const std::vector<int>& gate_exits(int layer) const { return gate_exits_[layer]; }

  // --- costs
  /// Mean duration in ms at a frequency level and thread count; NaN if the layer cannot run.
  double duration(int layer, int proc, int level, int threads) const {
    return dur_[static_cast<std::size_t>(layer) * row_ + column(proc, level, threads)];
  }
  double duration_std(int layer, int proc, int level, int threads) const {
    return dur_std_[static_cast<std::size_t>(layer) * row_ + column(proc, level, threads)];
  }
  /// The duration table's column of a setting: each setting whose thread count the profile has
  /// rows for on that processor has its own; all others share one column of NaN.
  int column(int proc, int level, int threads) const {
    const int slot = thread_slot_[thread_begin_[proc] + threads - 1];
    return slot < 0 ? nan_column_ : column_begin_[proc] + level * thread_slots_[proc] + slot;
  }
  /// Whether the profile lets `layer` run on `proc` at some level and thread count.
  bool can_run(int layer, int proc) const { return can_run_[layer * n_procs_ + proc] != 0; }
  /// Copy of `producer`'s output (-1: the model input) from one processor to another, ms.
  double copy_ms(int producer, int from, int to) const {
    return copy_[((producer + 1) * n_procs_ + from) * n_procs_ + to];
  }
  /// The resource a copy between two processors occupies: a link index, or -1 when the pair
  /// has no link (the copy is free and instantaneous unless a measured transfer says otherwise,
  /// in which case the pair gets a resource of its own).
  int link_resource(int from, int to) const { return link_res_[from * n_procs_ + to]; }
  int link_resources() const { return n_link_res_; }
  std::string link_name(int resource) const;

  double active_w(int proc, int level) const;
  double idle_w(int proc) const { return platform_.processors[proc].idle_w; }
  bool has_power() const { return platform_.has_power(); }
  double contention() const { return platform_.contention; }
  int max_threads(int proc) const { return platform_.processors[proc].cores; }
  int levels(int proc) const { return platform_.processors[proc].levels(); }

  /// Raw views of the tables above for the simulators' inner loops: the same data as the
  /// accessors, without re-reading vector headers on every access.
  struct Tables {
    const double* dur;       // dur[layer * row + column(proc, level, threads)]
    std::size_t row;         // columns per layer
    const int* succ_begin;   // succs of l: succ[succ_begin[l] .. succ_begin[l + 1])
    const int* succ;
    const int* pred_begin;
    const int* exit_of;
    const int* result_of;
    const int* gated;        // per exit
    const double* copy;      // copy[((producer + 1) * P + from) * P + to]
    const int* link_res;     // link_res[from * P + to]
  };
  Tables tables() const {
    return Tables{dur_.data(),        static_cast<std::size_t>(row_), succ_begin_.data(),
                  succ_.data(),       pred_begin_.data(), exit_of_.data(),
                  result_of_.data(),  gated_.data(),      copy_.data(),
                  link_res_.data()};
  }

  // --- configs
  /// Everything on the host at default frequencies and threads, all exits on, sequential.
  Config default_config() const;
  /// Validates a mapping against model, platform and profile (InputError: unknown names or
  /// values; InfeasibleError: a layer placed where it cannot run, unless `check_profile` is
  /// false, as for executing a mapping for real).
  Config resolve(const Mapping& mapping, bool check_profile = true) const;
  /// The Mapping that resolves back to `config` (every layer assigned explicitly where it
  /// differs from the most common processor, used as `default`).
  Mapping to_mapping(const Config& config) const;
  /// Empty string if every enabled layer can run where it is placed, else a description.
  std::string infeasibility(const Config& config) const;

  /// What each layer waits for under a config, and where each output goes, for simulators that
  /// count down dependencies (the DES and the executor). Producers are indexed p + 1, the
  /// model input being producer -1.
  struct Dependencies {
    struct Consumer {
      int layer, proc;
    };
    std::vector<unsigned char> enabled;  // per layer: runs (its exit, if any, is enabled)
    std::vector<int> enabled_layers;     // in declaration order
    std::vector<int> wait;               // per enabled layer: distinct inputs + sequential gates
    std::vector<int> unblocked;          // enabled layers that wait for nothing
    std::vector<int> gate_begin, gates;  // gates[gate_begin[l]..gate_begin[l+1]): layers that
                                         // exit result layer l releases under `sequential`
    std::vector<int> cons_begin;         // consumers[cons_begin[p+1]..cons_begin[p+2]): the
    std::vector<Consumer> consumers;     // enabled layers reading producer p
    std::vector<int> dest_begin;         // dests[dest_begin[p+1]..dest_begin[p+2]): the other
    std::vector<int> dests;              // processors p's output is copied to (a consumer's,
                                         // or the host for a result), in processor order, the
                                         // same-instant FIFO order on a link; none if disabled
    std::vector<int> result_at;          // per producer + 1: enabled result index or -1
  };
  Dependencies dependencies(const Config& config) const;

  /// Without a trace: share of inputs whose first confident result is k (0..exits(); exits()
  /// is the final output). A disabled exit's share moves to the next enabled result.
  void shares(const Config& config, double* out) const;

 private:
  void index_settings();
  void check_table_sizes() const;
  void fill_durations();

  Model model_;
  Platform platform_;
  Profile profile_;
  std::optional<Transfers> transfers_;
  std::optional<ExitTrace> trace_;
  int n_layers_ = 0, n_procs_ = 0, n_exits_ = 0;
  // Duration columns (column()): per processor, its thread counts' slots (-1: no rows) at
  // thread_slot_[thread_begin_[p] + threads - 1], and its first column; NaN column last.
  std::vector<int> thread_begin_, thread_slot_, column_begin_, thread_slots_;
  std::int64_t n_columns_ = 0, row_ = 1;
  int nan_column_ = 0;
  std::vector<int> pred_begin_, pred_, succ_begin_, succ_;
  std::vector<int> result_layer_, result_of_, gated_, exit_of_;
  std::vector<std::vector<int>> gate_exits_;
  std::vector<double> dur_, dur_std_, copy_;
  std::vector<unsigned char> can_run_;
  std::vector<int> link_res_;
  int n_link_res_ = 0;
  std::vector<std::pair<int, int>> link_res_pairs_;
};

/// Loads model, platform, profile (and transfers beside it, and an optional trace) and
/// compiles them. Checks that the profile belongs to that model and platform.
Problem load_problem(const std::string& model_path, const std::string& platform_path,
                     const std::string& profile_path,
                     const std::optional<std::string>& trace_path = std::nullopt);

}  // namespace hetmap
