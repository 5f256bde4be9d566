"""The CLI contract: commands, flags, exit codes, as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import run_gradlint

NO_ZERO_GRAD = textwrap.dedent(
    """\
    import torch

    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    """
)
CLEAN = NO_ZERO_GRAD.replace("    loss = torch", "    optimizer.zero_grad()\n    loss = torch")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_missing_zero_grad_reported_at_loop_line_exit_1(tmp_path):
    write(tmp_path, "train.py", NO_ZERO_GRAD)
    result = run_gradlint("train.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("train.py:5:1: GL206 [*] training loop calls backward()")
    assert "Found 1 error." in result.stdout
    assert result.stderr == ""


def test_noqa_on_reported_line_gives_exit_0(tmp_path):
    write(tmp_path, "train.py", NO_ZERO_GRAD.replace("in loader:", "in loader:  # noqa: GL206"))
    result = run_gradlint("train.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "All checks passed!" in result.stdout


def test_default_path_is_current_folder_and_check_alias(tmp_path):
    write(tmp_path, "pkg/train.py", NO_ZERO_GRAD)
    write(tmp_path, "pkg/ok.py", CLEAN)
    plain = run_gradlint(cwd=tmp_path)
    alias = run_gradlint("check", cwd=tmp_path)
    assert plain.returncode == alias.returncode == 1
    assert plain.stdout == alias.stdout
    assert "pkg/train.py:5:1: GL206" in plain.stdout and "pkg/ok.py" not in plain.stdout


def test_syntax_error_next_to_good_file(tmp_path):
    write(tmp_path, "a_broken.py", "def f(:\n    pass\n")
    write(tmp_path, "b_train.py", NO_ZERO_GRAD)
    result = run_gradlint(".", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("a_broken.py:1:7: GL001 SyntaxError:")
    assert lines[1].startswith("b_train.py:5:1: GL206")
    assert "Traceback" not in result.stderr + result.stdout


def test_undecodable_file_is_gl001_not_a_crash(tmp_path):
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9\xff'\n")
    write(tmp_path, "train.py", NO_ZERO_GRAD)
    result = run_gradlint(".", cwd=tmp_path)
    assert result.returncode == 1
    assert "latin.py:1:1: GL001 cannot decode the file" in result.stdout
    assert "train.py:5:1: GL206" in result.stdout


def test_select_ignore_extend_select_with_prefixes(tmp_path):
    write(tmp_path, "train.py", NO_ZERO_GRAD + "    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n")
    both = run_gradlint("train.py", "--output-format", "json", cwd=tmp_path)
    assert sorted(f["code"] for f in json.loads(both.stdout)["findings"]) == ["GL202", "GL206"]
    only_202 = run_gradlint("train.py", "--select", "GL2", "--ignore", "GL206", cwd=tmp_path)
    assert "GL202" in only_202.stdout and "GL206" not in only_202.stdout
    only_001 = run_gradlint("train.py", "--select", "GL001", cwd=tmp_path)
    assert only_001.returncode == 0
    extended = run_gradlint("train.py", "--select", "GL001", "--extend-select", "GL206", cwd=tmp_path)
    assert "GL206" in extended.stdout and "GL202" not in extended.stdout


def test_unknown_code_on_command_line_is_exit_2(tmp_path):
    write(tmp_path, "train.py", CLEAN)
    result = run_gradlint("train.py", "--select", "GL999", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "gradlint: error: unknown rule code 'GL999' in --select"


def test_exit_zero_and_quiet(tmp_path):
    write(tmp_path, "train.py", NO_ZERO_GRAD)
    result = run_gradlint("train.py", "--exit-zero", "--quiet", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.count("\n") == 1 and "GL206" in result.stdout


def test_missing_path_is_exit_2_one_line(tmp_path):
    result = run_gradlint("nope.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "gradlint: error: nope.py: no such file or directory\n"


def test_bad_flag_is_exit_2_one_line(tmp_path):
    result = run_gradlint("--output-format", "xml", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "--output-format" in result.stderr


def test_rules_lists_every_rule_with_metadata():
    from gradlint.registry import all_rules

    result = run_gradlint("rules")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["code", "name", "severity", "fixable"]
    for rule in all_rules().values():
        row = next(line for line in lines if line.startswith(rule.code + " "))
        assert row.split()[1:4] == [rule.name, rule.severity.value, "yes" if rule.fixable else "no"]
    assert len(lines) == len(all_rules()) + 1


def test_explain_prints_the_rule_module_doc():
    from gradlint.registry import get_rule

    result = run_gradlint("explain", "gl206")
    assert result.returncode == 0
    assert result.stdout.startswith("# GL206: missing-zero-grad")
    assert get_rule("GL206").doc in result.stdout
    missing = run_gradlint("explain", "GL999")
    assert missing.returncode == 2 and "unknown rule 'GL999'" in missing.stderr


def test_source_only_run_never_imports_torch(tmp_path):
    write(tmp_path, "train.py", NO_ZERO_GRAD)
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['gradlint', '--no-exec', 'train.py']\n"
        "try:\n"
        "    runpy.run_module('gradlint', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)\n"
    )
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert "GL206" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "NO-TORCH"


def test_python_dash_m_and_console_script_agree(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    write(tmp_path, "train.py", NO_ZERO_GRAD)
    # The script installed beside this interpreter, even when its bin/ is not on PATH.
    beside = Path(sys.executable).parent / "gradlint"
    script = str(beside) if beside.exists() else shutil.which("gradlint")
    assert script, "console script not installed"
    direct = subprocess.run([script, "train.py"], cwd=tmp_path, capture_output=True, text=True, env={"NO_COLOR": "1", "PATH": ""})
    module = run_gradlint("train.py", cwd=tmp_path)
    assert direct.returncode == module.returncode == 1
    assert direct.stdout == module.stdout


def test_server_help_prints_usage_and_exits_zero(tmp_path):
    result = run_gradlint("server", "--help", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("usage: gradlint server")


def test_folder_without_python_files_warns(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("not python\n")
    result = run_gradlint("--no-cache", "docs", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == "gradlint: warning: no Python files found under the given paths\n"


@pytest.mark.parametrize(
    "spec, message",
    [("garbage", "bad input spec 'garbage': write dtype[shape]"),
     ("float32[0,4]", "every dimension must be at least 1")],
)
def test_bad_input_spec_is_a_usage_error_before_anything_runs(tmp_path, spec, message):
    write(tmp_path, "net.py", "import torch.nn as nn\n\nclass Net(nn.Module):\n    def forward(self, x):\n        return x\n")
    result = run_gradlint("--input", spec, "net.py", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("gradlint: error: --input: ") and message in result.stderr


def test_bad_input_spec_in_config_is_exit_2(tmp_path):
    write(tmp_path, "pyproject.toml", '[[tool.gradlint.models]]\nentry = "net.py:Net"\ninput = "float32[8,x]"\n')
    write(tmp_path, "net.py", "x = 1\n")
    result = run_gradlint("net.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "pyproject.toml: [[tool.gradlint.models]] #1: bad input spec 'float32[8,x]'" in result.stderr


def test_a_python_312_f_string_says_which_python_parsed_it(tmp_path):
    # held-out round 8 (/work/heldout29): a course project written for Python 3.12 (PEP 701 f-strings)
    write(tmp_path, "report.py", 'rows = ["a", "b"]\nprint(f\'{"\\n".join(rows)}\')\n')
    result = run_gradlint("report.py", cwd=tmp_path)
    if sys.version_info >= (3, 12):
        assert result.returncode == 0 and "GL001" not in result.stdout
    else:
        assert result.returncode == 1
        assert "GL001 SyntaxError: f-string" in result.stdout
        assert "(Python 3.12 accepts this f-string; gradlint parses with the Python it runs on, 3.11" in result.stdout


def test_pytorch_03_async_arguments_are_read_and_the_fix_is_named(tmp_path):
    # held-out rounds 49/b and 54/a (clovaai, LGX95): ``target.cuda(async=True)``, PyTorch 0.3's
    # name for ``non_blocking``, is a syntax error since Python 3.7; the rest of the file is checked
    write(tmp_path, "train.py", textwrap.dedent("""\
        import torch
        from torchvision import models

        model = models.resnet18(weights=None)
        for p in model.parameters():
            p.requires_grad = False
        model.fc = torch.nn.Linear(512, 2)
        optimizer = torch.optim.Adam(model.fc.parameters())
        for epoch in range(10):
            model.train()
            for x, y in []:
                x, y = x.cuda(async=True), y.cuda(async = True)
                loss = torch.nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        """))
    result = run_gradlint("train.py", "--select", "GL001,GL406", cwd=tmp_path)
    assert result.returncode == 1
    assert "train.py:12:" in result.stdout and "GL001 SyntaxError: invalid syntax (`async` is a keyword since Python 3.7: " \
        "PyTorch's `.cuda(async=True)` is `.cuda(non_blocking=True)`" in result.stdout
    assert "train.py:6:5: GL406" in result.stdout


def test_the_rest_of_a_file_with_a_python_312_f_string_is_still_checked(tmp_path):
    # held-out round 43/a (aidynfatikh): a training script whose only 3.12 line is its log print
    write(tmp_path, "train.py", textwrap.dedent("""\
        import torch
        import torch.nn.functional as F


        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = torch.nn.Linear(8, 2)

            def forward(self, x):
                return F.dropout(self.fc(x), 0.5)


        now = "12:00"
        print(f"[{now.replace(":", "h")}] starting")
        """))
    result = run_gradlint("train.py", "--select", "GL001,GL109", cwd=tmp_path)
    assert "train.py:11:16: GL109" in result.stdout
    if sys.version_info < (3, 12):
        assert "train.py:15:" in result.stdout and "GL001" in result.stdout
        assert "the rest of the file was checked without this line)" in result.stdout


def test_the_rest_of_a_script_with_a_pasted_pip_install_line_is_still_checked(tmp_path):
    # held-out round 74/b (sharkspin): a Colab script saved as .py that starts with its
    # `pip install` cell; the frozen MobileNet below it was never read
    write(tmp_path, "train.py", textwrap.dedent("""\
        pip install torch torchvision
        pip install tqdm

        import torch
        import torchvision

        model = torchvision.models.mobilenet_v2(weights="IMAGENET1K_V1")
        for param in model.features.parameters():
            param.requires_grad = False
        optimizer = torch.optim.Adam(model.classifier.parameters())
        for epoch in range(3):
            model.train()
            for x, y in []:
                loss = torch.nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        """))
    result = run_gradlint("train.py", "--select", "GL001,GL406", cwd=tmp_path)
    assert result.returncode == 1
    assert ("train.py:1:5: GL001 SyntaxError: invalid syntax (a shell command pasted into Python: run it in a shell, "
            "or as `!pip install` in a notebook; the rest of the file was checked without this and 1 more such "
            "lines)") in result.stdout
    assert "train.py:9:5: GL406" in result.stdout
    # a syntax error on any other line is not read past
    write(tmp_path, "broken.py", "pip install torch\nx = (\nimport torch\n")
    result = run_gradlint("broken.py", "--select", "GL001", cwd=tmp_path)
    assert "broken.py:1:5: GL001 SyntaxError: invalid syntax\n" in result.stdout
