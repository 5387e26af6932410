// `hetmap import`: an ONNX model -> a hetmap model YAML (docs/import.md). In a build without
// ONNX (HETMAP_ONNX off, docs/building.md) the verb stays listed, so that using it says why it
// cannot work instead of "unknown command"; it then fails with exit code 2.
#include "commands.hpp"
#include "hetmap/error.hpp"

#if HETMAP_WITH_ONNX

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>

#include "hetmap/detail/io.hpp"
#include "hetmap/onnx_import.hpp"

namespace hetmap::cli {

namespace {

struct ImportOptions {
  std::string onnx, out = "-";
  OnnxImportOptions import;
};

int run_import(const ImportOptions& o) {
  detail::check_output_file(o.out, "--out");
  const OnnxImport imported = import_onnx(o.onnx, o.import);
  for (const std::string& note : imported.notes) std::cerr << "hetmap: note: " << note << "\n";
  if (o.out == "-") {
    std::cout << imported.yaml;
    return kOk;
  }
  detail::write_file_atomic(o.out, imported.yaml);
  const Model& m = imported.model;
  std::size_t exit_layers = m.layers.size() - m.backbone.size();
  std::cout << fmt::format("{} -> {}: model '{}', input {}, {} backbone layers", o.onnx, o.out,
                           m.name, m.input.str(), m.backbone.size());
  if (!m.exits.empty())
    std::cout << fmt::format(", {} exits ({} layers; fill in their 'taken' shares)",
                             m.exits.size(), exit_layers);
  std::cout << "\n";
  return kOk;
}

}  // namespace

Action add_import(CLI::App& app) {
  auto o = std::make_shared<ImportOptions>();
  CLI::App* cmd = app.add_subcommand("import", "Convert an ONNX model to a hetmap model YAML");
  cmd->add_option("model", o->onnx, "ONNX model file")->required();
  cmd->add_option("-o,--out", o->out, "write the YAML to FILE (atomically), or - for stdout")
      ->capture_default_str();
  cmd->add_option("--name", o->import.name, "model name (default: the file name without extension)");
  cmd->add_option("--final", o->import.final_output,
                  "graph output that is the final output (default: the last); every other "
                  "output becomes an early exit");
  return [o, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    return run_import(*o);
  };
}

}  // namespace hetmap::cli

#else  // no ONNX

namespace hetmap::cli {

Action add_import(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "import", "Convert an ONNX model to a hetmap model YAML (not in this build: no ONNX)");
  cmd->allow_extras();  // whatever follows, the answer is the same
  return [cmd]() -> int {
    if (!cmd->parsed()) return -1;
    throw InputError("hetmap import", 0,
                     "this build has no ONNX support (rebuild with Protobuf and ONNX installed, "
                     "HETMAP_ONNX=ON; see docs/building.md)");
  };
}

}  // namespace hetmap::cli

#endif
