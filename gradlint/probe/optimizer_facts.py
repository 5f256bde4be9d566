"""Worker side of the training script's optimiser (torch): the param groups and
``requires_grad`` changes read statically (:mod:`gradlint.source.optimizer_params`)
rebuilt on the model the probe built, and what the probe measured on them: which
parameters got a gradient, which group holds each, and, when the probe steps the
optimiser, which the first step changed. The JSON ``optimizer_facts`` entry this makes
is what the main process turns into the GL402-GL405 summary
(:mod:`gradlint.probe.optimizer_checks`).

The freezes are not applied to the model (the probe's other measurements stay those of
the model as built); "trainable" in the facts is ``requires_grad`` after them.
"""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from gradlint.model.extract import module_kind



def _parameters_at(model: nn.Module, modules: dict[str, nn.Module], path: str) -> Optional[list[nn.Parameter]]:
    """The parameters of the module or parameter at ``path`` (None when there is none:
    the script's model is not the probe's)."""
    module = modules.get(path)
    if module is not None:
        return list(module.parameters())
    try:
        return [model.get_parameter(path)]
    except (AttributeError, TypeError):
        return None


class ScriptOptimizer:
    """One training script's optimiser on the probe's model."""

    def __init__(self, model: nn.Module, selection: dict[str, Any], groups: list[list[nn.Parameter]],
                 trainable: dict[int, bool]) -> None:
        self.model, self.selection, self.groups, self.trainable = model, selection, groups, trainable
        self.group_of = {id(p): index for index, group in enumerate(groups) for p in group}
        self.got_grad: dict[int, bool] = {}
        self.changed: dict[int, bool] = {}
        self.saved: list[tuple[nn.Parameter, torch.Tensor]] = []
        self.steps = 0

    @classmethod
    def build(cls, model: nn.Module, modules: dict[str, nn.Module], selection: Any) -> Optional["ScriptOptimizer"]:
        """The script's groups on this model, or None when a path does not exist here or
        the groups are not ones torch would accept (a parameter twice, an empty group)."""
        if not isinstance(selection, dict) or not selection.get("groups"):
            return None
        trainable = {id(p): p.requires_grad for p in model.parameters()}
        for path, flag in selection.get("freeze") or []:
            found = _parameters_at(model, modules, str(path))
            if found is None:
                return None
            trainable.update({id(p): bool(flag) for p in found})
        groups: list[list[nn.Parameter]] = []
        seen: set[int] = set()
        for group in selection["groups"]:
            members: dict[int, nn.Parameter] = {}
            for selector in group.get("select") or []:
                found = _parameters_at(model, modules, str(selector.get("path", "")))
                if found is None:
                    return None
                for param in found:
                    if not selector.get("trainable_only") or trainable.get(id(param)):
                        members.setdefault(id(param), param)
            if not members or seen & set(members):
                return None
            seen |= set(members)
            groups.append(list(members.values()))
        return cls(model, selection, groups, trainable)

    def param_groups(self, params: list[nn.Parameter]) -> list[dict[str, Any]]:
        """The groups for the probe's own ``torch.optim`` optimiser: the script's members
        among the probe's trainable ``params``, with the group's literal options."""
        probed = {id(p) for p in params}
        found = []
        for group, spec in zip(self.groups, self.selection["groups"]):
            members = [p for p in group if id(p) in probed]
            options = {k: v for k, v in (spec.get("options") or {}).items() if v is not None}
            if members:
                found.append({"params": members, **options})
        return found

    def note_grads(self) -> None:
        """After the measured backward: which parameters got a non-zero gradient."""
        from gradlint.inprocess.collect import nonzero

        params = list(self.model.parameters())
        self.got_grad = {id(p): g for p, g in zip(params, nonzero([p.grad for p in params]))}

    def step(self, optimizer: Any) -> None:
        """``optimizer.step()``; the first one is measured against a copy of the stepped
        parameters (the one copy a stepping probe makes)."""
        if self.steps:
            optimizer.step()
            self.steps += 1
            return
        with torch.no_grad():
            self.saved = [(p, p.detach().clone()) for group in self.groups for p in group if p.grad is not None]
        optimizer.step()
        self.steps = 1
        with torch.no_grad():
            flags = [(p.detach() != before).any() for p, before in self.saved]
            moved = torch.stack([f.to(flags[0].device) for f in flags]).cpu().tolist() if flags else []
        self.changed = {id(p): bool(m) for (p, _), m in zip(self.saved, moved)}
        self.saved = []

    def facts(self, modules: dict[str, nn.Module], call_order: list[str]) -> dict[str, Any]:
        """The JSON ``optimizer_facts``: groups, every parameter and the weight layers in
        the order they ran, each with where the user created its module."""
        from gradlint.inprocess.collect import param_kind
        from gradlint.probe.nograd import created_location

        selection = self.selection
        options = selection.get("options") or {}
        groups = []
        for index, spec in enumerate(selection["groups"]):
            own = spec.get("options") or {}
            lr = own["lr"] if "lr" in own else options.get("lr")
            decay = own["weight_decay"] if "weight_decay" in own else options.get("weight_decay")
            groups.append({"index": index, "lr": lr, "weight_decay": decay if isinstance(decay, (int, float)) else 0.0,
                           "scheduled": bool(selection.get("scheduled"))})
        places: dict[str, dict[str, Any]] = {}

        def place(path: str) -> dict[str, Any]:
            if path not in places:
                location = created_location(modules, path)
                places[path] = ({"file": location.path, "line": location.line, "column": location.column,
                                 "end_line": location.end_line, "end_column": location.end_column} if location else {})
            return places[path]

        params = []
        seen: set[int] = set()
        layers: dict[str, dict[str, Any]] = {}
        for module_name, module in modules.items():
            for own_name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                params.append({
                    "name": f"{module_name}.{own_name}" if module_name else own_name, "module": module_name,
                    "type": type(module).__name__, "kind": param_kind(module, own_name), "numel": param.numel(),
                    "trainable": self.trainable.get(id(param), param.requires_grad),
                    "got_grad": self.got_grad.get(id(param)) if self.got_grad else None,
                    "group": self.group_of.get(id(param)),
                    "changed": self.changed.get(id(param)) if self.changed else None,
                    **place(module_name),
                })
            weight = module._parameters.get("weight")
            if module_kind(module) == "layer" and weight is not None:
                layers[module_name] = {"name": module_name, "type": type(module).__name__,
                                       "trainable": self.trainable.get(id(weight), weight.requires_grad),
                                       "numel": weight.numel(), **place(module_name)}
        order = {name: i for i, name in enumerate(call_order)}
        ran = sorted((l for l in layers.values() if l["name"] in order), key=lambda l: order[l["name"]])
        return {
            "optimizer": selection.get("optimizer"), "shown": selection.get("shown"), "span": selection.get("span"),
            "model_in_file": bool(selection.get("model_in_file")), "steps": self.steps, "groups": groups, "params": params, "layers": ran or list(layers.values()),
        }
