"""GL107–GL109, the model slips read from the source: each fix gives a file that parses,
is not reported again, and builds and runs on the CPU with the behaviour the fix
promises (measured on the real torch layers); GL107's fix is unsafe and applied only
with --unsafe-fixes."""

from __future__ import annotations

import ast
import json
import types
from pathlib import Path

import pytest

from gradlint.cache import finding_from_dict, finding_to_dict
from gradlint.config import Settings
from gradlint.fix.apply import fix_text
from gradlint.runner import active_rules, lint_file
from gradlint.source.torch_calls import torch_calls
from gradlint.source.unit import SourceUnit

torch = pytest.importorskip("torch")

GAN = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 32)
        self.bn = nn.BatchNorm1d(32, 0.8)
        self.act = nn.LeakyReLU(True)
        self.out = nn.Linear(32, 4)

    def forward(self, z):
        h = self.act(self.bn(self.fc(z)))
        h = F.dropout(h, 0.5)
        return self.out(h)
'''


def _lint(path: Path, codes: list[str]) -> list:
    settings = Settings(select=codes, root=path.parent)
    return lint_file(path, str(path), active_rules(settings), settings)


def _build(text: str) -> types.ModuleType:
    module = types.ModuleType("user_model")
    exec(compile(text, "user_model.py", "exec"), module.__dict__)
    return module


@pytest.fixture
def gan(tmp_path: Path) -> Path:
    path = tmp_path / "gan.py"
    path.write_text(GAN)
    return path


def test_each_slip_is_reported_at_its_line(gan):
    found = sorted((f.code, f.line) for f in _lint(gan, ["GL107", "GL108", "GL109"]))
    assert found == [("GL107", 10), ("GL108", 11), ("GL109", 16)]
    by_code = {f.code: f for f in _lint(gan, ["GL107", "GL108", "GL109"])}
    assert "momentum=0.2" in by_code["GL107"].message
    assert by_code["GL107"].fix is not None and by_code["GL107"].fix.unsafe
    assert by_code["GL108"].fix is not None and not by_code["GL108"].fix.unsafe
    assert "training=self.training" in by_code["GL109"].message


def test_fix_without_unsafe_fixes_leaves_the_momentum_rewrite_out(gan):
    settings = Settings(select=["GL107", "GL108", "GL109"], root=gan.parent)
    text, count = fix_text(str(gan), GAN, settings)
    assert count == 2
    assert "nn.BatchNorm1d(32, 0.8)" in text
    assert "nn.LeakyReLU(inplace=True)" in text
    assert "F.dropout(h, 0.5, training=self.training)" in text


def test_fixed_file_parses_is_clean_and_runs_as_promised(gan):
    settings = Settings(select=["GL107", "GL108", "GL109"], root=gan.parent, unsafe_fixes=True)
    text, count = fix_text(str(gan), GAN, settings)
    assert count == 3
    ast.parse(text)
    gan.write_text(text)
    assert _lint(gan, ["GL107", "GL108", "GL109"]) == []
    assert fix_text(str(gan), text, settings) == (text, 0)

    torch.manual_seed(0)
    before, after = _build(GAN).Generator(), _build(text).Generator()
    # GL107: the fixed layer has PyTorch's default eps and Keras' momentum 0.8 as 0.2
    assert (before.bn.eps, before.bn.momentum) == (0.8, 0.1)
    assert (after.bn.eps, after.bn.momentum) == (1e-05, pytest.approx(0.2))
    small = torch.randn(256, 32) * 0.1  # variance 0.01
    assert before.bn(small).std().item() == pytest.approx(0.11, abs=0.01)
    assert after.bn(small).std().item() == pytest.approx(1.0, abs=0.01)
    # GL108: LeakyReLU(True) is the identity; the fixed one is a leaky ReLU
    minus_one = torch.tensor([-1.0])
    assert before.act(minus_one.clone()).item() == -1.0
    assert after.act(minus_one.clone()).item() == pytest.approx(-0.01)
    # GL109: in eval mode the original keeps dropping units; the fixed one is deterministic
    z = torch.randn(16, 8)
    before.eval(), after.eval()
    with torch.no_grad():
        assert not torch.equal(before(z), before(z))
        assert torch.equal(after(z), after(z))
    after.train()
    after(z).sum().backward()  # and it still trains
    assert after.fc.weight.grad is not None


def test_cli_shows_the_unsafe_fix_as_hidden_and_applies_it_only_when_asked(gradlint, gan):
    report = gradlint("--no-exec", "--no-cache", "--select", "GL107", str(gan))
    assert report.returncode == 1
    assert " GL107 [*] " not in report.stdout and " GL107 " in report.stdout
    assert "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option)." in report.stdout

    shown = gradlint("--no-exec", "--no-cache", "--select", "GL107", "--unsafe-fixes", str(gan))
    assert " GL107 [*] " in shown.stdout and "[*] 1 fixable with the `--fix` option." in shown.stdout

    assert gradlint("--no-exec", "--no-cache", "--select", "GL107", "--diff", str(gan)).stdout == ""
    diff = gradlint("--no-exec", "--no-cache", "--select", "GL107", "--diff", "--unsafe-fixes", str(gan))
    assert diff.returncode == 1
    assert "-        self.bn = nn.BatchNorm1d(32, 0.8)\n+        self.bn = nn.BatchNorm1d(32, momentum=0.2)\n" in diff.stdout

    gradlint("--no-exec", "--no-cache", "--select", "GL107", "--fix", str(gan))
    assert gan.read_text() == GAN  # --fix alone leaves an unsafe fix out
    fixed = gradlint("--no-exec", "--no-cache", "--select", "GL107", "--fix", "--unsafe-fixes", str(gan))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "nn.BatchNorm1d(32, momentum=0.2)" in gan.read_text()


def test_json_and_cache_carry_the_unsafe_marker(gradlint, gan):
    result = gradlint("--no-exec", "--no-cache", "--select", "GL107,GL108", "--output-format", "json", str(gan))
    fixes = {f["code"]: f["fix"] for f in json.loads(result.stdout)["findings"]}
    assert (fixes["GL107"]["unsafe"], fixes["GL108"]["unsafe"]) == (True, False)
    for finding in _lint(gan, ["GL107", "GL108"]):
        assert finding_from_dict(json.loads(json.dumps(finding_to_dict(finding)))) == finding


@pytest.mark.parametrize(
    "imports,call,name",
    [
        ("import torch.nn as nn", "nn.BatchNorm2d(8, 0.8)", "torch.nn.BatchNorm2d"),
        ("from torch import nn as tnn", "tnn.BatchNorm2d(8, 0.8)", "torch.nn.BatchNorm2d"),
        ("import torch", "torch.nn.BatchNorm2d(8, 0.8)", "torch.nn.BatchNorm2d"),
        ("from torch.nn import BatchNorm2d as BN", "BN(8, 0.8)", "torch.nn.BatchNorm2d"),
        ("from torch.nn import *", "BatchNorm2d(8, 0.8)", "torch.nn.BatchNorm2d"),
        ("import torch\nfrom .common import *", "nn.BatchNorm2d(8, 0.8)", "torch.nn.BatchNorm2d"),
        ("from torch.nn import functional as fn", "fn.dropout(x, 0.1)", "torch.nn.functional.dropout"),
    ],
)
def test_torch_names_resolve_through_imports(imports, call, name):
    unit = SourceUnit.from_bytes("m.py", f"{imports}\nlayer = {call}\n".encode())
    assert [c.name for c in torch_calls(unit).calls] == [name]


@pytest.mark.parametrize(
    "source",
    [
        "import mxnet.gluon.nn as nn\nlayer = nn.BatchNorm(0.8)\n",  # another framework
        "from mxnet.gluon import *\nlayer = nn.BatchNorm2d(8, 0.8)\n",  # nn may come from the star import
        "import torch\nclass nn:\n    pass\nlayer = nn.BatchNorm2d(8, 0.8)\n",  # a local name
    ],
)
def test_other_names_are_not_torch(source):
    assert torch_calls(SourceUnit.from_bytes("m.py", source.encode())).calls == []


def test_an_nn_the_file_never_binds_is_torch_nn():
    # held-out round 3: model parts cut out of a script, with no import line at all
    unit = SourceUnit.from_bytes("m.py", b"def block(c):\n    return nn.BatchNorm2d(c, 0.8)\n")
    assert [c.name for c in torch_calls(unit).calls] == ["torch.nn.BatchNorm2d"]


def test_torchs_usual_names_are_torchs_in_a_file_that_binds_none_of_them():
    # held-out round 45: a notebook's cells pasted without the first, ``torch.`` used too
    source = b"def block(x, c):\n    x = torch.relu(x)\n    return F.dropout(nn.BatchNorm2d(c, 0.8)(x), 0.5)\n"
    names = [c.name for c in torch_calls(SourceUnit.from_bytes("m.py", source)).calls]
    assert names == ["torch.relu", "torch.nn.functional.dropout", "torch.nn.BatchNorm2d"]


def test_a_nested_function_with_its_own_self_is_not_the_module_method(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "import torch.nn as nn\nimport torch.nn.functional as F\n\nclass Net(nn.Module):\n"
        "    def forward(self, x):\n        def helper(self, y):\n            return F.dropout(y, 0.1)\n"
        "        return helper(object(), x) + F.dropout(x, 0.1)\n"
    )
    assert [(f.code, f.line) for f in _lint(path, ["GL109"])] == [("GL109", 8)]


def test_a_broken_file_is_not_a_crash(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import torch.nn as nn\nlayer = nn.BatchNorm2d(8, 0.8\n")
    assert [f.code for f in _lint(path, ["GL001", "GL107", "GL108", "GL109"])] == ["GL001"]



def test_gl215_doc_example_measures_the_shrunken_gradient_it_describes():
    """The rule's Example trains softmax outputs with CrossEntropyLoss; its "Use instead"
    returns the logits. Measured at the logits, the first gets about a tenth of the gradient."""
    from gradlint.registry import code_blocks, get_rule

    rule = get_rule("GL215")
    assert rule is not None
    (example,), (better,) = code_blocks(rule.section("Example")), code_blocks(rule.section("Use instead"))
    torch.manual_seed(0)
    x, y = torch.randn(256, 784), torch.randint(0, 10, (256,))
    norms = []
    for text in (example, better):
        module = _build(text)
        model = module.model
        logits = {}
        model.fc.register_forward_hook(lambda _m, _i, out: logits.setdefault("z", out.retain_grad() or out))
        module.train_step(x, y)
        norms.append(logits["z"].grad.norm().item())
    assert norms[0] / norms[1] == pytest.approx(0.1, abs=0.04)
