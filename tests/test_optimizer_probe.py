"""GL402-GL405 in the CLI probe: the training script's optimiser read statically
(gradlint/source/optimizer_params.py, no torch), rebuilt on the probed model in the
worker (optimizer_facts.py) and judged by the preflight rules (optimizer_checks.py);
the held-out scripts in tests/data/optimizer_scripts scored end to end."""

from __future__ import annotations

import ast
import json
import re
import shutil
import textwrap
from pathlib import Path
from typing import Any, Optional

import pytest

from gradlint.source.optimizer_params import literal, read_selection

SCRIPTS = Path(__file__).parent / "data" / "optimizer_scripts"


def selection(body: str) -> Optional[dict[str, Any]]:
    """The selection of the one ``torch.optim`` call in ``body``."""
    text = "import torch\nfrom net import Net\n\ndef train(loader, cfg):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    tree = ast.parse(text)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and (ast.unparse(n.func)).startswith("torch.optim.")]
    assert len(calls) == 1
    return read_selection(tree, calls[0], lambda node: literal(node, {}))


def test_groups_freezes_and_filters_are_read():
    found = selection("""
        model = Net().to("cuda")
        for p in model.backbone.parameters():
            p.requires_grad = False
        model.stem.requires_grad_(False)
        model.fc.bias.requires_grad = True
        print(sum(p.numel() for p in model.parameters() if p.requires_grad))  # a read changes nothing
        head = [p for p in model.head.parameters() if p.requires_grad]
        opt = torch.optim.AdamW([{"params": head, "lr": 0.0},
                                 {"params": list(model.neck.parameters()) + list(model.fc.parameters()),
                                  "weight_decay": cfg.wd}], lr=1e-3, weight_decay=0.05)
    """)
    assert found == {
        "model": "model", "constructor": "Net",
        "groups": [{"select": [{"path": "head", "trainable_only": True}], "options": {"lr": 0.0}},
                   {"select": [{"path": "neck", "trainable_only": False}, {"path": "fc", "trainable_only": False}],
                    "options": {"weight_decay": None}}],
        "freeze": [["backbone", False], ["stem", False], ["fc.bias", True]], "scheduled": False,
    }
    chained = selection("""
        model = Net()
        opt = torch.optim.SGD(filter(lambda p: p.requires_grad, itertools.chain(model.a.parameters(), model.b.parameters())), lr=0.1)
    """)
    assert chained is not None and chained["groups"][0]["select"] == [
        {"path": "a", "trainable_only": True}, {"path": "b", "trainable_only": True}]


@pytest.mark.parametrize("body", [
    # the model handed to a helper, or a method, that may freeze it
    "model = Net()\nfreeze(model)\nopt = torch.optim.AdamW(model.head.parameters())\n",
    "model = Net()\nmodel.freeze_backbone()\nopt = torch.optim.AdamW(model.head.parameters())\n",
    "model = Net()\nmodel.apply(set_bn_eval)\nopt = torch.optim.AdamW(model.parameters())\n",
    # a submodule replaced: the probe's model is not the script's
    "model = Net()\nmodel.fc = torch.nn.Linear(8, 2)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n",
    # a freeze this reader does not parse, and an unfreezing after the optimiser
    "model = Net()\nfor n, p in model.named_parameters():\n    p.requires_grad = 'head' in n\n"
    "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n",
    "model = Net()\nmodel.a.requires_grad_(False)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "model.a.requires_grad_(True)\n",
    # params built up elsewhere, or from a helper, or from two objects
    "model = Net()\nparams = []\nparams.append(model.a.weight)\nopt = torch.optim.SGD(params, lr=0.1)\n",
    "model = Net()\nopt = torch.optim.SGD(get_params(model), lr=0.1)\n",
    "model = Net()\nopt = torch.optim.SGD([*model.parameters(), *criterion.parameters()], lr=0.1)\n",
    "model = Net()\nopt = torch.optim.SGD([p for n, p in model.named_parameters() if 'bias' not in n], lr=0.1)\n",
    # the model built twice, or not built here at all
    "model = Net()\nif cfg.big:\n    model = BigNet()\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n",
    "opt = torch.optim.SGD(cfg.model.parameters(), lr=0.1)\n",
])
def test_what_is_not_read_with_certainty_gives_no_selection(body):
    assert selection(body) is None


def test_worker_rebuilds_groups_and_measures_a_zero_rate_group():
    torch = pytest.importorskip("torch")
    from gradlint.probe.entry import probe_model
    from gradlint.probe.optimizer_checks import preflight_summary
    from gradlint.findings import Span
    from rules import gl402_parameters_not_optimized as gl402, gl405_optimizer_step_no_op as gl405

    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                                torch.nn.ReLU(), torch.nn.Linear(16, 4))
    chosen = {"model": "model", "constructor": "Net", "freeze": [["0", False]],
              "groups": [{"select": [{"path": "2", "trainable_only": False}], "options": {"lr": 0.0}},
                         {"select": [{"path": "0", "trainable_only": False}], "options": {}}],
              "optimizer": "Adam", "options": {"lr": 1e-3}, "shown": "train.py", "span": [7, 5, 7, 40]}
    spec = {"name": "Adam", "options": {"lr": 1e-3}, "source": "train.py:7", "selection": chosen}
    before = [p.detach().clone() for p in model.parameters()]
    probe = probe_model(model, None, {}, {"optimizer": spec}, {}, {"steps": 2, "device": "cpu", "seed": 0})
    facts = probe["optimizer_facts"]
    by_name = {p["name"]: p for p in facts["params"]}
    assert facts["steps"] == 1 and [g["lr"] for g in facts["groups"]] == [0.0, 1e-3]
    # layer 0 frozen by the script but in group 1; layer 4 trainable and in no group
    assert by_name["0.weight"]["trainable"] is False and by_name["0.weight"]["group"] == 1
    assert by_name["4.weight"]["group"] is None and by_name["4.weight"]["got_grad"] is True
    assert by_name["2.weight"]["changed"] is False and by_name["0.weight"]["changed"] is True
    # the freezes are facts, not changes to the model; the zero-rate group kept its values
    assert all(p.requires_grad for p in model.parameters())
    assert torch.equal(model[2].weight, before[2])
    summary = preflight_summary(facts, "Sequential", Span(3, path="net.py"))
    not_optimized = list(gl402.check(summary, {}))
    assert len(not_optimized) == 1 and "'4'" in not_optimized[0].message and "4.weight, 4.bias" in not_optimized[0].message
    no_op = list(gl405.check(summary, {}))
    assert [(r.span.line, r.evidence["group"]) for r in no_op] == [(7, 0)]
    assert "its learning rate is 0" in no_op[0].message
    # the same group under a scheduler of the script (OneCycleLR sets the rate itself): not reported
    scheduled = preflight_summary({**facts, "groups": [{**g, "scheduled": True} for g in facts["groups"]]},
                                  "Sequential", Span(3, path="net.py"))
    assert list(gl405.check(scheduled, {})) == []


def test_a_path_the_probed_model_lacks_gives_no_facts():
    torch = pytest.importorskip("torch")
    from gradlint.probe.optimizer_facts import ScriptOptimizer

    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    modules = dict(model.named_modules())
    assert ScriptOptimizer.build(model, modules, {"groups": [{"select": [{"path": "module.head"}]}]}) is None
    twice = {"groups": [{"select": [{"path": ""}]}, {"select": [{"path": "0"}]}]}
    assert ScriptOptimizer.build(model, modules, twice) is None  # torch would refuse it too
    assert ScriptOptimizer.build(model, modules, {"groups": [{"select": [{"path": "0.weight"}]}]}) is not None


def expected(folder: Path) -> set[tuple[str, str, int]]:
    found = set()
    for path in sorted(folder.glob("*.py")):
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            match = re.search(r"# expect: (GL\d{3})", text)
            if match:
                found.add((match.group(1), path.name, number))
    return found


def test_held_out_training_scripts(tmp_path, gradlint):
    pytest.importorskip("torch")
    shutil.copytree(SCRIPTS, tmp_path / "scripts")
    root = tmp_path / "scripts"
    (root / "pyproject.toml").write_text("[tool.gradlint]\n")
    done = gradlint(".", "--no-cache", "--select", "GL402,GL403,GL404,GL405", "--probe-steps", "2", "--device", "cpu",
                    "--output-format", "json", cwd=root, env={"OMP_NUM_THREADS": "1"}, timeout=600)
    findings = json.loads(done.stdout)["findings"]
    got = {(f["code"], f["path"], f["line"]) for f in findings}
    assert got == expected(root)
    messages = {(f["code"], f["path"]): f["message"] for f in findings}
    assert "2 parameter(s) of Linear 'backbone.0'" in messages[("GL402", "s01_head_only_optimizer.py")]
    assert "only 2 normalisation/bias parameter(s) train (bn.weight, bn.bias)" in \
        messages[("GL403", "s04_only_norms_train.py")]
    assert "the output layer 'out' (Linear) is frozen" in messages[("GL403", "s05_frozen_output.py")]
    assert "changed none of the 2 parameter(s) of param group 1" in messages[("GL405", "s06_group_lr_zero.py")]
    # the model's class in the optimiser's file: read statically; imported: measured by the probe
    assert "every parameter of 'DecayNet', including its normalisation layers (bn)" in \
        messages[("GL404", "s09_decay_on_batchnorm.py")]
    assert "including its normalisation layers and embeddings (embed, norm)" in \
        messages[("GL404", "s14_decay_on_embeddings.py")]
    assert "weight_decay=0.05 to 2 normalisation weight(s), 2 bias(es) (proj.bias, norm.weight, norm.bias, head.bias)" \
        in messages[("GL404", "s15_decay_imported_model.py")]


STATIC = """\
import torch
import torch.nn as nn
import torchvision
import timm
from transformers import AutoModelForSequenceClassification

WD = 5e-4


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3)
        self.bn = nn.BatchNorm2d(8)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Block(), Block())
        self.embed = nn.Embedding(10, 8)


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.ln = nn.LayerNorm(8, elementwise_affine=False)


model = Net().cuda()
opt = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=WD)
plain = Plain()
opt2 = torch.optim.SGD(plain.parameters(), lr=0.1, weight_decay=WD)


def vision(args):
    net = torchvision.models.resnet50(weights=None)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
    vgg = torchvision.models.vgg16()
    opt2 = torch.optim.SGD(vgg.parameters(), lr=1e-3, weight_decay=0.05)
    t = timm.create_model("vit_base_patch16_224")
    opt3 = torch.optim.AdamW(filter(lambda p: p.requires_grad, t.parameters()), weight_decay=0.05)
    bert = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased")
    opt4 = torch.optim.AdamW(bert.parameters(), lr=2e-5)
    opt5 = torch.optim.AdamW(bert.parameters(), lr=2e-5, weight_decay=args.wd)
    opt6 = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.0)
"""


def test_gl404_read_statically_where_the_model_is_known(tmp_path, gradlint):
    (tmp_path / "train.py").write_text(STATIC)
    done = gradlint("train.py", "--no-exec", "--select", "GL404", "--no-cache", "--output-format", "json", cwd=tmp_path)
    findings = json.loads(done.stdout)["findings"]
    # line 32: a class of the file with BatchNorm in a nested block and an embedding;
    # 39: torchvision's resnet50; 43: timm. Not: no affine norm (34), vgg16 without BN (41),
    # AdamW's default decay (45), a decay from the command line (46), decay 0 (47)
    assert [(f["code"], f["line"]) for f in findings] == [("GL404", 32), ("GL404", 39), ("GL404", 43)]
    assert findings[0]["severity"] == "info"
    assert "SGD applies weight_decay=0.0005 to every parameter of 'Net', including its normalisation layers " \
           "and embeddings (blocks.bn, embed)" in findings[0]["message"]
    assert "of 'resnet50', including its normalisation layers;" in findings[1]["message"]


def test_a_module_level_model_unfrozen_in_a_function_gives_no_selection():
    text = textwrap.dedent("""\
        import torch
        model = Net()
        for p in model.parameters():
            p.requires_grad = False
        opt = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)

        def unfreeze():
            for p in model.head.parameters():
                p.requires_grad = True
        """)
    tree = ast.parse(text)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "torch.optim.SGD")
    assert read_selection(tree, call, lambda node: literal(node, {})) is None
    # the same freeze with no function touching the model: read (a function's body is not the module's)
    kept = ast.parse(text.replace("model.head.parameters()", "other.parameters()").replace("unfreeze():", "f(other):"))
    call = next(n for n in ast.walk(kept) if isinstance(n, ast.Call) and ast.unparse(n.func) == "torch.optim.SGD")
    assert read_selection(kept, call, lambda node: literal(node, {}))["freeze"] == [["", False]]


@pytest.mark.parametrize("second", [
    "dense = apex.optimizers.FusedSGD(mlp_params)",  # the other parameters, not read
    "other = torch.optim.SGD(model.head.parameters(), lr=0.1)",  # the same model again
])
def test_a_second_optimiser_over_the_model_gives_no_selection(second):
    # the DLRM pattern: a sparse optimiser over the embeddings, a dense one over the rest
    body = "model = Net()\nmlp_params = [p for n, p in model.named_parameters() if 'emb' not in n]\n" + second + "\n"
    text = "import torch\n\ndef train():\n" + textwrap.indent(body, "    ") + \
        "    sparse = torch.optim.SparseAdam(list(model.embeddings.parameters()))\n"
    tree = ast.parse(text)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "torch.optim.SparseAdam")
    assert read_selection(tree, call, lambda node: literal(node, {})) is None


def test_a_gan_s_two_optimisers_over_two_models_are_each_read():
    text = textwrap.dedent("""\
        import torch
        def train():
            G = Generator()
            D = Discriminator()
            opt_g = torch.optim.Adam(G.parameters(), lr=2e-4)
            opt_d = torch.optim.Adam(D.parameters(), lr=2e-4)
        """)
    tree = ast.parse(text)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "torch.optim.Adam"]
    found = [read_selection(tree, c, lambda node: literal(node, {})) for c in calls]
    assert [f["constructor"] if f else None for f in found] == ["Generator", "Discriminator"]
