"""README.md stays true: its rules table, its TOML examples and its flags match the code."""

from __future__ import annotations

import re
import sys

import pytest

from conftest import ROOT
from gradlint.cli import build_parser
from gradlint.config import Settings, apply
from gradlint.registry import all_rules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_rules_table_matches_the_rule_modules():
    rows = {m.group(1): m.groups() for m in re.finditer(r"^\| (GL\d{3}) \| ([\w-]+) \| (\w+) \| (yes|no) \|", README, re.M)}
    assert set(rows) == set(all_rules()), "README's rules table lists other codes than gradlint rules"
    for code, rule in all_rules().items():
        assert rows[code][1:] == (rule.name, rule.severity.value, "yes" if rule.fixable else "no"), code


@pytest.mark.parametrize("block", re.findall(r"```toml\n(.*?)```", README, re.S))
def test_toml_examples_are_valid_config(block):
    table = tomllib.loads(block).get("tool", {}).get("gradlint", {})
    apply(Settings(), table, "README.md")  # raises ConfigError on any unknown key or bad value


def test_every_flag_in_the_usage_table_exists():
    known = {option for action in build_parser()._actions for option in action.option_strings}
    documented = set(re.findall(r"^\| `(--?[\w-]+)", README, re.M))
    assert documented and documented <= known, documented - known
