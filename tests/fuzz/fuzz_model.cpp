// libFuzzer target: model YAML (parse_model, docs/formats.md "Model"). A bad model is an
// InputError. A model that loads has its static cost computed (cost.hpp: what `hetmap
// estimate` and the backends read) and is simulated on the example platform, every layer
// profiled at 1 ms on every processor: all on the host, all on the GPU, and alternating
// between them in parallel, through the analytical evaluator and the DES. So the fuzzer also
// explores the graphs the evaluator and the simulator must handle (blocks, concats, adds,
// exits). Anything but a hetmap::Error there is a defect.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_support.hpp"
#include "hetmap/cost.hpp"
#include "hetmap/error.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"
#include "hetmap/profile.hpp"

namespace {

// A CSV cell holding `s` exactly (RFC 4180, docs/formats.md "Profile").
std::string cell(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void simulate_model(const hetmap::Model& model) {
  using namespace hetmap;
  const Platform& platform = fuzz::example_platform();
  std::string csv = "layer,processor,mean_ms,std_ms\n";
  for (const Layer& l : model.layers)
    for (const Processor& p : platform.processors) csv += cell(l.name) + "," + p.name + ",1,0.1\n";
  std::optional<Problem> problem;
  fuzz::expect<Error>([&] {
    problem.emplace(model, platform, parse_profile(csv, "profile.csv", model, platform));
  });
  if (!problem) return;
  for (int variant = 0; variant < 3; ++variant) {
    Mapping m;
    m.model = model.name;
    m.platform = platform.name;
    m.policy = variant == 2 ? Policy::parallel : Policy::sequential;
    m.default_proc = variant == 0 ? "big" : "gpu";
    if (variant == 2)
      for (std::size_t i = 0; i < model.layers.size(); i += 2)
        if (model.layers[i].exit < 0) m.assign[model.layers[i].name] = {"big", 0};
    std::optional<Config> config;
    fuzz::expect<Error>([&] { config = problem->resolve(m); });
    if (config) fuzz::simulate(*problem, *config, "mapping.yaml");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hetmap;
  const std::string text = fuzz::text_of(data, size);
  std::optional<Model> model;
  fuzz::expect<InputError>([&] { model = parse_model(text, "fuzz.yaml"); });
  if (!model) return 0;
  for (std::size_t i = 0; i < model->layers.size(); ++i) layer_cost(*model, static_cast<int>(i));
  backbone_cost(*model);
  simulate_model(*model);
  return 0;
}
