#include "flags.hpp"

#include "hetmap/detail/number.hpp"

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

}  // namespace hetmap::cli
