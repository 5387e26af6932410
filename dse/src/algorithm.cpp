#include "hetmap/dse/algorithm.hpp"

#include <fmt/format.h>

#include <sstream>

namespace hetmap::dse {

// The standard library's text form of std::mt19937_64.
void Algorithm::save_rng(nlohmann::json& checkpoint, const std::mt19937_64& rng) {
  std::ostringstream text;
  text << rng;
  checkpoint["rng"] = text.str();
}

void Algorithm::restore_rng(const JsonField& checkpoint, std::mt19937_64& rng) {
  const JsonField field = checkpoint.at("rng");
  const std::string text = field.text();
  std::mt19937_64 restored;
  std::istringstream in(text);
  in >> restored;
  // Only the text save_rng writes: written back, the state must give the same text. That
  // refuses what the stream would take silently (a word "-1" wrapped to 2^64 - 1, a word past
  // 2^64 cut, trailing text), and anything it cannot read.
  std::ostringstream again;
  again << restored;
  if (in.fail() || again.str() != text)
    field.fail("expected the state of a std::mt19937_64 in the standard library's text form, as "
               "hetmap writes it");
  // The all-zero state (the one state outside the generator's cycle) draws 0 for ever, which
  // would hang NSGA-II's mutation loop. n = 312 zero draws in a row happen from it only: the
  // state transition is linear and invertible, so only zero leads to zero.
  std::mt19937_64 probe = restored;
  bool zero = true;
  for (std::size_t i = 0; i < std::mt19937_64::state_size && zero; ++i) zero = probe() == 0;
  if (zero) field.fail("the all-zero state of the generator, which draws 0 for ever");
  rng = restored;
}

std::string Algorithm::check_counters(const Population& population, std::int64_t per_generation,
                                      int generations) {
  if (population.generation > generations)
    return fmt::format("generation: {}, past this run's last generation, {}", population.generation,
                       generations);
  const std::int64_t expected = per_generation * (population.generation + 1);
  if (population.evaluations != expected)
    return fmt::format("evaluations: {}, expected {} ({} in each of the generations 0..{})",
                       population.evaluations, expected, per_generation, population.generation);
  return "";
}

}  // namespace hetmap::dse
