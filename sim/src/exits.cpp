#include "hetmap/exits.hpp"

#include <string>

#include "hetmap/detail/random.hpp"
#include "hetmap/error.hpp"

namespace hetmap {

ExitPlan::ExitPlan(const Problem& pb, const Config& cfg, std::uint64_t seed, std::vector<int> forced)
    : exits_(pb.exits()), seed_(seed), forced_(std::move(forced)), rng_(seed) {
  for (int k : forced_)
    if (k < 0 || k > exits_)
      throw InputError("", 0, "forced exit " + std::to_string(k) + " is not in 0.." +
                                  std::to_string(exits_));
  const auto& trace = pb.trace();
  if (!trace) {
    std::vector<double> share(exits_ + 1);
    pb.shares(cfg, share.data());
    double sum = 0.0;
    for (double s : share) cum_share_.push_back(sum += s);
    return;
  }
  if (trace->samples < 1) throw InputError(trace->file, 0, "the exit trace has no samples");
  samples_ = trace->samples;
  sample_conf_.assign(samples_, 0);
  sample_first_.assign(samples_, exits_);
  for (int s = 0; s < samples_; ++s) {
    for (int k = exits_ - 1; k >= 0; --k) {
      const double thr = k < static_cast<int>(cfg.thresholds.size()) ? cfg.thresholds[k]
                                                                      : kDefaultThreshold;
      if (cfg.exit_enabled(k) && static_cast<double>(trace->conf[k][s]) >= thr) {
        sample_conf_[s] |= 1ULL << k;
        sample_first_[s] = k;
      }
    }
  }
}

int ExitPlan::draw() {
  const double u = detail::uniform01(rng_);
  int k = 0;
  while (k < exits_ && !(u < cum_share_[k])) ++k;
  // Rounding can leave u above the last cumulative share: take the last result drawn from.
  while (k > 0 && cum_share_[k] == cum_share_[k - 1] && cum_share_[k] <= u) --k;
  return k;
}

ExitDecision ExitPlan::operator()(std::int64_t input) {
  ExitDecision d;
  if (samples_ > 0) d.sample = static_cast<int>(input % samples_);
  if (!forced_.empty()) {
    d.first = forced_[static_cast<std::size_t>(input) % forced_.size()];
  } else if (samples_ > 0) {
    d.confident = sample_conf_[d.sample];
    d.first = sample_first_[d.sample];
  } else {
    if (input < drawn_ - 1) {  // going back: replay the stream
      rng_.seed(seed_);
      drawn_ = 0;
    }
    while (drawn_ <= input) {
      last_ = draw();
      ++drawn_;
    }
    d.first = last_;
  }
  return d;
}

}  // namespace hetmap
