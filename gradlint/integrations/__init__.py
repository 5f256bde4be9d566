"""Thin callbacks over ``gradlint.preflight`` for training frameworks; each imports its
framework, which gradlint does not depend on:

- ``gradlint.integrations.lightning.GradlintCallback`` (Lightning ``Callback``);
- ``gradlint.integrations.transformers.GradlintCallback`` (transformers ``TrainerCallback``).
"""

from __future__ import annotations

import logging
from typing import Any, Optional

LOG = logging.getLogger("gradlint")


def publish(report: Any, raise_on: Optional[str], stop_on: Optional[str]) -> bool:
    """Log the report on rank 0; raise for ``raise_on``; True when ``stop_on`` is met."""
    from gradlint.inprocess.errors import PreflightError

    if report.rank == 0 and (report.findings or report.notices):
        LOG.warning("gradlint preflight:\n%s", report.text().rstrip())
    if raise_on is not None and report.at_least(raise_on):
        codes = ", ".join(report.codes)
        raise PreflightError(f"gradlint preflight found {codes} before the first training step; see .report", report)
    return stop_on is not None and bool(report.at_least(stop_on))
