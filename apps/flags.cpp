#include "flags.hpp"

#include <optional>
#include <string>

#include "hetmap/detail/number.hpp"
#include "hetmap/detail/random.hpp"

namespace hetmap::cli {

CLI::Option* add_bool_flag(CLI::App* cmd, const std::string& name, bool& value,
                           const std::string& help) {
  // CLI11 hands a flag given alone to its validators as "true".
  const CLI::Validator rule(
      [](std::string& text) -> std::string {
        if (detail::parse_bool(text)) return "";
        return "expected true or false, got '" + text + "'";
      },
      "", "boolean");
  return cmd->add_flag(name, value, help)->check(rule);
}

CLI::Option* add_seed_option(CLI::App* cmd, const std::string& name, std::uint64_t& seed,
                             const std::string& help) {
  // CLI11 would read "-1" into an unsigned as 2^64 - 1; the experiment key's range applies.
  const CLI::Validator rule(
      [](std::string& text) -> std::string {
        const std::optional<long long> v = detail::parse_integer(text);
        if (v && *v >= 0 && *v <= detail::kMaxSeed) return "";
        return "expected an integer in 0.." + std::to_string(detail::kMaxSeed) + ", got '" + text + "'";
      },
      "", "seed");
  return cmd->add_option(name, seed, help)->check(rule);
}

}  // namespace hetmap::cli
