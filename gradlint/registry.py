"""The rule registry: every module in `gradlint.rules` is one rule.

A rule module defines, at module level:

- ``CODE``, ``NAME`` (kebab-case), ``SEVERITY`` ("info" | "warning" | "error"),
  ``SUMMARY`` (one line), ``SCOPE`` (which summary its predicate reads: "file",
  "loop", "model", "probe", or "preflight": the real model and optimiser in the user's
  own process, ``gradlint.preflight``), ``FIXABLE`` and ``OPTIONS`` (name -> default);
- its documentation as the module docstring, in ruff's sections;
- ``VALID`` and ``INVALID`` lists of :class:`Case`;
- ``check(summary, options)`` yielding :class:`Report` objects.

and, when it needs them:

- ``RUNS``: the "longest run between resets" a structure rule reads from a model graph,
  a tuple of ``gradlint.model.runs.RunSpec`` (what a node counts, what resets the run,
  which run a merge passes on, which activations are excluded). Every model graph walks
  the selected rules' specs together in one pass; the rule reads its own with
  ``graph.run(SPEC)`` and keeps its threshold and message;
- ``confirm(probe, measured) -> Confirmation``: which probe measurements confirm or
  refute a static finding of the rule on a probed model (``probe`` is the model's
  ``ProbeSummary``, ``measured`` the codes of its GL3xx findings). Helpers and the default
  (any GL3xx finding, or the signals moved by 100x) are in ``gradlint.probe.verdicts``;
  the hook is looked up by code, so a rule of any static scope can carry one. A source
  rule whose consequence the probe measures itself takes that measurement instead:
  GL215's ``confirm(measurement)`` reads the gradient ratio at the logits (a dict, or
  None when nothing was measured), called by the probe and preflight code that measured it;
- ``measured(slips) -> Iterable[Report]``: the rule's form measured by
  ``gradlint.preflight`` on the live model (GL406's drifting BatchNorm statistics, GL215's
  gradient at the logits), reading ``gradlint.inprocess.slips.MeasuredSlips``; each
  report's ``evidence`` becomes its confirmation (``gradlint.apply.measured_finding``);
- ``READS = "outcome"``: for a model rule about the analysis itself (GL002, GL003), whose
  ``check`` reads the ``gradlint.model.outcome.ModelOutcome`` of every model (failed to
  load or probe, or not recorded) instead of its graph.

Everything users see about a rule (``gradlint rules``, ``explain``, SARIF help,
editor hovers) is read from that one module, so nothing can drift.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import Union, Any, Callable, Iterable, Optional

from gradlint.findings import Confirmation, Fix, Related, Severity, Span

__all__ = ["Case", "Invalid", "Report", "Rule", "RuleError", "Span", "Valid", "all_rules", "get_rule",
           "is_known_selector", "is_selected"]

# A rule's page is its own module: the docstring is the documentation.
DOCS_URL = "https://github.com/gradlint/gradlint/blob/main/rules/{module}.py"
_CODE_RE = re.compile(r"^GL\d{3}$")
SCOPES = ("file", "loop", "model", "probe", "preflight")


Evidence = dict[str, Union[float, str, None]]  # a measured finding's numbers (ints are floats here) and names


@dataclass
class Report:
    """What a rule's predicate yields: where, what, and optionally how to fix it.

    ``path`` is the file as shown to the user when the report is not in the summary's
    own file (a model's layer, a probe measurement); ``model`` names the model of a
    model, probe or preflight report; ``evidence`` holds a measured report's numbers,
    which become its confirmation (gradlint.apply)."""

    span: Span
    message: str
    fix: Optional[Fix] = None
    path: Optional[str] = None
    model: Optional[str] = None
    evidence: Evidence = field(default_factory=dict)
    related: tuple[Related, ...] = ()  # other places it is about (its own file unless they name one)


@dataclass(frozen=True)
class Case:
    """An example a rule carries for its own tests (Fixit-style).

    ``line`` is the 1-based line an INVALID case must be reported on, ``column`` (when
    given) its 1-based column and ``message`` (when given) a part of its message;
    ``fixed`` is the expected text after ``--fix`` for fixable rules; ``files`` are extra
    project files (name -> source) the case needs, e.g. a local module it imports.
    """

    code: str
    line: Optional[int] = None
    column: Optional[int] = None
    message: Optional[str] = None
    fixed: Optional[str] = None
    files: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, Any], ...] = ()


def Valid(code: str, **kwargs: Any) -> Case:
    return Case(code, **kwargs)


def Invalid(code: str, line: int, **kwargs: Any) -> Case:
    return Case(code, line=line, **kwargs)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    scope: str
    fixable: bool
    options: dict[str, Any]
    doc: str
    valid: tuple[Case, ...]
    invalid: tuple[Case, ...]
    check: Callable[..., Iterable[Report]]
    module: str
    runs: tuple[Any, ...] = ()  # RunSpecs (gradlint.model.runs); typed loosely to keep the registry torch- and model-free
    confirm: Optional[Callable[..., Confirmation]] = None
    measured: Optional[Callable[..., Iterable[Report]]] = None  # the form preflight measures
    reads: str = ""  # "outcome": check() reads a ModelOutcome, not the scope's summary

    @property
    def url(self) -> str:
        return DOCS_URL.format(module=self.module.rsplit(".", 1)[-1])

    def section(self, title: str) -> str:
        """The text of one ``## Title`` section of the rule's doc."""
        return doc_section(self.doc, title)


def doc_section(doc: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\s*\n(.*?)(?=^## |\Z)", doc, re.M | re.S)
    return match.group(1).strip() if match else ""


def code_blocks(text: str) -> list[str]:
    """The fenced ```python blocks of a doc section."""
    return [m.group(1) for m in re.finditer(r"```python\n(.*?)```", text, re.S)]


class RuleError(Exception):
    """A rule module breaks the contract above (a bug in gradlint, not user input)."""


def _load(module: ModuleType) -> Rule:
    try:
        rule = Rule(
            code=module.CODE,
            name=module.NAME,
            severity=Severity(module.SEVERITY),
            summary=module.SUMMARY,
            scope=module.SCOPE,
            fixable=bool(getattr(module, "FIXABLE", False)),
            options=dict(getattr(module, "OPTIONS", {})),
            doc=(module.__doc__ or "").strip(),
            valid=tuple(getattr(module, "VALID", ())),
            invalid=tuple(getattr(module, "INVALID", ())),
            check=module.check,
            module=module.__name__,
            runs=tuple(getattr(module, "RUNS", ())),
            confirm=getattr(module, "confirm", None),
            measured=getattr(module, "measured", None),
            reads=str(getattr(module, "READS", "")),
        )
    except AttributeError as exc:
        raise RuleError(f"{module.__name__}: {exc}") from None
    if not _CODE_RE.match(rule.code) or rule.scope not in SCOPES:
        raise RuleError(f"{module.__name__}: bad CODE or SCOPE")
    return rule


_RULES: Optional[dict[str, Rule]] = None


def all_rules() -> dict[str, Rule]:
    """Every rule, by code, in code order. Imported once per process."""
    global _RULES
    if _RULES is None:
        import gradlint.rules as package

        found: dict[str, Rule] = {}
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("gl"):
                rule = _load(importlib.import_module(f"{package.__name__}.{info.name}"))
                if rule.code in found:
                    raise RuleError(f"duplicate rule code {rule.code}")
                found[rule.code] = rule
        _RULES = dict(sorted(found.items()))
    return _RULES


def get_rule(code: str) -> Optional[Rule]:
    return all_rules().get(code.upper())


def is_known_selector(selector: str) -> bool:
    """A selector is a code prefix (``GL2``, ``GL206``) or ``ALL`` matching some rule."""
    selector = selector.upper()
    return selector == "ALL" or any(code.startswith(selector) for code in all_rules())


def _longest_match(code: str, selectors: Iterable[str]) -> int:
    best = -1
    for selector in selectors:
        selector = selector.upper()
        if selector == "ALL":
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best


def is_selected(code: str, select: Iterable[str], ignore: Iterable[str]) -> bool:
    """ruff's semantics: the most specific matching selector wins; a tie goes to ignore."""
    chosen = _longest_match(code, select)
    return chosen >= 0 and chosen > _longest_match(code, ignore)
