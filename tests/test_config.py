"""[tool.gradlint] in pyproject.toml and --config: discovery, keys, errors, overrides."""

from __future__ import annotations

import json
import textwrap

import pytest

from conftest import run_gradlint
from gradlint.config import ConfigError, Settings, apply, find_pyproject, load
from test_cli import NO_ZERO_GRAD, write

CLIP_AFTER_STEP = NO_ZERO_GRAD + "    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"


def codes(result) -> list[tuple[str, str, int]]:
    return [(f["path"], f["code"], f["line"]) for f in json.loads(result.stdout)["findings"]]


def test_nearest_pyproject_with_tool_gradlint_is_used(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.gradlint]\nignore = ["GL206"]\n')
    write(tmp_path, "sub/pyproject.toml", '[project]\nname = "x"\n')  # no [tool.gradlint]: skipped
    write(tmp_path, "sub/deeper/train.py", CLIP_AFTER_STEP)
    result = run_gradlint("sub/deeper", "--output-format", "json", cwd=tmp_path)
    assert codes(result) == [("sub/deeper/train.py", "GL202", 9)]
    assert find_pyproject(tmp_path / "sub" / "deeper") == (tmp_path / "pyproject.toml").resolve()


def test_per_file_ignores_with_globs(tmp_path):
    write(tmp_path, "pyproject.toml", textwrap.dedent("""\
        [tool.gradlint.per-file-ignores]
        "scripts/*.py" = ["GL2"]
        "legacy_*.py" = ["GL206"]
        """))
    write(tmp_path, "scripts/train.py", CLIP_AFTER_STEP)
    write(tmp_path, "legacy_train.py", CLIP_AFTER_STEP)
    write(tmp_path, "train.py", CLIP_AFTER_STEP)
    result = run_gradlint("--output-format", "json", cwd=tmp_path)
    assert codes(result) == [
        ("legacy_train.py", "GL202", 9),
        ("train.py", "GL206", 5),
        ("train.py", "GL202", 9),
    ]


def test_cli_flags_override_the_file(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.gradlint]\nselect = ["GL202"]\noutput-format = "json"\n')
    write(tmp_path, "train.py", CLIP_AFTER_STEP)
    from_file = run_gradlint("train.py", cwd=tmp_path)
    assert codes(from_file) == [("train.py", "GL202", 9)]
    overridden = run_gradlint("train.py", "--select", "GL206", "--output-format", "text", cwd=tmp_path)
    assert overridden.stdout.startswith("train.py:5:1: GL206 [*]")


def test_explicit_config_file(tmp_path):
    write(tmp_path, "ci.toml", 'select = ["GL206"]\n')
    write(tmp_path, "train.py", CLIP_AFTER_STEP)
    result = run_gradlint("--config", "ci.toml", "train.py", "--output-format", "json", cwd=tmp_path)
    assert codes(result) == [("train.py", "GL206", 5)]


@pytest.mark.parametrize(
    "toml, message",
    [
        ('[tool.gradlint]\nselekt = ["GL2"]\n', "unknown key 'selekt' in [tool.gradlint]"),
        ('[tool.gradlint]\nselect = "GL2"\n', "'select' must be a list of strings, got string"),
        ('[tool.gradlint]\nignore = ["GL977"]\n', "unknown rule code 'GL977' in 'ignore'"),
        ('[tool.gradlint.rules.GL977]\nx = 1\n', "unknown rule code 'GL977' in [tool.gradlint.rules]"),
        ('[tool.gradlint.rules.GL206]\nmax-norm = 1\n', "unknown option 'max-norm' for GL206"),
        ('[tool.gradlint.probe]\ndevice = "tpu"\n', "'probe.device' must be one of auto, cpu, cuda"),
        ('[tool.gradlint.probe]\nsteps = "3"\n', "'probe.steps' must be an integer, got string"),
        ('[tool.gradlint]\njobs = true\n', "'jobs' must be an integer, got boolean"),
        ('[[tool.gradlint.models]]\nkwargs = {}\n', "needs entry = \"path/to/file.py:callable\""),
        ('[[tool.gradlint.models]]\nentry = "missing.py:build"\n', "entry 'missing.py:build': no such file missing.py"),
        ('[tool.gradlint\n', "not valid TOML"),
    ],
)
def test_bad_config_is_exit_2_naming_file_and_key(tmp_path, toml, message):
    write(tmp_path, "pyproject.toml", toml)
    write(tmp_path, "train.py", NO_ZERO_GRAD)
    result = run_gradlint("train.py", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("gradlint: error: ") and "pyproject.toml" in line
    assert message in line


def test_missing_explicit_config_is_exit_2(tmp_path):
    result = run_gradlint("--config", "nope.toml", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "gradlint: error: nope.toml: config file not found"


def test_rule_option_types_are_checked(monkeypatch):
    from gradlint import registry

    rule = registry.all_rules()["GL206"]
    patched = dict(registry.all_rules())
    patched["GL206"] = registry.Rule(**{**rule.__dict__, "options": {"max-norm": 1.0, "strict": False}})
    monkeypatch.setattr(registry, "_RULES", patched)
    settings = Settings()
    apply(settings, {"rules": {"GL206": {"max-norm": 2}}}, "pyproject.toml")  # int for float is fine
    assert settings.options_for("GL206", patched["GL206"].options) == {"max-norm": 2, "strict": False}
    with pytest.raises(ConfigError, match="option 'strict' of GL206 must be a boolean, got string"):
        apply(Settings(), {"rules": {"GL206": {"strict": "yes"}}}, "pyproject.toml")


def test_load_without_file_gives_defaults():
    settings = load(None)
    assert settings.select == ["ALL"] and settings.source is None


def test_exclude_and_extend_exclude(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.gradlint]\nextend-exclude = ["generated"]\n')
    write(tmp_path, "generated/train.py", NO_ZERO_GRAD)
    write(tmp_path, ".venv/lib/train.py", NO_ZERO_GRAD)
    write(tmp_path, ".ipynb_checkpoints/train-checkpoint.py", NO_ZERO_GRAD)
    write(tmp_path, "train.py", NO_ZERO_GRAD)
    result = run_gradlint("--output-format", "json", cwd=tmp_path)
    assert codes(result) == [("train.py", "GL206", 5)]
    # a file named on the command line is checked even inside an excluded folder
    named = run_gradlint("generated/train.py", "--output-format", "json", cwd=tmp_path)
    assert codes(named) == [("generated/train.py", "GL206", 5)]


def test_a_broken_pyproject_of_another_tool_is_passed_over_with_a_warning(tmp_path):
    # seen on a real repository: a folder tree pasted into pyproject.toml
    write(tmp_path, "pyproject.toml", "project/\n├── README.md\n├── train.py\n")
    write(tmp_path, "train.py", NO_ZERO_GRAD)
    result = run_gradlint("train.py", "--output-format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert codes(result) == [("train.py", "GL206", 5)]
    assert result.stderr.strip() == (f"gradlint: warning: {tmp_path.resolve() / 'pyproject.toml'}: "
                                     "not valid TOML and no [tool.gradlint] in it; ignored")
