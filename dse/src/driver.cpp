#include "hetmap/dse/driver.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <limits>
#include <optional>

#include "hetmap/detail/io.hpp"
#include "hetmap/detail/text.hpp"
#include "hetmap/dse/json_field.hpp"
#include "hetmap/error.hpp"

namespace hetmap::dse {

namespace {

constexpr const char* kFormatVersion = "-checkpoint-2";

nlohmann::json config_json(const Config& c) {
  return {{"policy", c.policy == Policy::parallel ? "parallel" : "sequential"},
          {"proc", c.proc},
          {"exits", std::to_string(c.exits_enabled)},
          {"freq_level", c.freq_level},
          {"threads", c.threads},
          {"thresholds", c.thresholds}};
}

nlohmann::json individual_json(const Individual& ind) {
  // Infinite values (infeasible points) are stored as null.
  nlohmann::json f = nlohmann::json::array();
  for (double v : ind.f) f.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json());
  return {{"config", config_json(ind.config)},
          {"f", f},
          {"violation", std::isfinite(ind.violation) ? nlohmann::json(ind.violation) : nlohmann::json()},
          {"feasible", ind.feasible},
          {"rank", ind.rank},
          {"crowding", std::isfinite(ind.crowding) ? nlohmann::json(ind.crowding) : nlohmann::json()}};
}

// ---- reading (docs/search.md, "Checkpoints"): every field checked, each error naming it.

// Processor indices, levels and thread counts: one byte each in a Config.
std::vector<std::uint8_t> bytes(const JsonField& field) {
  std::vector<std::uint8_t> out(field.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::uint8_t>(field.item(i).integer(0, 255));
  return out;
}

std::uint64_t exit_mask(const JsonField& field) {
  const std::string text = field.text();
  std::uint64_t mask = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, mask);
  if (ec != std::errc() || stop != end)
    field.fail("expected a bit mask as a decimal integer in 0..2^64 - 1, got '" + text + "'");
  return mask;
}

// The JSON types here; what makes a point of the space, DesignSpace::check.
Config config_from_json(const JsonField& j, const DesignSpace& space) {
  Config c;
  const JsonField policy = j.at("policy");
  const std::optional<Policy> p = policy_named(policy.text());
  if (!p) policy.fail("expected parallel or sequential, got '" + policy.text() + "'");
  c.policy = *p;
  c.proc = bytes(j.at("proc"));
  c.exits_enabled = exit_mask(j.at("exits"));
  c.freq_level = bytes(j.at("freq_level"));
  c.threads = bytes(j.at("threads"));
  const JsonField thresholds = j.at("thresholds");
  for (std::size_t k = 0; k < thresholds.size(); ++k) c.thresholds.push_back(thresholds.item(k).number());
  if (const std::string why = space.check(c); !why.empty()) j.fail_within(why);
  return c;
}

double non_negative(const JsonField& field) {
  const double v = field.number_or_infinity();
  if (v < 0) field.fail(fmt::format("expected a number >= 0 or null (infinity), got {}", v));
  return v;
}

Individual individual_from_json(const JsonField& j, const DesignSpace& space,
                                 const ObjectiveSet& objectives) {
  Individual ind;
  ind.config = config_from_json(j.at("config"), space);
  const JsonField f = j.at("f");
  if (f.size() != static_cast<std::size_t>(objectives.size())) {
    std::vector<std::string> names;
    for (Objective o : objectives.list()) names.emplace_back(to_string(o));
    f.fail(fmt::format("{} values, expected {} (one per objective: {})", f.size(), objectives.size(),
                       fmt::join(names, ", ")));
  }
  for (std::size_t k = 0; k < f.size(); ++k) ind.f.push_back(f.item(k).number_or_infinity());
  ind.violation = non_negative(j.at("violation"));
  ind.feasible = j.at("feasible").boolean();
  // Rank and crowding as selection left them: recomputing them on the population alone would
  // give NSGA-II other crowding distances on its last front, and so other tournaments.
  ind.rank = static_cast<int>(j.at("rank").integer(0, std::numeric_limits<int>::max()));
  ind.crowding = non_negative(j.at("crowding"));
  return ind;
}

std::vector<Individual> individuals_from_json(const JsonField& list, const DesignSpace& space,
                                              const ObjectiveSet& objectives) {
  std::vector<Individual> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i)
    out.push_back(individual_from_json(list.item(i), space, objectives));
  return out;
}

// What a checkpoint stores of each point's evaluation must be its evaluation: the evaluator is
// deterministic, so the stored and the fresh values are equal to the last bit.
void check_evaluations(const JsonField& list, const std::vector<Individual>& stored,
                       BatchEvaluator& evaluator) {
  std::vector<Individual> fresh(stored.size());
  for (std::size_t i = 0; i < stored.size(); ++i) fresh[i].config = stored[i].config;
  evaluator.evaluate(fresh);
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const Individual &s = stored[i], &e = fresh[i];
    const JsonField at = list.item(i);
    if (s.feasible != e.feasible)
      at.at("feasible").fail(fmt::format("{}, but its config evaluates to {}", s.feasible, e.feasible));
    if (s.f != e.f)
      at.at("f").fail(fmt::format("[{}] differs from its config's evaluation [{}]",
                                  fmt::join(s.f, ", "), fmt::join(e.f, ", ")));
    if (s.violation != e.violation)
      at.at("violation").fail(fmt::format("{} differs from its config's evaluation {}", s.violation,
                                          e.violation));
  }
}

// "[json.exception.parse_error.101] parse error at line 1, column 5: ..." without the
// library's tag.
std::string parse_message(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const std::size_t tag = what.find("] ");
  return tag == std::string::npos ? what : what.substr(tag + 2);
}

// The first part in which two fingerprints (Driver::fingerprint) differ, named: "its
// population is 32, this run's is 64". The whole texts where the parts do not line up (a model
// name with a '|').
std::string fingerprint_difference(const std::string& saved, const std::string& current) {
  static const char* const kParts[] = {"model", "platform", "number of layers", "objective set",
                                       "constraint set", "design space"};
  const std::vector<std::string> a = detail::split(saved, '|'), b = detail::split(current, '|');
  if (a.size() == b.size())
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i] == b[i]) continue;
      if (i < std::size(kParts))
        return fmt::format("its {} is '{}', this run's is '{}'", kParts[i], a[i], b[i]);
      // The algorithm's settings, "seed=1": named by their keys.
      const std::size_t ea = a[i].find('='), eb = b[i].find('=');
      if (ea != std::string::npos && eb != std::string::npos && a[i].compare(0, ea, b[i], 0, eb) == 0)
        return fmt::format("its {} is {}, this run's is {}", a[i].substr(0, ea), a[i].substr(ea + 1),
                           b[i].substr(eb + 1));
      break;
    }
  return "'" + saved + "', expected '" + current + "'";
}

}  // namespace

Driver::Driver(BatchEvaluator& evaluator, Algorithm& algorithm, DriverOptions options)
    : evaluator_(evaluator), algorithm_(algorithm), options_(std::move(options)) {
  if (options_.checkpoint_every < 1) throw InputError("", 0, "checkpoint_every: expected >= 1");
}

void Driver::evaluate_batch() {
  evaluator_.evaluate(batch_);
  population_.evaluations += static_cast<std::int64_t>(batch_.size());
  algorithm_.tell(population_, batch_);
  archive_.offer(batch_);
}

void Driver::initialize(const std::vector<Config>& seeds) {
  population_ = Population{};
  archive_.clear();
  algorithm_.initialize(seeds, batch_);
  evaluate_batch();
}

void Driver::step() {
  algorithm_.ask(population_, batch_);
  evaluate_batch();
  ++population_.generation;
}

void Driver::run(const Progress& progress) {
  using Clock = std::chrono::steady_clock;
  auto last_save = Clock::now();
  while (!done()) {
    step();
    const bool due =
        population_.generation % options_.checkpoint_every == 0 || done() ||
        (options_.checkpoint_seconds > 0 &&
         std::chrono::duration<double>(Clock::now() - last_save).count() >= options_.checkpoint_seconds);
    if (!options_.checkpoint.empty() && due) {
      save(options_.checkpoint);
      last_save = Clock::now();
    }
    if (progress) progress(*this);
  }
}

std::string Driver::fingerprint() const {
  const DesignSpace& space = algorithm_.space();
  const Problem& pb = space.problem();
  std::string objectives;
  for (Objective o : evaluator_.objectives().list()) objectives += std::string(to_string(o)) + ",";
  std::string constraints;
  for (const Constraint& c : evaluator_.constraints()) constraints += c.str() + ";";
  // The design space too: a population of another space would be resumed outside this one.
  const SpaceOptions& so = space.options();
  std::string dims = std::string("policy=") + (so.search_policy ? "search" : to_string(so.policy)) +
                     ",exits=" + (so.search_exits ? "search" : "on") +
                     ",dvfs=" + (so.search_dvfs ? "search" : "off") +
                     ",threads=" + (so.search_threads ? "search" : "off");
  if (space.searches_thresholds()) {
    dims += ",thresholds=";
    for (double t : space.threshold_values()) dims += fmt::format("{};", t);
  }
  // The parts fingerprint_difference() names, in this order.
  std::string out = pb.model().name + "|" + pb.platform().name + "|" + std::to_string(pb.layers()) +
                    "|" + objectives + "|" + constraints + "|" + dims;
  const std::string own = algorithm_.fingerprint();
  return own.empty() ? out : out + "|" + own;
}

void Driver::save(const std::string& path) const {
  nlohmann::json j;
  j["format"] = std::string("hetmap-") + algorithm_.name() + kFormatVersion;
  j["fingerprint"] = fingerprint();
  j["generation"] = population_.generation;
  j["evaluations"] = population_.evaluations;
  algorithm_.save(j);
  j["population"] = nlohmann::json::array();
  for (const Individual& ind : population_.individuals) j["population"].push_back(individual_json(ind));
  j["archive"] = nlohmann::json::array();
  for (const Individual& ind : archive_.points()) j["archive"].push_back(individual_json(ind));
  detail::write_file_atomic(path, j.dump() + "\n");
}

bool Driver::resume(const std::string& path) {
  if (!std::filesystem::exists(path)) return false;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(detail::read_file(path));
  } catch (const nlohmann::json::exception& e) {  // a syntax error, or a number past any double
    throw InputError(path, 0, "not a readable JSON document (truncated or damaged?): " + parse_message(e));
  }
  const JsonField root(j, path);
  const std::string format = std::string("hetmap-") + algorithm_.name() + kFormatVersion;
  if (!root.has("format") || root.at("format").json() != format)
    throw InputError(path, 0, std::string("not a hetmap ") + algorithm_.name() +
                                  " checkpoint (expected the format '" + format + "', got " +
                                  (root.has("format") ? root.at("format").json().dump() : "none") + ")");
  if (const std::string saved = root.at("fingerprint").text(), current = fingerprint(); saved != current)
    throw InputError(path, 0, "checkpoint of another run: " + fingerprint_difference(saved, current) +
                                  " (resume with the settings it was written with, or start afresh)");

  // Everything is read and checked before anything changes: a refused checkpoint leaves the
  // driver and the algorithm as they were.
  const DesignSpace& space = algorithm_.space();
  const ObjectiveSet& objectives = evaluator_.objectives();
  Population population;
  population.generation =
      static_cast<int>(root.at("generation").integer(0, std::numeric_limits<int>::max()));
  population.evaluations =
      root.at("evaluations").integer(0, std::numeric_limits<std::int64_t>::max());
  const JsonField individuals = root.at("population");
  population.individuals = individuals_from_json(individuals, space, objectives);
  if (const std::string why = algorithm_.check(population); !why.empty()) root.fail_within(why);
  check_evaluations(individuals, population.individuals, evaluator_);

  // The archive as saved: points that satisfy the constraints, none equal to or dominated by
  // another (offered in order, each must enter and remove nothing).
  const JsonField points = root.at("archive");
  const std::vector<Individual> archived = individuals_from_json(points, space, objectives);
  check_evaluations(points, archived, evaluator_);
  Archive archive;
  for (std::size_t i = 0; i < archived.size(); ++i) {
    if (!archived[i].satisfies())
      points.item(i).fail("infeasible or outside the constraints: an archive holds no such point");
    const std::size_t before = archive.size();
    if (!archive.offer(archived[i]))
      points.item(i).fail("its objectives equal or are dominated by another archived point's");
    if (archive.size() != before + 1)
      points.item(i).fail("its objectives dominate another archived point's");
  }
  // Every evaluated point was offered to the archive, so none of the population can enter it.
  for (std::size_t i = 0; i < population.individuals.size(); ++i)
    if (archive.admits(population.individuals[i]))
      individuals.item(i).fail("satisfies the constraints, but no archived point equals or "
                               "dominates it: the archive is not the one of this population");

  algorithm_.restore(root);
  population_ = std::move(population);
  archive_ = std::move(archive);
  return true;
}

}  // namespace hetmap::dse
