// `hetmap info`: what the model loader makes of a model file — every top-level layer with its
// inputs, inferred output shape and tensor bytes. Scripts (scripts/convert-board-data.py) read
// the JSON form instead of re-implementing shape inference.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "flags.hpp"
#include "hetmap/model.hpp"
#include "hetmap/report.hpp"

namespace hetmap::cli {

namespace {

Json model_info(const Model& model) {
  Json layers = Json::array();
  for (const Layer& l : model.layers) {
    Json inputs = Json::array();
    for (int i : l.inputs) inputs.push_back(i);  // -1 = the model input
    layers.push_back({{"name", l.name},
                      {"op", to_string(l.kind)},
                      {"exit", l.exit < 0 ? Json(nullptr) : Json(model.exits[l.exit].name)},
                      {"inputs", inputs},
                      {"out", l.out.dims},
                      {"bytes", l.out.bytes()}});
  }
  Json exits = Json::array();
  for (const Exit& e : model.exits) exits.push_back(e.name);
  return {{"name", model.name},
          {"input", model.input.dims},
          {"input_bytes", model.input.bytes()},
          {"final", model.layers[model.final_layer()].name},
          {"exits", exits},
          {"layers", layers}};
}

}  // namespace

Action add_info(CLI::App& app) {
  auto model_path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("info", "Show a model's layers, output shapes and tensor sizes");
  cmd->add_option("-m,--model", *model_path, "model YAML")->required();
  add_bool_flag(cmd, "--json", *json, "print JSON instead of a table");
  return [=]() -> int {
    if (!cmd->parsed()) return -1;
    const Model model = load_model(*model_path);
    if (*json) {
      std::cout << model_info(model).dump(2) << "\n";
      return kOk;
    }
    std::cout << fmt::format("{}: input {} ({} bytes), {} layers, {} exits\n", model.name,
                             model.input.str(), model.input.bytes(), model.layers.size(),
                             model.exits.size());
    std::cout << fmt::format("{:>4}  {:<24} {:<8} {:<16} {:>12}\n", "#", "layer", "op", "out",
                             "bytes");
    for (std::size_t i = 0; i < model.layers.size(); ++i) {
      const Layer& l = model.layers[i];
      std::cout << fmt::format("{:>4}  {:<24} {:<8} {:<16} {:>12}\n", i, l.name,
                               to_string(l.kind), l.out.str(), l.out.bytes());
    }
    return kOk;
  };
}

}  // namespace hetmap::cli
