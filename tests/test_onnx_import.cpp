// `hetmap import` (docs/import.md): ONNX models built here with the ONNX protobuf API, imported
// with the library and the CLI, and loaded back with hetmap's model loader; errors name the
// node and exit with 2, writing nothing.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/cost.hpp"
#include "hetmap/error.hpp"
#include "hetmap/model.hpp"
#include "hetmap/onnx_import.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using test::quote;
using test::run_hetmap;
using test::slurp;
using test::temp_dir;
using test::write_file;
using Dims = std::vector<std::int64_t>;

// Builds an ONNX model node by node. Weights are zero-filled initializers: the import reads
// only their shapes.
class OnnxBuilder {
 public:
  explicit OnnxBuilder(Dims input = {1, 3, 32, 32}, int opset = 13) {
    model_.set_ir_version(8);
    model_.set_producer_name("hetmap-test");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    graph()->set_name("test");
    auto* in = graph()->add_input();
    in->set_name("x");
    auto* t = in->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (auto d : input) t->mutable_shape()->add_dim()->set_dim_value(d);
  }

  onnx::GraphProto* graph() { return model_.mutable_graph(); }
  onnx::ModelProto& model() { return model_; }

  std::string weight(const std::string& name, const Dims& dims) {
    auto* w = graph()->add_initializer();
    w->set_name(name);
    w->set_data_type(onnx::TensorProto::FLOAT);
    std::int64_t n = 1;
    for (auto d : dims) {
      w->add_dims(d);
      n *= d;
    }
    for (std::int64_t i = 0; i < n; ++i) w->add_float_data(0.0f);
    return name;
  }

  std::string int64s(const std::string& name, const Dims& values) {
    auto* w = graph()->add_initializer();
    w->set_name(name);
    w->set_data_type(onnx::TensorProto::INT64);
    w->add_dims(static_cast<std::int64_t>(values.size()));
    for (auto v : values) w->add_int64_data(v);
    return name;
  }

  std::string scalar(const std::string& name, float v) {
    auto* w = graph()->add_initializer();
    w->set_name(name);
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_float_data(v);
    return name;
  }

  // A node named `name` whose one output is also called `name`.
  onnx::NodeProto& node(const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs) {
    auto* n = graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& in : inputs) n->add_input(in);
    n->add_output(name);
    return *n;
  }

  static void ints(onnx::NodeProto& n, const std::string& name, const Dims& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void integer(onnx::NodeProto& n, const std::string& name, std::int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void real(onnx::NodeProto& n, const std::string& name, float v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void text(onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }

  std::string conv(const std::string& name, const std::string& x, int in_ch, int filters, int k,
                   int stride = 1, int pad = 0, int group = 1) {
    auto& n = node("Conv", name, {x, weight(name + ".w", {filters, in_ch / group, k, k}),
                                  weight(name + ".b", {filters})});
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {stride, stride});
    ints(n, "pads", {pad, pad, pad, pad});
    if (group != 1) integer(n, "group", group);
    return name;
  }
  std::string batchnorm(const std::string& name, const std::string& x, int ch) {
    node("BatchNormalization", name, {x, weight(name + ".scale", {ch}), weight(name + ".bias", {ch}),
                                      weight(name + ".mean", {ch}), weight(name + ".var", {ch})});
    return name;
  }
  std::string unary(const std::string& op, const std::string& name, const std::string& x) {
    node(op, name, {x});
    return name;
  }
  std::string pool(const std::string& op, const std::string& name, const std::string& x, int k,
                   int stride, int pad = 0) {
    auto& n = node(op, name, {x});
    ints(n, "kernel_shape", {k, k});
    ints(n, "strides", {stride, stride});
    if (pad) ints(n, "pads", {pad, pad, pad, pad});
    return name;
  }
  std::string gemm(const std::string& name, const std::string& x, int in, int units) {
    auto& n = node("Gemm", name, {x, weight(name + ".w", {units, in}), weight(name + ".b", {units})});
    integer(n, "transB", 1);
    return name;
  }
  std::string flatten(const std::string& name, const std::string& x) {
    auto& n = node("Flatten", name, {x});
    integer(n, "axis", 1);
    return name;
  }

  void output(const std::string& name) {
    auto* o = graph()->add_output();
    o->set_name(name);
    o->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }

  std::string save(const std::string& file) const {
    std::string bytes;
    EXPECT_TRUE(model_.SerializeToString(&bytes));
    return write_file(dir_, file, bytes);
  }

 private:
  onnx::ModelProto model_;
  std::string dir_ = temp_dir();
};

// conv-bn-relu-pool x2, global pool, flatten, fc, softmax.
OnnxBuilder small_cnn() {
  OnnxBuilder b;
  std::string t = b.conv("conv1", "x", 3, 16, 3, 1, 1);
  t = b.batchnorm("bn1", t, 16);
  t = b.unary("Relu", "relu1", t);
  t = b.pool("MaxPool", "pool1", t, 2, 2);
  t = b.conv("conv2", t, 16, 32, 3, 1, 1);
  t = b.unary("Relu", "relu2", t);
  t = b.unary("GlobalAveragePool", "gap", t);
  t = b.flatten("flat", t);
  t = b.gemm("fc", t, 32, 10);
  t = b.unary("Softmax", "prob", t);
  b.output(t);
  return b;
}

const Layer& layer(const Model& m, const std::string& name) {
  const int i = m.find_layer(name);
  if (i < 0) throw std::runtime_error("no layer " + name);
  return m.layers[i];
}

std::vector<std::string> backbone_names(const Model& m) {
  std::vector<std::string> names;
  for (int i : m.backbone) names.push_back(m.layers[i].name);
  return names;
}

std::vector<std::string> input_names(const Model& m, const std::string& name) {
  std::vector<std::string> names;
  for (int i : layer(m, name).inputs) names.push_back(i < 0 ? "input" : m.layers[i].name);
  return names;
}

// Real exporter output: torchvision models written by PyTorch 1.13 (onnx/testdata/README.md).
// Their MACs, counted by forward hooks on the PyTorch model, must be what hetmap computes from
// the imported shapes; without BatchNormalization (folded into convs at export) so must the
// parameter count.
struct TorchvisionCase {
  const char* file;
  std::int64_t macs, params;  // params < 0: BatchNormalization folded, not comparable
  std::size_t layers;
};

class OnnxImportTorchvision : public ::testing::TestWithParam<TorchvisionCase> {};

TEST_P(OnnxImportTorchvision, MacsMatchPyTorch) {
  const TorchvisionCase& c = GetParam();
  const OnnxImport r = import_onnx(test::source_path(std::string("onnx/testdata/") + c.file));
  const OpCost cost = backbone_cost(r.model);
  EXPECT_EQ(cost.macs, c.macs);
  if (c.params >= 0) {
    EXPECT_EQ(cost.params, c.params);
  }
  EXPECT_EQ(r.model.layers.size(), c.layers);
  EXPECT_EQ(r.model.layers[r.model.final_layer()].out.dims, (Dims{1000}));
  EXPECT_TRUE(r.notes.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Exported, OnnxImportTorchvision,
    ::testing::Values(TorchvisionCase{"alexnet.onnx", 714188480, 61100840, 20},
                      TorchvisionCase{"squeezenet1_0.onnx", 818924576, 1248424, 65},
                      TorchvisionCase{"resnet18.onnx", 1814073344, -1, 49},
                      TorchvisionCase{"mobilenet_v2.onnx", 300774272, -1, 100},
                      TorchvisionCase{"googlenet.onnx", 1498376192, -1, 139},
                      TorchvisionCase{"inception_v3.onnx", 5713216096, -1, 215}),
    [](const auto& info) {
      std::string name = info.param.file;
      return name.substr(0, name.find('.'));
    });

TEST(OnnxImport, PyTorchNamesDepthwiseAndPad) {
  const Model mobilenet = import_onnx(test::source_path("onnx/testdata/mobilenet_v2.onnx")).model;
  int dw = 0;
  for (const Layer& l : mobilenet.layers) dw += l.kind == OpKind::dwconv;
  EXPECT_EQ(dw, 17);  // one per inverted residual block
  EXPECT_GE(mobilenet.find_layer("features_features.0_features.0.0_Conv"), 0);  // "/features/..."

  // avg_pool2d(x, 3, stride=1, padding=1): Pad + AveragePool in ONNX, one avgpool in hetmap.
  const Model inception = import_onnx(test::source_path("onnx/testdata/inception_v3.onnx")).model;
  const Layer& pool = layer(inception, "Mixed_5b_AveragePool");
  EXPECT_EQ(pool.pad_h, 1);
  EXPECT_EQ(pool.out.dims, (Dims{192, 35, 35}));
}

TEST(OnnxImport, PyTorchEarlyExitNetwork) {
  const std::string file = test::source_path("onnx/testdata/ee3-pytorch.onnx");
  const Model m = import_onnx(file).model;
  ASSERT_EQ(m.exits.size(), 2u);
  EXPECT_EQ(m.exits[0].name, "exit1");
  EXPECT_EQ(m.layers[m.exits[0].after].name, "b1_b1.2_Relu");
  EXPECT_EQ(m.exits[1].name, "exit2");
  EXPECT_EQ(m.layers[m.exits[1].after].name, "b2_b2.2_Relu");
  EXPECT_EQ(m.exits[1].layers.size(), 5u);
  EXPECT_EQ(m.backbone.size(), 11u);
  EXPECT_EQ(m.layers[m.final_layer()].out.dims, (Dims{10}));

  // --final exit2: the rest of the backbone (b3) is no exit of its own but shares nothing
  // with exit1, so it becomes an exit after the fork.
  const auto r = run_hetmap("import " + quote(file) + " --final exit2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Model m2 = parse_model(r.out, "stdout");
  EXPECT_EQ(m2.layers[m2.final_layer()].name, "e2_e2.4_Gemm");
  ASSERT_EQ(m2.exits.size(), 2u);
  EXPECT_EQ(m2.exits[1].name, "final_2");  // "final" is reserved for the final output
}

TEST(OnnxImport, PyTorchViewAndRelu6) {
  const OnnxImport r = import_onnx(test::source_path("onnx/testdata/view-pytorch.onnx"));
  std::vector<std::string> ops;
  for (const Layer& l : r.model.layers) ops.push_back(to_string(l.kind));
  EXPECT_EQ(ops, (std::vector<std::string>{"conv", "relu", "relu", "flatten", "fc"}));
  EXPECT_EQ(r.model.layers[3].out.dims, (Dims{7200}));
}

// Runs `hetmap import` on a model that must be refused: exit 2, the message, no output file.
void expect_refused(const std::string& file, const std::string& message) {
  const std::string out = temp_dir() + "/out.yaml";
  const auto r = run_hetmap("import " + quote(file) + " -o " + quote(out));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(OnnxImport, SmallCnnLayersOpsAndShapes) {
  const std::string file = small_cnn().save("small-cnn.onnx");
  const OnnxImport r = import_onnx(file);
  const Model& m = r.model;
  EXPECT_EQ(m.name, "small-cnn");
  EXPECT_EQ(m.input.dims, (Dims{3, 32, 32}));
  EXPECT_EQ(backbone_names(m), (std::vector<std::string>{"conv1", "bn1", "relu1", "pool1", "conv2",
                                                         "relu2", "gap", "flat", "fc", "prob"}));
  EXPECT_TRUE(m.exits.empty());
  const Layer& conv1 = layer(m, "conv1");
  EXPECT_EQ(conv1.kind, OpKind::conv);
  EXPECT_EQ(conv1.filters, 16);
  EXPECT_EQ(conv1.kernel_h, 3);
  EXPECT_EQ(conv1.pad_h, 1);
  EXPECT_EQ(conv1.out.dims, (Dims{16, 32, 32}));
  EXPECT_EQ(layer(m, "bn1").kind, OpKind::batchnorm);
  EXPECT_EQ(layer(m, "relu1").kind, OpKind::relu);
  EXPECT_EQ(layer(m, "pool1").kind, OpKind::maxpool);
  EXPECT_EQ(layer(m, "pool1").out.dims, (Dims{16, 16, 16}));
  EXPECT_EQ(layer(m, "conv2").out.dims, (Dims{32, 16, 16}));
  EXPECT_TRUE(layer(m, "gap").global);
  EXPECT_EQ(layer(m, "gap").out.dims, (Dims{32, 1, 1}));
  EXPECT_EQ(layer(m, "flat").kind, OpKind::flatten);
  EXPECT_EQ(layer(m, "fc").kind, OpKind::fc);
  EXPECT_EQ(layer(m, "fc").out.dims, (Dims{10}));
  EXPECT_EQ(layer(m, "prob").kind, OpKind::softmax);
  // The YAML says where it comes from and which hetmap wrote it.
  EXPECT_NE(r.yaml.find("# Imported from " + file + " by hetmap " HETMAP_VERSION), std::string::npos)
      << r.yaml;
  EXPECT_EQ(r.yaml.find("exits:"), std::string::npos);
  EXPECT_TRUE(r.notes.empty());
}

TEST(OnnxImport, CliWritesTheYamlThatTheLoaderReads) {
  const std::string file = small_cnn().save("cnn.onnx");
  const std::string out = temp_dir() + "/models/cnn.yaml";
  const auto r = run_hetmap("import " + quote(file) + " -o " + quote(out) + " --name my-cnn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("10 backbone layers"), std::string::npos) << r.out;
  const Model m = load_model(out);
  EXPECT_EQ(m.name, "my-cnn");
  EXPECT_EQ(m.layers.size(), 10u);
  EXPECT_NE(slurp(out).find("hetmap " HETMAP_VERSION), std::string::npos);

  // -o - (the default): the YAML on stdout, nothing else.
  const auto s = run_hetmap("import " + quote(file));
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(parse_model(s.out, "stdout").layers.size(), 10u);
}

TEST(OnnxImport, ResidualAdd) {
  OnnxBuilder b({1, 8, 16, 16});
  std::string t = b.conv("c1", "x", 8, 8, 3, 1, 1);
  t = b.unary("Relu", "r1", t);
  const std::string c2 = b.conv("c2", t, 8, 8, 3, 1, 1);
  b.node("Add", "sum", {c2, "x"});
  b.output(b.unary("Relu", "out", "sum"));
  b.unary("Relu", "unused", "c1");  // feeds no output: left out, with a note
  const OnnxImport r = import_onnx(b.save("res.onnx"));
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_EQ(r.notes[0], "1 layer(s) feed no graph output and were left out: unused");
  const Model& m = r.model;
  EXPECT_EQ(m.find_layer("unused"), -1);
  const Layer& add = layer(m, "sum");
  EXPECT_EQ(add.kind, OpKind::add);
  EXPECT_EQ(input_names(m, "sum"), (std::vector<std::string>{"c2", "input"}));
  EXPECT_EQ(add.out.dims, (Dims{8, 16, 16}));
}

TEST(OnnxImport, ConcatAxisIsRelativeToTheSample) {
  OnnxBuilder b({1, 3, 16, 16});
  const std::string a = b.conv("a", "x", 3, 4, 1);
  const std::string c = b.conv("c", "x", 3, 6, 3, 1, 1);
  auto& cat = b.node("Concat", "cat", {a, c});
  OnnxBuilder::integer(cat, "axis", -3);  // channels of [N, C, H, W]
  auto& wide = b.node("Concat", "wide", {"cat", "cat"});
  OnnxBuilder::integer(wide, "axis", 3);  // width
  b.output("wide");
  const Model m = import_onnx(b.save("cat.onnx")).model;
  EXPECT_EQ(layer(m, "cat").kind, OpKind::concat);
  EXPECT_EQ(layer(m, "cat").axis, 0);
  EXPECT_EQ(layer(m, "cat").out.dims, (Dims{10, 16, 16}));
  EXPECT_EQ(input_names(m, "cat"), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(layer(m, "wide").axis, 2);
  EXPECT_EQ(layer(m, "wide").out.dims, (Dims{10, 16, 32}));
}

TEST(OnnxImport, DepthwiseAndGroupedConvolutions) {
  OnnxBuilder b({1, 8, 16, 16});
  std::string t = b.conv("dw", "x", 8, 8, 3, 2, 1, 8);
  t = b.conv("dw2", t, 8, 16, 3, 1, 1, 8);  // channel multiplier 2
  t = b.conv("grouped", t, 16, 16, 1, 1, 0, 4);
  b.output(t);
  const Model m = import_onnx(b.save("dw.onnx")).model;
  EXPECT_EQ(layer(m, "dw").kind, OpKind::dwconv);
  EXPECT_EQ(layer(m, "dw").out.dims, (Dims{8, 8, 8}));
  EXPECT_EQ(layer(m, "dw2").kind, OpKind::dwconv);
  EXPECT_EQ(layer(m, "dw2").filters, 16);
  EXPECT_EQ(layer(m, "grouped").kind, OpKind::conv);
  EXPECT_EQ(layer(m, "grouped").groups, 4);
  EXPECT_EQ(layer(m, "grouped").out.dims, (Dims{16, 8, 8}));
}

// Backbone conv-relu-pool-conv-relu-gap-flatten-fc; exit after relu1: gap-flatten-fc.
OnnxBuilder early_exit_net(bool final_last) {
  OnnxBuilder b;
  std::string t = b.conv("conv1", "x", 3, 8, 3, 1, 1);
  const std::string fork = b.unary("Relu", "relu1", t);
  t = b.pool("MaxPool", "pool1", fork, 2, 2);
  t = b.conv("conv2", t, 8, 16, 3, 1, 1);
  t = b.unary("Relu", "relu2", t);
  t = b.unary("GlobalAveragePool", "gap", t);
  t = b.flatten("flat", t);
  const std::string fin = b.gemm("logits", t, 16, 10);
  std::string e = b.unary("GlobalAveragePool", "e_gap", fork);
  e = b.flatten("e_flat", e);
  const std::string ex = b.gemm("exit_logits", e, 8, 10);
  if (final_last) {
    b.output(ex);
    b.output(fin);
  } else {
    b.output(fin);
    b.output(ex);
  }
  return b;
}

TEST(OnnxImport, SecondOutputBecomesAnExitAfterTheFork) {
  const OnnxImport r = import_onnx(early_exit_net(true).save("ee.onnx"));
  const Model& m = r.model;
  EXPECT_EQ(backbone_names(m), (std::vector<std::string>{"conv1", "relu1", "pool1", "conv2",
                                                         "relu2", "gap", "flat", "logits"}));
  ASSERT_EQ(m.exits.size(), 1u);
  const Exit& e = m.exits[0];
  EXPECT_EQ(e.name, "exit_logits");
  EXPECT_EQ(m.layers[e.after].name, "relu1");
  ASSERT_EQ(e.layers.size(), 3u);
  EXPECT_EQ(m.layers[e.layers[0]].name, "e_gap");
  EXPECT_EQ(m.layers[e.layers[2]].out.dims, (Dims{10}));
  // The share is left to the user, never invented.
  EXPECT_EQ(e.taken, 0.0);
  EXPECT_NE(r.yaml.find("taken: 0  # fill in"), std::string::npos) << r.yaml;
}

TEST(OnnxImport, FinalPicksTheFinalOutput) {
  const std::string file = early_exit_net(false).save("ee2.onnx");
  // By default the last output is the final one: here the exit's, whose path shares nothing
  // with 'logits' but conv1 and relu1, so 'logits' would become the exit.
  OnnxImportOptions o;
  o.final_output = "logits";
  const Model m = import_onnx(file, o).model;
  EXPECT_EQ(m.layers[m.final_layer()].name, "logits");
  ASSERT_EQ(m.exits.size(), 1u);
  EXPECT_EQ(m.exits[0].name, "exit_logits");

  const auto r = run_hetmap("import " + quote(file) + " --final nope");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--final: 'nope' is not a graph output"), std::string::npos) << r.err;
}

TEST(OnnxImport, OutputOnTheBackboneIsNoExit) {
  OnnxBuilder b({1, 3, 8, 8});
  const std::string c = b.conv("c", "x", 3, 4, 3, 1, 1);
  b.output(c);
  b.output(b.unary("Relu", "r", c));
  try {
    import_onnx(b.save("two.onnx"));
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("graph output 'c' has no layers of its own"),
              std::string::npos) << e.what();
  }
}

TEST(OnnxImport, PassThroughNodesAndFoldedBias) {
  OnnxBuilder b({1, 4, 6, 6}, 13);
  std::string t = b.unary("Identity", "id", "x");
  t = b.conv("c", t, 4, 4, 3, 1, 1);
  auto& clip = b.node("Clip", "relu6", {t, b.scalar("zero", 0.0f), b.scalar("six", 6.0f)});
  (void)clip;
  t = b.unary("Dropout", "drop", "relu6");
  auto& reshape = b.node("Reshape", "view", {t, b.int64s("shape", {1, -1})});
  (void)reshape;
  b.node("MatMul", "mm", {"view", b.weight("mm.w", {144, 5})});
  b.node("Add", "mm_bias", {"mm", b.weight("mm.b", {5})});
  b.output("mm_bias");
  const OnnxImport r = import_onnx(b.save("misc.onnx"));
  const Model& m = r.model;
  EXPECT_EQ(backbone_names(m), (std::vector<std::string>{"c", "relu6", "view", "mm"}));
  EXPECT_EQ(layer(m, "relu6").kind, OpKind::relu);
  EXPECT_NE(r.yaml.find("ONNX Clip(0, 6) = ReLU6: imported as relu"), std::string::npos) << r.yaml;
  EXPECT_EQ(layer(m, "view").kind, OpKind::flatten);
  EXPECT_EQ(layer(m, "mm").kind, OpKind::fc);
  EXPECT_EQ(layer(m, "mm").units, 5);
}

// torch.onnx's `x.view(x.size(0), -1)`: the target shape is computed from the data's shape.
TEST(OnnxImport, ReshapeToAComputedShapeIsFlatten) {
  OnnxBuilder b({1, 4, 3, 3});
  b.node("Shape", "shape", {"x"});
  auto& gather = b.node("Gather", "batch", {"shape", b.int64s("zero", {0})});
  OnnxBuilder::integer(gather, "axis", 0);
  b.node("Concat", "target", {"batch", b.int64s("rest", {-1})});
  OnnxBuilder::integer(*b.graph()->mutable_node(2), "axis", 0);
  b.node("Reshape", "view", {"x", "target"});
  b.output(b.gemm("fc", "view", 36, 3));
  const Model m = import_onnx(b.save("view.onnx")).model;
  EXPECT_EQ(backbone_names(m), (std::vector<std::string>{"view", "fc"}));
  EXPECT_EQ(layer(m, "view").kind, OpKind::flatten);
  EXPECT_EQ(layer(m, "view").out.dims, (Dims{36}));
}

// PyTorch writes avg_pool2d(padding=1, count_include_pad=True) as Pad + AveragePool.
TEST(OnnxImport, PadIsFoldedIntoThePoolThatReadsIt) {
  OnnxBuilder b({1, 4, 8, 8});
  b.node("Pad", "pad", {"x", b.int64s("pads", {0, 0, 1, 1, 0, 0, 1, 1})});
  b.pool("AveragePool", "avg", "pad", 3, 1);
  b.node("Pad", "nopad", {"avg", b.int64s("zeros", {0, 0, 0, 0, 0, 0, 0, 0})});
  b.output(b.unary("Relu", "r", "nopad"));
  const OnnxImport r = import_onnx(b.save("pad.onnx"));
  EXPECT_EQ(backbone_names(r.model), (std::vector<std::string>{"avg", "r"}));
  EXPECT_EQ(layer(r.model, "avg").pad_h, 1);
  EXPECT_EQ(layer(r.model, "avg").out.dims, (Dims{4, 8, 8}));
  EXPECT_NE(r.yaml.find("includes the padding of the ONNX Pad"), std::string::npos) << r.yaml;

  OnnxBuilder lone({1, 4, 8, 8});
  lone.node("Pad", "pad", {"x", lone.int64s("pads", {0, 0, 1, 1, 0, 0, 1, 1})});
  lone.output(lone.unary("Relu", "r", "pad"));
  expect_refused(lone.save("lone-pad.onnx"), "node 'pad' (Pad): pads [0, 0, 1, 1, 0, 0, 1, 1]: "
                                             "hetmap has no pad op");
}

TEST(OnnxImport, LrnSumGlobalMaxPoolSqueezeAndGemm) {
  OnnxBuilder b({1, 6, 8, 8}, 11);  // opset 11: Squeeze takes axes as an attribute
  auto& lrn = b.node("LRN", "norm", {"x"});
  OnnxBuilder::integer(lrn, "size", 3);
  OnnxBuilder::real(lrn, "alpha", 2e-4f);
  b.node("Sum", "sum3", {"norm", "x", "norm"});
  b.unary("GlobalMaxPool", "gmp", "sum3");
  auto& squeeze = b.node("Squeeze", "sq", {"gmp"});
  OnnxBuilder::ints(squeeze, "axes", {2, 3});
  b.node("Gemm", "fc", {"sq", b.weight("fc.w", {6, 4})});  // transB = 0: [K, N]
  b.output(b.unary("Softmax", "prob", "fc"));
  const OnnxImport r = import_onnx(b.save("more.onnx"));
  const Model& m = r.model;
  EXPECT_EQ(layer(m, "norm").kind, OpKind::lrn);
  EXPECT_EQ(layer(m, "norm").lrn_size, 3);
  EXPECT_FLOAT_EQ(static_cast<float>(layer(m, "norm").lrn_alpha), 2e-4f);
  EXPECT_NE(r.yaml.find("size: 3, alpha: 0.0002}"), std::string::npos) << r.yaml;
  EXPECT_EQ(input_names(m, "sum3"), (std::vector<std::string>{"norm", "input", "norm"}));
  EXPECT_EQ(layer(m, "gmp").kind, OpKind::maxpool);
  EXPECT_TRUE(layer(m, "gmp").global);
  EXPECT_EQ(layer(m, "sq").kind, OpKind::flatten);
  EXPECT_EQ(layer(m, "fc").units, 4);
  EXPECT_EQ(layer(m, "prob").out.dims, (Dims{4}));
}

TEST(OnnxImport, SymbolicBatchIsOne) {
  OnnxBuilder b({1, 3, 8, 8});
  auto* dim = b.graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
                  ->mutable_dim(0);
  dim->set_dim_param("N");
  b.output(b.conv("c", "x", 3, 4, 3));
  EXPECT_EQ(import_onnx(b.save("dyn.onnx")).model.layers[0].out.dims, (Dims{4, 6, 6}));
}

TEST(OnnxImport, PoolingAttributesAndCeilMode) {
  OnnxBuilder b({1, 4, 15, 15});
  auto& p = b.node("MaxPool", "p", {"x"});
  OnnxBuilder::ints(p, "kernel_shape", {3, 3});
  OnnxBuilder::ints(p, "strides", {2, 2});
  OnnxBuilder::integer(p, "ceil_mode", 1);
  auto& a = b.node("AveragePool", "a", {"p"});
  OnnxBuilder::ints(a, "kernel_shape", {3, 3});
  OnnxBuilder::text(a, "auto_pad", "SAME_UPPER");
  b.output("a");
  const Model m = import_onnx(b.save("pool.onnx")).model;
  EXPECT_TRUE(layer(m, "p").ceil);
  EXPECT_EQ(layer(m, "p").out.dims, (Dims{4, 7, 7}));
  EXPECT_EQ(layer(m, "a").kind, OpKind::avgpool);
  EXPECT_EQ(layer(m, "a").pad_h, 1);
  EXPECT_EQ(layer(m, "a").out.dims, (Dims{4, 7, 7}));
}

TEST(OnnxImport, LeakyReluAndNearestUpsample) {
  OnnxBuilder b({1, 4, 8, 8}, 13);
  auto& l = b.node("LeakyRelu", "lrelu", {"x"});
  OnnxBuilder::real(l, "alpha", 0.2f);
  auto& up = b.node("Resize", "up", {"lrelu", "", b.weight("scales", {4})});
  (void)up;
  // Zero-filled scales would be no upsample: set [1, 1, 2, 2].
  auto* scales = b.graph()->mutable_initializer(b.graph()->initializer_size() - 1);
  scales->clear_float_data();
  for (float s : {1.0f, 1.0f, 2.0f, 2.0f}) scales->add_float_data(s);
  OnnxBuilder::text(up, "mode", "nearest");
  b.output("up");
  const Model m = import_onnx(b.save("up.onnx")).model;
  EXPECT_EQ(layer(m, "lrelu").kind, OpKind::leaky_relu);
  EXPECT_FLOAT_EQ(static_cast<float>(layer(m, "lrelu").leaky_alpha), 0.2f);
  EXPECT_EQ(layer(m, "up").kind, OpKind::upsample);
  EXPECT_EQ(layer(m, "up").scale, 2);
  EXPECT_EQ(layer(m, "up").out.dims, (Dims{4, 16, 16}));
}


TEST(OnnxImport, UnsupportedOpNamesTheNode) {
  OnnxBuilder b({1, 3, 8, 8});
  const std::string c = b.conv("c", "x", 3, 4, 3);
  b.output(b.unary("Sigmoid", "gate", c));
  const std::string file = b.save("sigmoid.onnx");
  expect_refused(file, "hetmap: error: " + file + ": node 'gate' (Sigmoid): unsupported op");
}

TEST(OnnxImport, UnsupportedAttributesNameTheNode) {
  {
    OnnxBuilder b({1, 3, 8, 8});
    auto& n = b.node("Conv", "c", {"x", b.weight("w", {4, 3, 2, 2})});
    OnnxBuilder::ints(n, "pads", {0, 0, 1, 1});
    b.output("c");
    const std::string file = b.save("pads.onnx");
    expect_refused(file, file + ": node 'c' (Conv): asymmetric pads [0, 0, 1, 1]");
  }
  {
    OnnxBuilder b({1, 3, 8, 8});
    auto& n = b.node("Conv", "c", {"x", b.weight("w", {4, 3, 3, 3})});
    OnnxBuilder::ints(n, "dilations", {2, 2});
    b.output("c");
    expect_refused(b.save("dil.onnx"), "node 'c' (Conv): dilations [2, 2]");
  }
  {
    OnnxBuilder b({1, 3, 8, 8});
    auto& n = b.node("Resize", "r", {"x", "", b.weight("s", {4})});
    OnnxBuilder::text(n, "mode", "linear");
    b.output("r");
    expect_refused(b.save("linear.onnx"), "node 'r' (Resize): mode 'linear'");
  }
}

TEST(OnnxImport, ACycleIsRefusedNamingItsNodes) {
  OnnxBuilder b({1, 3, 8, 8});
  b.node("Add", "a", {"x", "c"});
  b.unary("Relu", "b", "a");
  b.output(b.unary("Relu", "c", "b"));
  const std::string file = b.save("cycle.onnx");
  expect_refused(file, file + ": the graph has a cycle (ONNX graphs must be acyclic): "
                              "'a' -> 'b' -> 'c' -> 'a'");
}

TEST(OnnxImport, CorruptOrMissingFile) {
  const std::string dir = temp_dir();
  const std::string junk = write_file(dir, "junk.onnx", std::string("\x0a\xff\xff\xff\x0f garbage", 14));
  expect_refused(junk, junk + ": not an ONNX model");
  const std::string empty = write_file(dir, "empty.onnx", "");
  expect_refused(empty, empty + ": not an ONNX model, or an empty one");
  expect_refused(dir + "/missing.onnx", dir + "/missing.onnx: cannot open file");
}

}  // namespace
}  // namespace hetmap
