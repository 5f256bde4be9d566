"""Configuration: ``[tool.gradlint]`` in the nearest pyproject.toml, or ``--config FILE``.

Every key is checked: an unknown key, a value of the wrong type or an unknown rule
code is a :class:`ConfigError` whose one-line message names the file and the key.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10
    import tomli as tomllib

from gradlint.findings import Severity

DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", ".eggs", "__pycache__",
    "build", "dist", "node_modules", "site-packages", ".gradlint_cache", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints",  # (Jupyter's autosaved copies of the notebooks' scripts)
)
PROBE_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "device": "auto",
    "steps": 1,
    "batch-size": 8,
    "dtype": "float32",
    "seed": 0,
    "time-budget": 30.0,
    "optimizer": "auto",  # auto: the one the run's training script builds (gradlint/probe/optimizer_source.py)
}
# keys with no default value: absent unless set
PROBE_OPTIONAL: dict[str, Any] = {"lr": 0.01}
PROBE_CHOICES = {
    "device": ("auto", "cpu", "cuda"), "dtype": ("float32", "bfloat16", "float16"),
    "optimizer": ("auto", "sgd", "adam", "adamw", "rmsprop", "adagrad"),
}


class ConfigError(Exception):
    """Bad configuration; its message is one line naming the file and the key."""


@dataclass
class Settings:
    select: list[str] = field(default_factory=lambda: ["ALL"])
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    output_format: str = "text"
    fail_on: Severity = Severity.WARNING
    # a static finding the probe refuted: "info" reports it as info with the evidence
    # (so it no longer fails the run), "keep" keeps the rule's severity
    refuted: str = "info"
    jobs: Optional[int] = None
    timeout: float = 60.0  # seconds per model in the worker
    memory_limit: int = 4096  # MiB per worker process
    probe: dict[str, Any] = field(default_factory=lambda: dict(PROBE_DEFAULTS))
    models: list[dict[str, Any]] = field(default_factory=list)
    source: Optional[Path] = None  # the file the settings came from
    root: Path = field(default_factory=Path.cwd)  # the project root paths are shown from
    unsafe_fixes: bool = False  # --unsafe-fixes: --fix/--diff also apply fixes marked unsafe

    def options_for(self, code: str, defaults: dict[str, Any]) -> dict[str, Any]:
        return {**defaults, **self.rule_options.get(code, {})}


# key -> (attribute, accepted types, description for messages)
_LIST_OF_STR = "list of strings"
_KEYS: dict[str, tuple[str, str]] = {
    "select": ("select", _LIST_OF_STR),
    "ignore": ("ignore", _LIST_OF_STR),
    "extend-select": ("extend_select", _LIST_OF_STR),
    "exclude": ("exclude", _LIST_OF_STR),
    "extend-exclude": ("extend_exclude", _LIST_OF_STR),
    "per-file-ignores": ("per_file_ignores", "table of lists of strings"),
    "rules": ("rule_options", "table of tables"),
    "output-format": ("output_format", "string"),
    "fail-on": ("fail_on", "string"),
    "refuted": ("refuted", "string"),
    "jobs": ("jobs", "integer"),
    "timeout": ("timeout", "number"),
    "memory-limit": ("memory_limit", "integer"),
    "probe": ("probe", "table"),
    "models": ("models", "array of tables"),
}
OUTPUT_FORMATS = ("text", "json", "sarif", "github")
REFUTED_POLICIES = ("info", "keep")
MODEL_KEYS: dict[str, type | tuple[type, ...]] = {"entry": str, "kwargs": dict, "input": (str, list), "name": str, "config": dict}


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml with a [tool.gradlint] table, walking up from ``start``."""
    start = start.resolve()
    for folder in [start, *start.parents] if start.is_dir() else list(start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
                data = tomllib.loads(text)
            except (UnicodeDecodeError, OSError):
                return candidate  # let load() report it, naming the file
            except tomllib.TOMLDecodeError:
                if "gradlint" in text:
                    return candidate  # a broken [tool.gradlint] table: load() reports it, naming the file
                # another tool's broken file (or a folder tree saved as pyproject.toml) holds no settings of ours
                print(f"gradlint: warning: {candidate}: not valid TOML and no [tool.gradlint] in it; ignored",
                      file=sys.stderr)
                continue
            if "gradlint" in data.get("tool", {}):
                return candidate
    return None


def load(path: Optional[Path], *, explicit: bool = False) -> Settings:
    """Read settings from ``path`` (a pyproject.toml, or any TOML file given by --config)."""
    settings = Settings()
    if path is None:
        return settings
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if path.name == "pyproject.toml" or "tool" in data:
        table = data.get("tool", {}).get("gradlint", {})
    else:
        table = data  # a standalone gradlint.toml holds the keys at top level
    if explicit and path.name == "pyproject.toml" and "gradlint" not in data.get("tool", {}):
        raise ConfigError(f"{path}: no [tool.gradlint] table")
    settings.source = path
    settings.root = path.resolve().parent
    apply(settings, table, str(path))
    for index, model in enumerate(settings.models):
        file_part = model["entry"].rpartition(":")[0]
        if not (settings.root / file_part).is_file():  # else the model is silently never analysed
            raise ConfigError(f"{path}: [[tool.gradlint.models]] #{index + 1}: entry '{model['entry']}': "
                              f"no such file {file_part} (paths are relative to {settings.root})")
    return settings


def apply(settings: Settings, table: dict[str, Any], where: str) -> None:
    for key, value in table.items():
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown key '{key}' in [tool.gradlint]")
        attribute, expected = _KEYS[key]
        setattr(settings, attribute, _check(key, value, expected, where))
    if settings.output_format not in OUTPUT_FORMATS:
        raise ConfigError(f"{where}: 'output-format' must be one of {', '.join(OUTPUT_FORMATS)}")
    if settings.refuted not in REFUTED_POLICIES:
        raise ConfigError(f"{where}: 'refuted' must be one of {', '.join(REFUTED_POLICIES)}")
    if isinstance(settings.fail_on, str):
        try:
            settings.fail_on = Severity(settings.fail_on)
        except ValueError:
            raise ConfigError(f"{where}: 'fail-on' must be info, warning or error") from None
    _check_codes(settings, where)
    _check_rule_options(settings, where)
    _check_probe(settings, where)
    _check_models(settings, where)


def _check(key: str, value: Any, expected: str, where: str) -> Any:
    ok = {
        _LIST_OF_STR: isinstance(value, list) and all(isinstance(v, str) for v in value),
        "table of lists of strings": isinstance(value, dict)
        and all(isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()),
        "table of tables": isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "table": isinstance(value, dict),
        "array of tables": isinstance(value, list) and all(isinstance(v, dict) for v in value),
    }[expected]
    if not ok:
        raise ConfigError(f"{where}: '{key}' must be {_a(expected)}, got {_type_name(value)}")
    return value


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}.get(
        type(value), type(value).__name__
    )


def _check_codes(settings: Settings, where: str) -> None:
    from gradlint.registry import is_known_selector

    listed = [("select", c) for c in settings.select]
    listed += [("ignore", c) for c in settings.ignore]
    listed += [("extend-select", c) for c in settings.extend_select]
    listed += [("per-file-ignores", c) for codes in settings.per_file_ignores.values() for c in codes]
    for key, code in listed:
        if not is_known_selector(code):
            raise ConfigError(f"{where}: unknown rule code '{code}' in '{key}'")


def _check_rule_options(settings: Settings, where: str) -> None:
    from gradlint.registry import get_rule

    for code, options in settings.rule_options.items():
        rule = get_rule(code)
        if rule is None:
            raise ConfigError(f"{where}: unknown rule code '{code}' in [tool.gradlint.rules]")
        for name, value in options.items():
            if name not in rule.options:
                known = ", ".join(rule.options) or "none"
                raise ConfigError(
                    f"{where}: unknown option '{name}' for {rule.code} (options: {known})"
                )
            if not _same_type(rule.options[name], value):
                raise ConfigError(
                    f"{where}: option '{name}' of {rule.code} must be "
                    f"{_a(_type_name(rule.options[name]))}, got {_type_name(value)}"
                )
        settings.rule_options[code] = dict(options)
    settings.rule_options = {code.upper(): opts for code, opts in settings.rule_options.items()}


def _same_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _check_probe(settings: Settings, where: str) -> None:
    probe = dict(PROBE_DEFAULTS)
    for name, value in settings.probe.items():
        template = PROBE_DEFAULTS.get(name, PROBE_OPTIONAL.get(name))
        if template is None:
            raise ConfigError(f"{where}: unknown key '{name}' in [tool.gradlint.probe]")
        if not _same_type(template, value):
            raise ConfigError(
                f"{where}: 'probe.{name}' must be {_a(_type_name(template))}, got {_type_name(value)}"
            )
        if name in PROBE_CHOICES and value not in PROBE_CHOICES[name]:
            raise ConfigError(f"{where}: 'probe.{name}' must be one of {', '.join(PROBE_CHOICES[name])}")
        if name == "lr" and not value > 0:
            raise ConfigError(f"{where}: 'probe.lr' must be a positive number, got {value}")
        probe[name] = value
    settings.probe = probe


def _check_models(settings: Settings, where: str) -> None:
    for index, model in enumerate(settings.models):
        for name, value in model.items():
            if name not in MODEL_KEYS:
                raise ConfigError(f"{where}: unknown key '{name}' in [[tool.gradlint.models]] #{index + 1}")
            if not isinstance(value, MODEL_KEYS[name]):
                raise ConfigError(f"{where}: 'models[{index}].{name}' has the wrong type ({_type_name(value)})")
        if "entry" not in model or ":" not in model["entry"]:
            raise ConfigError(
                f"{where}: [[tool.gradlint.models]] #{index + 1} needs entry = \"path/to/file.py:callable\""
            )
        if "input" in model:
            from gradlint.probe.spec import spec_problem

            problem = spec_problem(model["input"])
            if problem:
                raise ConfigError(f"{where}: [[tool.gradlint.models]] #{index + 1}: {problem}")
