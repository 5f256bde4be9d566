"""The probe's entry point, called by the worker for each built model (see the
contract in DESIGN.md / issue 4): ``probe_model(...) -> dict``. It never raises.

What it runs, seeded and deterministic on the CPU for a given seed:

- input: :mod:`gradlint.probe.inputs` (config spec, ``example_input()``, Lightning's
  ``example_input_array``, inference from the first layer);
- loss: the model's own ``loss`` when its output carries one; else, on the first
  tensor of a tuple or the ``logits`` of a dict/ModelOutput, cross-entropy against
  random labels for class scores (a 2-D output, or a 3-D output of a final ``Linear``:
  token logits) and mean squared error against a standard-normal target otherwise.
  The loss is computed in float32; the forward runs under autocast for bfloat16/float16;
- ``steps`` training steps with the optimiser in ``candidate["optimizer"]``
  (``{"name": "AdamW", "options": {"lr": 3e-4}, "source": "train.py:12"}``), which the
  main process reads statically from the run's files (:mod:`gradlint.probe.optimizer_source`:
  the ``torch.optim`` optimiser built over this model's parameters in a script that
  imports the model's file, else the one optimiser class the scripts importing it build,
  else the one class the whole run builds, else SGD(lr=0.01); ``[tool.gradlint.probe]
  optimizer``/``lr`` override it). The JSON ``optimizer`` field says which and from
  where (``AdamW(lr=0.0003) from train.py:12``, ``SGD(lr=0.01) (default)``). With one
  step no update is measured, so the optimiser is not even built (``torch.optim`` costs
  a second of import). The first step is measured in full (hooks); every step records its global gradient
  norm and loss; the last step's per-layer gradient norms are kept when there are
  several. Steps stop early when ``time-budget`` seconds have passed;
- device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
from torch import nn

from gradlint.probe.inputs import InputError, ProbeInput, resolve_input
from gradlint.probe.output_activation import probe_output_activation
from gradlint.probe.measure import (
    Recorder, activation_kind, activations_from_graph, first_tensor, trainable_params, weight_layer_names,
)

AUTOCAST = {"bfloat16": torch.bfloat16, "float16": torch.float16}
DEFAULT_LR = 0.01


class ProbeFailure(Exception):
    """A problem the user can fix; the message says how."""


@dataclass
class Given:
    """What the user's own process hands the probe (``gradlint.preflight``): the real
    batch on the model's own device, and the real loss, instead of the synthetic ones.
    ``after_backward(output)`` runs once after the measured backward, while the
    gradients still exist (preflight reads them and steps the real optimiser there)."""

    data: ProbeInput
    device: torch.device
    loss: Optional[Callable[[Any], torch.Tensor]] = None
    loss_label: str = "loss_fn(output, batch)"
    after_backward: Optional[Callable[[Any], None]] = None


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"kind": kind, "message": " ".join(message.split())}}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def probe_model(model: Any, graph_module: Any, graph: Optional[dict], candidate: Optional[dict],
                module_globals: Optional[dict], probe_settings: Optional[dict]) -> dict[str, Any]:
    """Measure one model; a dict of measurements, or ``{"error": {...}}``. Never raises."""
    try:
        return run_probe(model, graph_module, graph or {}, candidate or {}, module_globals or {}, dict(probe_settings or {}))
    except InputError as exc:
        return _error("no-input", str(exc))
    except ProbeFailure as exc:
        return _error("failed", str(exc))
    except torch.cuda.OutOfMemoryError:
        return _error("failed", "the probe ran out of GPU memory: lower [tool.gradlint.probe] batch-size or use --device cpu")
    except Exception as exc:  # noqa: BLE001 - user code ran: report, never raise
        return _error("failed", f"the probe's forward/backward pass raised {_one_line(exc)}; "
                                f"check the input (set input = \"dtype[shape]\" in [[tool.gradlint.models]] or define example_input())")


def resolve_device(name: str) -> torch.device:
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ProbeFailure("--device cuda was asked for but CUDA is not available here; use --device auto or cpu")
        return torch.device("cuda")
    if name == "auto" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def seed_everything(seed: int, device: Optional[torch.device] = None) -> torch.Generator:
    """Seeds Python, the CPU and every CUDA device; with ``device``, only the CPU and that
    device's kind: what the probe can draw from, without ``torch.manual_seed``'s walk over
    every backend (CUDA, MPS, XPU, MTIA and custom devices), which a small model's GPU
    step notices."""
    random.seed(seed)
    if device is None:
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)
        if device.type == "cuda":
            torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)


def _place(model: nn.Module, modules: list[nn.Module], device: torch.device) -> None:
    """``model.to(device)`` and ``model.train()``, skipped when already so: each walks
    every module again, which is a noticeable part of a small model's GPU step."""
    wanted = device
    if device.type == "cuda" and device.index is None:
        wanted = torch.device("cuda", torch.cuda.current_device())
    if any(t is not None and t.device != wanted for m in modules
           for t in (*m._parameters.values(), *m._buffers.values())):
        model.to(device)
    if not all(m.training for m in modules):
        model.train()


def _layer_names(model: nn.Module, graph: dict) -> list[str]:
    names = []
    for layer in graph.get("layers") or []:
        name = layer.get("name")
        try:
            model.get_submodule(name)
        except (AttributeError, TypeError):
            try:
                model.get_parameter(name)  # a functional linear/conv: its weight's path
            except (AttributeError, TypeError):
                continue
        names.append(name)
    return names or weight_layer_names(model)


def _activation_entries(model: nn.Module, graph_module: Any, graph: dict) -> list[dict]:
    entries = []
    for act in graph.get("activations") or []:
        entries.append({**act, "kind": activation_kind(str(act.get("type", "")))})
    return entries or activations_from_graph(graph_module, model)


class PlainSGD:
    """SGD without momentum as one ``torch._foreach_add_``: ``torch.optim`` imports
    torch._dynamo on first use (about a second), which a one-step probe need not pay."""

    def __init__(self, params: list[nn.Parameter], lr: float = DEFAULT_LR) -> None:
        self.params, self.lr = params, lr

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        pairs = [(p, p.grad) for p in self.params if p.grad is not None]
        if pairs:
            torch._foreach_add_([p for p, _ in pairs], [g for _, g in pairs], alpha=-self.lr)


def optimizer_spec(candidate: dict, settings: dict) -> dict[str, Any]:
    """The candidate's optimiser spec from the main process, else the config's name, else SGD."""
    from gradlint.probe.optimizer_source import CONFIG_NAMES, DEFAULT

    spec = candidate.get("optimizer")
    if isinstance(spec, dict) and spec.get("name"):
        return spec
    chosen = str(settings.get("optimizer", "auto"))
    if chosen in CONFIG_NAMES:
        lr = settings.get("lr")
        options = {"lr": float(lr)} if lr is not None else ({"lr": DEFAULT_LR} if chosen == "sgd" else {})
        return {"name": CONFIG_NAMES[chosen], "options": options, "source": "config"}
    return dict(DEFAULT)


def build_optimizer(params: list[nn.Parameter], spec: dict[str, Any], steps: int,
                    groups: Optional[list[dict[str, Any]]] = None) -> tuple[Any, str]:
    """The optimiser for ``steps`` steps and its label for the report. SGD with only a
    learning rate, and any optimiser of a one-step probe (which never steps), is
    :class:`PlainSGD`, so ``torch.optim`` is imported only when an update is measured.
    ``groups``: the training script's param groups (their own lr and weight decay),
    stepped with ``torch.optim`` instead of ``params``."""
    from gradlint.probe.optimizer_source import label

    name = str(spec.get("name", "SGD"))
    options = dict(spec.get("options") or {})
    text = label({**spec, "name": name, "options": options})
    if steps <= 1 or (name == "SGD" and set(options) <= {"lr"} and groups is None):
        return PlainSGD(params, float(options.get("lr", DEFAULT_LR))), text
    if groups == []:  # the script's optimiser holds none of the probe's parameters: its steps change nothing
        return PlainSGD(params, 0.0), text
    factory = getattr(torch.optim, name, None)
    if not isinstance(factory, type) or not issubclass(factory, torch.optim.Optimizer):
        raise ProbeFailure(f"unknown optimiser '{name}' for the probe (use a torch.optim class name)")
    if isinstance(options.get("betas"), list):
        options["betas"] = tuple(options["betas"])
    try:
        return factory(params if groups is None else groups, **options), text
    except (TypeError, ValueError) as exc:
        raise ProbeFailure(f"cannot build {text} for the probe: {_one_line(exc)}; "
                           "set [tool.gradlint.probe] optimizer and lr") from None


class LossMaker:
    """Chooses the loss once (from the first output) and keeps its random target."""

    def __init__(self, generator: torch.Generator, last_layer: Optional[nn.Module]) -> None:
        self.generator = generator
        self.last_layer = last_layer
        self.kind = ""
        self.target: Optional[torch.Tensor] = None

    def __call__(self, output: Any) -> torch.Tensor:
        if isinstance(output, dict) or hasattr(output, "keys"):
            own = output.get("loss") if hasattr(output, "get") else None
            if isinstance(own, torch.Tensor) and own.dim() == 0 and own.requires_grad:
                self.kind = "the model's own loss"
                return own.float()
            logits = output.get("logits") if hasattr(output, "get") else None
            output = logits if isinstance(logits, torch.Tensor) else first_tensor(list(output.values()))
        scores = first_tensor(output)
        if scores is None or not scores.is_floating_point() or not scores.requires_grad:
            raise ProbeFailure("the model's output has no floating-point tensor that depends on its weights, "
                               "so the probe has nothing to backpropagate")
        scores = scores.float()
        if self.target is None:
            self._choose(scores)
        assert self.target is not None
        target = self.target.to(scores.device)
        if self.kind == "cross-entropy":
            return nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]), target.reshape(-1))
        return nn.functional.mse_loss(scores, target)

    def _choose(self, scores: torch.Tensor) -> None:
        classes = scores.shape[-1] if scores.dim() >= 2 else 0
        token_logits = (
            scores.dim() == 3 and isinstance(self.last_layer, nn.Linear) and self.last_layer.out_features == classes
        )
        if classes >= 2 and (scores.dim() == 2 or token_logits):
            self.kind = "cross-entropy"
            self.target = torch.randint(0, classes, tuple(scores.shape[:-1]), generator=self.generator)
        else:
            self.kind = "mse"
            self.target = torch.randn(tuple(scores.shape), generator=self.generator)


def _forward(module: Callable[..., Any], data: ProbeInput, device: torch.device, dtype: str) -> Any:
    """One forward pass of the model, or of its instrumented fx graph, under the probe's autocast."""
    autocast = AUTOCAST.get(dtype)
    with torch.autocast(device_type=device.type, dtype=autocast or torch.float32, enabled=autocast is not None):
        return module(*data.args, **data.kwargs)


def run_probe(model: Any, graph_module: Any, graph: dict, candidate: dict, module_globals: dict,
              settings: dict, given: Optional[Given] = None) -> dict[str, Any]:
    """:func:`probe_model`'s work; raises what went wrong (preflight turns it into its
    own error). With ``given``: one measured step on the user's batch, loss and device."""
    started = time.perf_counter()
    if not isinstance(model, nn.Module):
        raise ProbeFailure(f"the model is a {type(model).__name__}, not a torch.nn.Module")
    device = given.device if given else resolve_device(str(settings.get("device", "auto")))
    dtype = str(settings.get("dtype", "float32"))
    steps = 1 if given else max(1, int(settings.get("steps", 1)))
    budget = float(settings.get("time-budget", 30.0))
    batch = max(1, int(settings.get("batch-size", 8)))
    seed = int(settings.get("seed", 0))
    generator = seed_everything(seed, device)

    modules = dict(model.named_modules())  # the one walk: names, parameters, device, mode
    layer_names = _layer_names(model, graph)
    first_module = modules.get(layer_names[0]) if layer_names else None
    first = (layer_names[0], first_module) if first_module is not None else None
    if given is None:
        data = resolve_input(model, candidate, module_globals, first, batch, generator)
        _place(model, list(modules.values()), device)
        data = data.to(device)
    else:  # the user's batch on the user's device: nothing is moved
        data = given.data
        if not all(m.training for m in modules.values()):
            model.train()
    params = trainable_params(modules.values())
    if not params:
        raise ProbeFailure("the model has no trainable parameters, so there are no gradients to measure")
    spec = optimizer_spec(candidate, settings)
    script = None  # the training script's own param groups for this model (GL402-GL405)
    if given is None and isinstance(spec.get("selection"), dict):
        from gradlint.probe.optimizer_facts import ScriptOptimizer

        script = ScriptOptimizer.build(model, modules, spec["selection"])
    optimizer, optimizer_label = build_optimizer(params, spec, steps, script.param_groups(params) if script else None)
    activations = _activation_entries(model, graph_module, graph)

    recorder = Recorder(model, layer_names, activations, modules, params)
    last_layer = modules.get(layer_names[-1]) if layer_names else None
    loss_maker = LossMaker(generator, last_layer)
    recorder.install_layer_hooks()
    instrumented = recorder.instrumented(graph_module)
    recorder.install_activation_module_hooks(skip=recorder.observed_in_graph)

    step_grads: list[list[torch.Tensor]] = []
    weights: list[torch.Tensor] = []
    output_activation: Optional[dict[str, Any]] = None
    steps_run = 0
    try:
        for step in range(steps):
            if step and time.perf_counter() - started > budget:
                break
            optimizer.zero_grad(set_to_none=True)
            if step == 0 and instrumented is not None:
                try:
                    output = _forward(instrumented, data, device, dtype)
                except Exception:  # noqa: BLE001 - the traced graph may not run as the model does
                    output = None
                if output is None:  # measure on the model itself: module activations only
                    recorder.remove_hooks()
                    recorder = Recorder(model, layer_names, activations, modules, params)
                    recorder.install_layer_hooks()
                    recorder.install_activation_module_hooks()
                    instrumented = None
                    output = _forward(model, data, device, dtype)
            else:
                output = _forward(model, data, device, dtype)
            if step == 0:
                recorder.flush_activations()  # before backward: the ReLU maxima need not live through it
                if given is None:
                    output_activation = probe_output_activation(output, seed)  # GL215's confirmation
            loss = given.loss(output) if given and given.loss else loss_maker(output)
            recorder.record_loss(loss)
            loss.backward()
            norms = recorder.grad_norms(with_weights=step == 0)
            if step == 0:
                recorder.note_missing(output)
                if script is not None:
                    script.note_grads()
                if given and given.after_backward:
                    given.after_backward(output)
                recorder.remove_hooks()
                norms, weights = norms[:len(params)], norms[len(params):]
            step_grads.append(norms)
            steps_run += 1
            if step + 1 < steps:  # nothing measures an update after the last step
                script.step(optimizer) if script is not None else optimizer.step()
    finally:  # a failing user forward or loss must not leave hooks on the user's model
        recorder.remove_hooks()
    optimizer.zero_grad(set_to_none=True)  # free the gradients: the worker keeps the model

    tables = recorder.collect(weights, step_grads)
    if not graph.get("layers"):  # no graph order: the order the layers ran in
        order = {name: i for i, name in enumerate(tables["call_order"])}
        tables["layers"].sort(key=lambda layer: order.get(layer["name"], len(order)))
    return _finite({
        "device": str(device),
        "dtype": dtype,
        "seconds": round(time.perf_counter() - started, 4),
        "steps": steps_run,
        "steps_asked": steps,
        "budget_exceeded": steps_run < steps,
        "seed": seed,
        "input": data.described,
        "input_source": data.source,
        "loss": given.loss_label if given and given.loss else loss_maker.kind,
        "optimizer": optimizer_label,
        "functional_activations_seen": instrumented is not None,
        **({"output_activation": output_activation} if output_activation else {}),
        **tables,
        **({"optimizer_facts": script.facts(modules, tables["call_order"])} if script is not None else {}),
    })


def _finite(value: Any) -> Any:
    """JSON-safe: NaN and infinity become None (the ``nonfinite`` list names them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
