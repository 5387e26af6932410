#include "hetmap/dse/algorithm.hpp"

#include <sstream>

namespace hetmap::dse {

// The standard text form of std::mt19937_64: the same state on every standard library.
void Algorithm::save_rng(nlohmann::json& checkpoint, const std::mt19937_64& rng) {
  std::ostringstream text;
  text << rng;
  checkpoint["rng"] = text.str();
}

void Algorithm::restore_rng(const nlohmann::json& checkpoint, std::mt19937_64& rng) {
  std::istringstream text(checkpoint.at("rng").get<std::string>());
  text >> rng;
}

}  // namespace hetmap::dse
