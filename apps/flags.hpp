#pragma once
// Boolean command-line flags, by the one boolean rule hetmap reads everywhere (docs/formats.md,
// "Booleans"): `--dvfs` alone is true, `--dvfs=true` and `--dvfs=false` say it outright, and any
// other spelling (`--dvfs=yes`, `--dvfs=1`) exits 2 naming the flag, as `dvfs: yes` does in an
// experiment file. CLI11's own flags would take yes/no/on/off/1/0/enable/disable and more.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace hetmap::cli {

/// Adds the flag `name` (CLI11 names, e.g. "--dvfs") that sets `value`.
CLI::Option* add_bool_flag(CLI::App* cmd, const std::string& name, bool& value,
                           const std::string& help);

/// Adds the option `name` (e.g. "--seed") that sets `seed`; anything but an integer in
/// 0..detail::kMaxSeed (the range of the experiment keys `search.seed` and `simulate.seed`)
/// exits 2 naming the option.
CLI::Option* add_seed_option(CLI::App* cmd, const std::string& name, std::uint64_t& seed,
                             const std::string& help);

}  // namespace hetmap::cli
