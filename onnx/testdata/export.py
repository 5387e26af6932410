# Writes the ONNX files of this folder (then stripped of weight data, see README.md).
# Run with Debian 12's python3-torch 1.13.1 and python3-torchvision 0.14.1:
#   /usr/bin/python3 onnx/testdata/export.py OUTDIR
# and prints, per torchvision model, the MACs of its Conv2d and Linear layers as counted by
# forward hooks on a real forward pass, and its parameter count: the numbers
# tests/test_onnx_import.cpp checks the imported models against.
import sys

import torch
import torch.nn as nn
import torchvision.models as m

out = sys.argv[1] if len(sys.argv) > 1 else "."
torch.manual_seed(0)


def export(model, name, size=224, outputs=None, dynamic_batch=False):
    model.eval()
    axes = {"input": {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(model, torch.randn(1, 3, size, size), f"{out}/{name}.onnx", opset_version=13,
                      input_names=["input"], output_names=outputs, dynamic_axes=axes)


def macs(model, size):
    total = [0]

    def conv(mod, i, o):
        total[0] += o.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]

    def linear(mod, i, o):
        total[0] += mod.in_features * mod.out_features

    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            mod.register_forward_hook(conv)
        if isinstance(mod, nn.Linear):
            mod.register_forward_hook(linear)
    model.eval()
    with torch.no_grad():
        model(torch.randn(1, 3, size, size))
    return total[0]


for name, make, size in [
    ("alexnet", m.alexnet, 224),
    ("squeezenet1_0", m.squeezenet1_0, 224),
    ("resnet18", m.resnet18, 224),
    ("mobilenet_v2", m.mobilenet_v2, 224),
    ("googlenet", lambda: m.googlenet(aux_logits=False, init_weights=False), 224),
    ("inception_v3", lambda: m.inception_v3(aux_logits=False, init_weights=False), 299),
]:
    export(make(), name, size, dynamic_batch=(name == "resnet18"))
    model = make()
    print(name, "macs", macs(model, size), "params", sum(p.numel() for p in model.parameters()))


class EarlyExit(nn.Module):
    """A BranchyNet-style CNN with two early exits."""

    def __init__(self):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.b2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.b3 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
        self.e1 = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
        self.e2 = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x):
        a = self.b1(x)
        b = self.b2(a)
        return self.e1(a), self.e2(b), self.b3(b)


class View(nn.Module):
    """ReLU6 and x.view(x.size(0), -1): Clip and a Reshape to a computed shape."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8 * 30 * 30, 5)

    def forward(self, x):
        y = torch.nn.functional.relu6(self.c(x))
        return self.fc(y.view(y.size(0), -1))


export(EarlyExit(), "ee3-pytorch", 32, outputs=["exit1", "exit2", "final"])
export(View(), "view-pytorch", 32, dynamic_batch=True)
