"""Static discovery of model candidates, the ModelGraph path facts and init recognition."""

from __future__ import annotations

import math

import pytest

from gradlint.model.discover import discover_candidates
from gradlint.model.graph import ModelGraph
from gradlint.model.paths import path_facts
from gradlint.model.records import activation_from_wire, layer_from_wire, node_from_wire
from gradlint.model.runs import walk
from gradlint.rules.gl101_saturating_stack import SATURATING
from gradlint.rules.gl104_deep_plain_network import PLAIN


def _found(tmp_path, files: dict[str, str], **kwargs) -> set[tuple[str, str, str, int]]:
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        paths.append((tmp_path / name, name))
    return {(c.shown, c.callable, c.kind, c.line) for c in discover_candidates(paths, root=tmp_path, **kwargs)}


def test_subclasses_through_aliases_local_bases_and_lightning(tmp_path):
    files = {
        "base.py": "from torch import nn as tnn\n\nclass Base(tnn.Module):\n    def __init__(self, width=4):\n        super().__init__()\n",
        "net.py": (
            "from base import Base\nimport pytorch_lightning as pl\n\n"
            "class Net(Base):\n    pass\n\n"
            "class NeedsArgs(Base):\n    def __init__(self, width):\n        super().__init__()\n\n"
            "class Lit(pl.LightningModule):\n    def __init__(self, *, lr=1e-3):\n        super().__init__()\n\n"
            "class NotAModel:\n    pass\n\n"
            "def build_model(depth=3):\n    return Net()\n\n"
            "def helper() -> 'tnn.Module':\n    return Net()\n\n"
            "def needs(x):\n    return Net()\n"
        ),
    }
    # Base is the base of other models (a part); Net is what build_model() returns built
    # without arguments, so the factory is the one model (helper() builds it the same way);
    # NeedsArgs is listed as needing its width
    assert _found(tmp_path, files) == {
        ("net.py", "NeedsArgs", "class", 7), ("net.py", "Lit", "class", 11), ("net.py", "build_model", "factory", 18),
    }


def test_config_and_cli_entries_carry_kwargs_and_input(tmp_path):
    files = {"m.py": "import torch.nn as nn\n\nclass Wide(nn.Module):\n    def __init__(self, width):\n        super().__init__()\n"}
    (tmp_path / "m.py").write_text(files["m.py"])
    candidates = discover_candidates(
        [(tmp_path / "m.py", "m.py")],
        config_models=[{"entry": "m.py:Wide", "kwargs": {"width": 8}, "input": "float32[2,8]", "name": "wide"}],
        root=tmp_path,
    )
    assert [(c.callable, c.kind, c.kwargs, c.input, c.name, c.line) for c in candidates] == [
        ("Wide", "config", {"width": 8}, "float32[2,8]", "wide", 3)
    ]
    cli = discover_candidates([(tmp_path / "m.py", "m.py")], cli_models=[f"{tmp_path}/m.py:Wide"], cli_input="float32[1,8]")
    assert [(c.kind, c.input, c.line) for c in cli] == [("cli", "float32[1,8]", 3)]


def test_files_without_models_or_with_syntax_errors_give_nothing(tmp_path):
    assert _found(tmp_path, {"a.py": "x = 1\n", "b.py": "class X(nn.Module:\n"}) == set()


# -- ModelGraph facts on hand-made graphs -----------------------------------------------
def _layer(init="default", type_="Linear"):
    return {"name": "l", "type": type_, "init": init, "file": "f.py", "line": 1}


def _act(family):
    return {"name": "a", "type": "sigmoid" if family == "saturating" else "relu", "family": family, "file": "f.py", "line": 1}


def _layers(count):
    return [layer_from_wire(_layer()) for _ in range(count)]


def _nodes(nodes):
    return [node_from_wire(node) for node in nodes]


def test_residual_merge_keeps_the_skip_path_short():
    layers = _layers(4)
    # in -> l0 -> l1 -> l2 -> (+ l0 output) -> l3
    nodes = [["in", -1, []], ["layer", 0, [0]], ["layer", 1, [1]], ["layer", 2, [2]],
             ["join", 0, [1, 3]], ["layer", 3, [4]], ["out", -1, [5]]]
    facts = path_facts(_nodes(nodes), layers, [])
    assert facts.longest_path == 4 and facts.merge_joins == [0]
    assert facts.layer_depth == {0: 1, 1: 2, 2: 3, 3: 4}
    assert walk(facts, layers, [], [PLAIN])[PLAIN].count == 3  # l0 l1 l2 inside the branch; after the merge: l0 + l3 = 2


def test_saturating_chain_skips_heads_gates_and_resets_at_norms():
    acts = [activation_from_wire(_act("saturating")) for _ in range(4)]
    layers = _layers(4)
    nodes = [["in", -1, []],
             ["layer", 0, [0]], ["act", 0, [1]],
             ["layer", 1, [2]], ["act", 1, [3]], ["layer", 2, [4]], ["act", 2, [5]], ["mul", -1, [6, 4]],
             ["layer", 3, [7]], ["act", 3, [8]], ["out", -1, [9]]]
    facts = path_facts(_nodes(nodes), layers, acts)
    assert facts.gates == {2} and facts.heads == {3}
    saturating = walk(facts, layers, acts, [SATURATING])[SATURATING]
    assert saturating.count == 2 and saturating.items == [0, 1]
    normed = [["in", -1, []],
              ["layer", 0, [0]], ["act", 0, [1]], ["norm", 0, [2]],
              ["layer", 1, [3]], ["act", 1, [4]], ["layer", 2, [5]], ["act", 2, [6]], ["mul", -1, [7, 5]],
              ["layer", 3, [8]], ["act", 3, [9]], ["out", -1, [10]]]
    assert walk(path_facts(_nodes(normed), layers, acts), layers, acts, [SATURATING])[SATURATING].count == 1  # was 2 without the norm


def test_model_graph_summary_and_report_location():
    data = {"name": "Net", "file": "/p/m.py", "line": 3, "column": 1,
            "layers": [_layer("kaiming") | {"line": 7, "column": 5, "end_line": 7, "end_column": 20}],
            "activations": [], "norms": [], "joins": [], "nodes": [["in", -1, []], ["layer", 0, [0]]]}
    graph = ModelGraph(data)
    assert graph.summary()["init"] == "kaiming" and graph.summary()["longest_path"] == 1
    report = graph.report(graph.layers[0], "m")
    assert (report.span.line, report.span.column, report.span.end_column, report.path, report.model) == (7, 5, 20, "f.py", "Net")


def test_model_graph_reads_typed_records_and_writes_the_wire_fields_back():
    wire = _layer("xavier") | {"fan_in": 16, "fan_out": 8, "stack": 2, "depth": 0, "column": 5, "end_line": 7,
                               "end_column": 20, "line": 7}
    act = _act("saturating") | {"module": False, "owner": "block", "line": 9}
    data = {"name": "Net", "file": "/p/m.py", "line": 3, "layers": [wire, dict(wire, name="m")], "activations": [act],
            "nodes": [["in", -1, []], ["layer", 0, [0]], ["act", 0, [1]], ["layer", 1, [2]]]}
    graph = ModelGraph(data)
    first, second = graph.layers
    assert (first.init, first.stack, first.depth, second.depth) == ("xavier", 2, 2, 4)  # an nn.LSTM(num_layers=2) is 2 deep
    with pytest.raises(AttributeError):
        first.depth = 0  # type: ignore[misc]  # records are frozen: built once from the wire
    assert graph.summary()["layers"][1] == {"name": "m", "type": "Linear", "line": 7, "depth": 4, "init": "xavier",
                                            "fan_in": 16, "fan_out": 8, "path": "f.py"}
    assert graph.label(graph.activations[0]) == "sigmoid() in block.forward, line 9"
    assert data["layers"][0]["depth"] == 0  # the wire dict is read, not written


# -- init recognition, measured on real weights ----------------------------------------
@pytest.mark.parametrize("init,expected", [
    (None, "default"),
    (lambda w: __import__("torch").nn.init.kaiming_normal_(w, nonlinearity="relu"), "kaiming"),
    (lambda w: __import__("torch").nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu"), "kaiming"),
    (lambda w: __import__("torch").nn.init.xavier_uniform_(w), "xavier"),
    (lambda w: __import__("torch").nn.init.normal_(w, std=0.5), "other"),
])
def test_init_is_recognised_from_the_weights(init, expected):
    torch = pytest.importorskip("torch")
    from gradlint.model.extract import classify_init

    torch.manual_seed(0)
    layer = torch.nn.Linear(512, 256)
    if init is not None:
        with torch.no_grad():
            init(layer.weight)
    assert classify_init(layer) == (expected, 512, 256)
    assert layer.weight.std().item() == pytest.approx(
        {"default": 1 / math.sqrt(3 * 512), "kaiming": None, "xavier": None, "other": 0.5}[expected] or layer.weight.std().item(), rel=0.05)


def test_scripts_that_train_on_import_and_containers_are_not_built(tmp_path):
    """Importing a script with a module-level training loop would run the training;
    a module with no forward() is a container, not a model: neither is reported."""
    import json

    from conftest import run_gradlint

    (tmp_path / "script.py").write_text(
        "import torch\nimport torch.nn as nn\n\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.rnn = nn.RNN(2, 2)\n\n"
        "    def forward(self, x):\n        return self.rnn(x)[0]\n\n"
        "open('trained.txt', 'w').write('the script ran')\n"
        "model = Net()\nfor x in [torch.randn(3, 2)]:\n    model(x).sum().backward()\n"
    )
    (tmp_path / "parts.py").write_text(
        "import torch.nn as nn\n\nclass Parts(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.rnn = nn.RNN(2, 2)\n"
    )
    (tmp_path / "model.py").write_text(
        "import torch.nn as nn\n\nclass Real(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.rnn = nn.RNN(2, 2)\n\n"
        "    def forward(self, x):\n        return self.rnn(x)[0]\n"
    )
    result = run_gradlint("--output-format", "json", "--no-cache", "--no-probe", "--select", "GL0,GL1", ".", cwd=tmp_path)
    report = json.loads(result.stdout)
    assert [(f["path"], f["code"]) for f in report["findings"]] == [("model.py", "GL106")]
    # a container is listed as skipped, with why, and never as a finding
    assert [(m["name"], m["status"]) for m in report["models"]] == [("Real", "analysed"), ("Parts", "skipped")]
    assert report["models"][1]["reason"] == "Parts defines no forward()"
    assert not (tmp_path / "trained.txt").exists()


def test_a_concat_is_a_merge_when_one_input_already_holds_a_weight_free_branch():
    layers = _layers(4)
    # in -> l0 ; in -> pool ; pool + l1(in) ; cat([l0, pool + l1]) -> l2 -> l3: both inputs
    # of the concat are one weight layer deep at most, but the second is also zero deep
    nodes = [["in", -1, []], ["layer", 0, [0]], ["op", -1, [0]], ["layer", 1, [0]],
             ["join", 0, [2, 3]], ["join", 1, [1, 4]], ["layer", 2, [5]], ["layer", 3, [6]], ["out", -1, [7]]]
    facts = path_facts(_nodes(nodes), layers, [])
    assert facts.merge_joins == [0, 1]
    assert walk(facts, layers, [], [PLAIN])[PLAIN].count == 2  # l2 l3 after the concat, not l0 l2 l3


def test_a_missing_module_of_the_project_is_not_taken_for_a_missing_package(tmp_path):
    from gradlint.model.entries import Candidate
    from gradlint.model.environment import missing_packages
    from gradlint.model.messages import Failed

    (tmp_path / "src" / "nets").mkdir(parents=True)
    (tmp_path / "src" / "helpers").mkdir()
    (tmp_path / "src" / "helpers" / "__init__.py").write_text("")
    model_file = tmp_path / "src" / "nets" / "cnn.py"
    model_file.write_text("")
    candidates = [Candidate(str(model_file), "src/nets/cnn.py", name, "class", 1, index=i, name=name)
                  for i, name in enumerate(["A", "B"])]
    results = {0: Failed("import", "ModuleNotFoundError: No module named 'helpers.io'"),
               1: Failed("import", "ModuleNotFoundError: No module named 'einops'")}
    missing = missing_packages(candidates, results, tmp_path)
    # helpers is the project's own package (found by the import resolver from src/nets): a bug, not an install
    assert missing["indices"] == {1: "einops"} and list(missing["packages"]) == ["einops"]
