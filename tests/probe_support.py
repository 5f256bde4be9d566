"""Helpers for the probe tests: probe an nn.Module in this process and run the GL3xx
rules on the result, without the worker (torch is imported by the caller)."""

from __future__ import annotations

from typing import Any, Optional

from gradlint.config import Settings
from gradlint.model.graph import ModelGraph
from gradlint.probe.summary import ProbeSummary, build_summary
from gradlint.registry import all_rules


def probe(model: Any, trace: bool = True, candidate: Optional[dict] = None, module_globals: Optional[dict] = None,
          **settings: Any) -> dict:
    import torch

    from gradlint.probe.entry import probe_model

    graph_module = torch.fx.symbolic_trace(model) if trace else None
    probe_settings = {"device": "cpu", "batch-size": 32, "seed": 0, **settings}
    return probe_model(model, graph_module, None, candidate, module_globals, probe_settings)


def summarize(result: dict) -> ProbeSummary:
    assert "error" not in result, result
    return build_summary(ModelGraph({"name": "m", "file": "m.py", "line": 1}), result)


def measured_codes(result: dict, settings: Optional[Settings] = None) -> dict[str, list[str]]:
    """GL3xx code -> messages, with each rule's default (or configured) options."""
    settings = settings or Settings()
    summary = summarize(result)
    found: dict[str, list[str]] = {}
    for code, rule in all_rules().items():
        if rule.scope == "probe":
            for report in rule.check(summary, settings.options_for(code, rule.options)):
                found.setdefault(code, []).append(report.message)
    return found


def mlp(depth: int, init: str = "default", width: int = 64, activation: str = "relu", bias: bool = True,
        batchnorm: bool = False, seed: int = 0) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[activation]
    layers: list = []
    for _ in range(depth):
        layer = nn.Linear(width, width, bias=bias)
        if init == "xavier":
            nn.init.xavier_normal_(layer.weight)
        elif init == "kaiming":
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        elif init == "normal":
            nn.init.normal_(layer.weight, std=1.0)
        if init != "default" and bias:
            nn.init.zeros_(layer.bias)
        layers += [layer] + ([nn.BatchNorm1d(width)] if batchnorm else []) + [act()]
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)
