#include "hetmap/dse/driver.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include "hetmap/detail/io.hpp"
#include "hetmap/error.hpp"

namespace hetmap::dse {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr const char* kFormatVersion = "-checkpoint-2";

nlohmann::json config_json(const Config& c) {
  return {{"policy", c.policy == Policy::parallel ? "parallel" : "sequential"},
          {"proc", c.proc},
          {"exits", std::to_string(c.exits_enabled)},
          {"freq_level", c.freq_level},
          {"threads", c.threads},
          {"thresholds", c.thresholds}};
}

Config config_from_json(const nlohmann::json& j) {
  Config c;
  c.policy = j.at("policy") == "parallel" ? Policy::parallel : Policy::sequential;
  c.proc = j.at("proc").get<std::vector<std::uint8_t>>();
  c.exits_enabled = std::stoull(j.at("exits").get<std::string>());
  c.freq_level = j.at("freq_level").get<std::vector<std::uint8_t>>();
  c.threads = j.at("threads").get<std::vector<std::uint8_t>>();
  c.thresholds = j.at("thresholds").get<std::vector<double>>();
  return c;
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

Individual individual_from_json(const nlohmann::json& j) {
  Individual ind;
  ind.config = config_from_json(j.at("config"));
  for (const auto& v : j.at("f")) ind.f.push_back(v.is_null() ? kInf : v.get<double>());
  ind.violation = j.at("violation").is_null() ? kInf : j.at("violation").get<double>();
  ind.feasible = j.at("feasible").get<bool>();
  // Rank and crowding as selection left them: recomputing them on the population alone would
  // give NSGA-II other crowding distances on its last front, and so other tournaments.
  ind.rank = j.at("rank").get<int>();
  ind.crowding = j.at("crowding").is_null() ? kInf : j.at("crowding").get<double>();
  return ind;
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
  try {
    const nlohmann::json j = nlohmann::json::parse(detail::read_file(path));
    if (j.at("format") != std::string("hetmap-") + algorithm_.name() + kFormatVersion)
      throw InputError(path, 0, std::string("not a hetmap ") + algorithm_.name() + " checkpoint");
    if (j.at("fingerprint") != fingerprint())
      throw InputError(path, 0, "checkpoint of another run (" +
                                    j.at("fingerprint").get<std::string>() + "), expected " +
                                    fingerprint());
    Population population;
    population.generation = j.at("generation").get<int>();
    population.evaluations = j.at("evaluations").get<std::int64_t>();
    algorithm_.restore(j);
    for (const auto& ind : j.at("population")) population.individuals.push_back(individual_from_json(ind));
    // The saved archive is already sorted, distinct and non-dominated: offered in its order,
    // every point enters as it was.
    archive_.clear();
    for (const auto& ind : j.at("archive")) archive_.offer(individual_from_json(ind));
    population_ = std::move(population);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, 0, std::string("corrupt checkpoint: ") + e.what());
  }
  return true;
}

}  // namespace hetmap::dse
