"""Discovery as a person reads a model zoo: factories found by what they return, a
class built from a config object with defaults, the model and input a test() function
builds, parts left out, one report per model, config entries distinct by arguments and
able to build a config object (issue 13)."""

from __future__ import annotations

import json

from conftest import run_gradlint
from gradlint.model.discover import discover_candidates

ZOO = '''\
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        return torch.relu(self.fc(x))


class Stack(nn.Module):
    def __init__(self, block, depth):
        super().__init__()
        self.blocks = nn.Sequential(*[block(8) for _ in range(depth)])

    def forward(self, x):
        return self.blocks(x)


def Stack3():
    return Stack(Block, 3)


class Plain(nn.Module):
    def __init__(self, kind, width=8):
        super().__init__()
        self.fc = nn.Linear(width, 2 if kind == "A" else 3)

    def forward(self, x):
        return self.fc(x)


def test():
    net = Plain("A")
    x = torch.randn(2, 8)
    y = net(x)
    print(y.size())
'''

GPT = '''\
from dataclasses import dataclass

import torch.nn as nn


@dataclass
class GPTConfig:
    n_layer: int = 2
    n_embd: int = 8


class Layer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.fc = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x):
        return self.fc(x).relu()


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layers = nn.Sequential(*[Layer(config) for _ in range(config.n_layer)])
        self.head = nn.Linear(config.n_embd, 4)

    def forward(self, x):
        return self.head(self.layers(x))


class Swish(nn.Module):
    def forward(self, x):
        return x * x.sigmoid()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x)


def build():
    return Net()
'''


def _candidates(tmp_path, files, **kwargs):
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        paths.append((tmp_path / name, name))
    return discover_candidates(paths, root=tmp_path, **kwargs)


def test_factories_examples_and_parts(tmp_path):
    found = {(c.callable, c.kind, tuple(c.args), c.input, tuple(c.needs)) for c in _candidates(tmp_path, {"zoo.py": ZOO})}
    # Stack3 by its return statement; Plain('A') and its input from test(); Block and
    # Stack are parts (a block handed to Stack, the class Stack3 builds)
    assert found == {("Stack3", "factory", (), None, ()), ("Plain", "example", ("A",), "float32[2,8]", ())}


def test_config_class_parts_and_one_model_per_factory(tmp_path):
    found = {(c.callable, c.kind, json.dumps(c.kwargs)) for c in _candidates(tmp_path, {"gpt.py": GPT})}
    # GPT from its defaulted GPTConfig; Layer is a part of GPT; Net and build() are one
    # model (build's); Swish is found, and skipped by the worker for having no weight layer
    assert found == {
        ("GPT", "class", '{"config": {"__class__": "gpt.py:GPTConfig"}}'),
        ("Swish", "class", "{}"),
        ("build", "factory", "{}"),
    }


def test_config_entries_are_distinct_by_arguments_and_build_a_config(tmp_path):
    entries = [
        {"entry": "gpt.py:GPT", "config": {"n_layer": 3}},
        {"entry": "gpt.py:GPT", "config": {"n_layer": 5}},
        {"entry": "gpt.py:GPT", "kwargs": {"config": {"__class__": "gpt.py:GPTConfig", "n_embd": 16}}, "name": "wide"},
    ]
    found = [(c.name, c.kwargs) for c in _candidates(tmp_path, {"gpt.py": GPT}, config_models=entries) if c.callable == "GPT"]
    assert found == [
        ("GPT(config=GPTConfig(n_layer=3))", {"config": {"__class__": "gpt.py:GPTConfig", "n_layer": 3}}),
        ("GPT(config=GPTConfig(n_layer=5))", {"config": {"__class__": "gpt.py:GPTConfig", "n_layer": 5}}),
        ("wide", {"config": {"__class__": "gpt.py:GPTConfig", "n_embd": 16}}),
    ]


def test_end_to_end_config_objects_parts_and_needs_arguments(tmp_path):
    (tmp_path / "gpt.py").write_text(GPT)
    (tmp_path / "zoo.py").write_text(ZOO + "\n\nclass Wide(nn.Module):\n    def __init__(self, width, depth):\n"
                                     "        super().__init__()\n        self.fc = nn.Linear(width, depth)\n\n"
                                     "    def forward(self, x):\n        return self.fc(x)\n")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.gradlint.probe]\ndevice = 'cpu'\n\n"
        "[[tool.gradlint.models]]\nentry = \"gpt.py:GPT\"\nconfig = { n_layer = 3 }\n\n"
        "[[tool.gradlint.models]]\nentry = \"gpt.py:GPT\"\nconfig = { n_layer = 4 }\n"
    )
    completed = run_gradlint("--no-cache", "--output-format", "json", "--select", "GL0", ".", cwd=tmp_path)
    report = json.loads(completed.stdout)
    models = {m["name"]: m for m in report["models"]}
    assert report["findings"] == []  # Swish has no weight layer: no GL002 for it
    layers = {name: len(models[name]["layers"]) for name in models if models[name]["status"] == "analysed"}
    assert layers == {"GPT(config=GPTConfig(n_layer=3))": 4, "GPT(config=GPTConfig(n_layer=4))": 5,
                      "build": 1, "Stack3": 3, "Plain": 1}
    assert models["Swish"]["status"] == "skipped" and "no weight layer" in models["Swish"]["reason"]
    # test()'s tensor has 2 samples: the probe keeps its shape and takes its own batch of 8
    assert models["Plain"]["probe"]["input"].startswith("float32[8,8]")
    assert models["Wide"]["status"] == "needs arguments"
    assert models["Wide"]["add"] == '[[tool.gradlint.models]]\nentry = "zoo.py:Wide"\nkwargs = { width = ..., depth = ... }'
    text = run_gradlint("--no-cache", "--select", "GL0", ".", cwd=tmp_path).stdout
    assert "Models: 6 found, 5 analysed, 1 need constructor arguments; 1 module(s) without weight layers skipped as parts." in text
    assert "All checks passed for what was analysed; 1 model(s) were not analysed (see above)." in text
    assert "All checks passed!" not in text


def test_a_missing_package_is_one_notice_that_does_not_fail_the_run(tmp_path):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(
            "import einops_not_installed_here\nimport torch.nn as nn\n\n"
            f"class Net{name[0].upper()}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n")
    completed = run_gradlint("--no-cache", "--output-format", "json", ".", cwd=tmp_path)
    report = json.loads(completed.stdout)
    assert completed.returncode == 0  # a notice (severity info) does not fail the run by default
    assert [(f["code"], f["severity"], f["path"], f["line"]) for f in report["findings"]] == [("GL002", "info", "a.py", 4)]
    assert report["findings"][0]["message"] == (
        "package 'einops_not_installed_here' is not installed here: 2 model(s) in 2 file(s) were not analysed "
        "(NetA, NetB); install it (pip install einops_not_installed_here) to analyse them")
    assert [m["status"] for m in report["models"]] == ["not analysed", "not analysed"]
    failing = run_gradlint("--no-cache", "--fail-on", "info", ".", cwd=tmp_path)
    assert failing.returncode == 1
    assert "Models: 2 found, 0 analysed, 2 not analysed in this environment (see above)." in failing.stdout
