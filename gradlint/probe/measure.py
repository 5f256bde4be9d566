"""What the probe measures during one forward/backward pass, at a cost close to the
training step itself (MEASURED.md, "Probe cost"):

- per weight layer: the forward signal (RMS of its output), the backward signal (RMS
  of the gradient reaching its output, from a tensor hook on that output: tensor hooks
  survive in-place activations, which full backward hooks do not) and that gradient's
  norm (what GL301/GL302 compare: see summary.py), its weight norm and weight-gradient norm;
- per activation, module or functional: the saturated fraction (sigmoid/tanh family:
  outputs within 0.01 of the asymptotes) and the dead fraction (ReLU: units, i.e. the
  positions of one sample, that are not positive for any sample of the batch).
  Functional activations are seen by running a copy of the fx graph with an observer
  node after each activation; without a graph only module activations are seen, and
  a function kept as a module attribute inside a leaf module (torch's transformer
  layers' ``activation``) is wrapped on that instance for the pass.

Every number stays on the device as a 0-d tensor until :meth:`Recorder.collect`, which
stacks them, together with every step's parameter gradient norms (one
``torch._foreach_norm`` call a step), and moves them to the host in one transfer. On a
GPU a small model's step is bound by kernel launches and Python work, so each statistic
is kept to as few kernels as it needs, and sums of squares are done on the host.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import torch
from torch import nn

from gradlint.probe.nograd import no_grad_entries
from gradlint.probe.observe import ObservingRunner, Restore, activations_from_graph  # noqa: F401 - re-exported
from gradlint.probe.slots import Slots, backward_span, combined, dead_fraction, per_call_norm, rms, span, worst_fraction
from gradlint.probe.summary import activation_kind  # noqa: F401 - re-exported

SATURATION_MARGIN = 0.01  # sigmoid within 0.01 of 0 or 1, tanh within 0.01 of ±1
_NORM_TYPES = ("Norm", "LayerNorm", "GroupNorm", "RMSNorm")


def first_tensor(value: Any) -> Optional[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = first_tensor(item)
            if found is not None:
                return found
    return None


def weight_layer_names(model: nn.Module) -> list[str]:
    """Modules that own a weight directly (not normalisation layers), in registration order."""
    names = []
    for name, module in model.named_modules():
        if not name or any(t in type(module).__name__ for t in _NORM_TYPES):
            continue
        if any("weight" in p for p, _ in module.named_parameters(recurse=False)):
            names.append(name)
    return names


def _layer_params(module: nn.Module) -> list[nn.Parameter]:
    own = list(module.named_parameters(recurse=False))
    weights = [p for name, p in own if "weight" in name]
    return weights or [p for _, p in own]


def trainable_params(modules: Any) -> list[nn.Parameter]:
    """``[p for p in model.parameters() if p.requires_grad]``, in the same order, from
    modules already walked (``model.named_modules()``'s values): no second walk."""
    seen: set[int] = set()
    found = []
    for module in modules:
        for param in module._parameters.values():
            if param is not None and id(param) not in seen:
                seen.add(id(param))
                if param.requires_grad:
                    found.append(param)
    return found


class Recorder:
    """Hooks for one measured pass, then one transfer of everything it recorded."""

    def __init__(self, model: nn.Module, layer_names: list[str], activations: list[dict],
                 modules: Optional[dict[str, nn.Module]] = None, params: Optional[list[nn.Parameter]] = None) -> None:
        self.model = model
        self.layer_names = layer_names
        modules = modules if modules is not None else dict(model.named_modules())
        # a layer is a module (hooked) or, for a functional linear/conv, a parameter path
        self.layers: list[Optional[nn.Module]] = []
        layer_params: list[list[nn.Parameter]] = []
        for name in layer_names:
            module = modules.get(name)
            if module is not None:
                self.layers.append(module)
                layer_params.append(_layer_params(module))
            else:
                self.layers.append(None)
                layer_params.append([model.get_parameter(name)])
        self.activations = activations
        self.params = params if params is not None else trainable_params(modules.values())
        self.modules = modules
        index = {id(p): i for i, p in enumerate(self.params)}
        self.layer_params = [[index[id(p)] for p in params if id(p) in index] for params in layer_params]
        self.values: list[torch.Tensor] = []
        self.pending_alive: list[tuple[torch.Tensor, int]] = []  # (per-unit max over the batch, value slot)
        self.forward = [Slots() for _ in self.layers]
        self.backward = [Slots() for _ in self.layers]
        self.saturated = [Slots() for _ in activations]
        self.dead = [Slots() for _ in activations]
        self.always_active = [Slots() for _ in activations]
        self.losses = Slots()
        self.call_order: dict[int, int] = {}
        self.handles: list[Any] = []
        self.observed_in_graph: frozenset[int] = frozenset()
        self.missing: dict[int, bool] = {}  # parameter index with no gradient -> whether an output depends on it

    # ----- hooks -------------------------------------------------------------
    def _record(self, value: torch.Tensor, count: int, slots: Slots) -> None:
        slots.entries.append((len(self.values), count))
        if value.dim() or value.dtype != torch.float32:  # the norms and sums below are 0-d float32 already
            value = value.reshape(()).to(torch.float32)
        self.values.append(value)

    def record_loss(self, loss: torch.Tensor) -> None:
        self._record(loss.detach(), 1, self.losses)

    def install_layer_hooks(self) -> None:
        for position, module in enumerate(self.layers):
            if module is not None:
                self.handles.append(module.register_forward_hook(self._layer_hook(position)))

    def _layer_hook(self, position: int) -> Callable:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            out = first_tensor(output)
            if out is None or not out.is_floating_point() or out.numel() == 0:
                return
            self.call_order.setdefault(position, len(self.call_order))
            count = out.numel()
            call = len(self.forward[position].entries)
            self.forward[position].entries.append((len(self.values), count))
            self.values.append(torch.linalg.vector_norm(out.detach(), dtype=torch.float32))
            if out.requires_grad:
                out.register_hook(lambda grad: backward_hook(grad, call))

        backward_slots = self.backward[position]

        def backward_hook(grad: torch.Tensor, call: int) -> None:
            backward_slots.entries.append((len(self.values), grad.numel()))
            backward_slots.calls.append(call)
            self.values.append(torch.linalg.vector_norm(grad.detach(), dtype=torch.float32))
        return hook

    def observe_activation(self, x: Any, index: int) -> Any:
        """Record one activation output's statistics; returns ``x`` unchanged."""
        if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() == 0:
            return x
        kind = self.activations[index].get("kind")
        values = x.detach()
        if kind == "sigmoid":
            mask = (values < SATURATION_MARGIN) | (values > 1 - SATURATION_MARGIN)
            self._record(mask.sum(dtype=torch.float32), values.numel(), self.saturated[index])
        elif kind == "tanh":
            mask = values.abs() > 1 - SATURATION_MARGIN
            self._record(mask.sum(dtype=torch.float32), values.numel(), self.saturated[index])
        elif kind == "relu" and values.dim() >= 2:
            # alive: positive for some sample; counted on the device, dead = units - alive on
            # the host (a NaN unit is not alive, as before). amax first: a reduced tensor,
            # not a full-size mask, and one kernel fewer than compare/any/not/sum.
            # The compare and count wait for flush_activations (after the forward), where
            # activations of one size share them: on a GPU a small model pays per launch.
            flat = values.reshape(values.shape[0], -1)
            best = flat.amax(dim=0)
            self.dead[index].entries.append((len(self.values), best.numel()))
            self.pending_alive.append((best, len(self.values)))
            self.values.append(best)  # replaced by its alive count in flush_activations
            # units positive for every sample: with the never-active ones, they tell a batch
            # that does not vary at this layer (globally pooled noise) from a dead layer
            least = flat.amin(dim=0)
            self.always_active[index].entries.append((len(self.values), least.numel()))
            self.pending_alive.append((least, len(self.values)))
            self.values.append(least)
        return x

    def flush_activations(self) -> None:
        """Alive counts of the ReLU outputs seen since the last flush: per size, one
        stack, one compare and one row sum for all of them (0-d views of the sums)."""
        by_size: dict[int, list[tuple[torch.Tensor, int]]] = {}
        for best, slot in self.pending_alive:
            by_size.setdefault(best.numel(), []).append((best, slot))
        self.pending_alive = []
        for group in by_size.values():
            alive = torch.stack([best for best, _ in group]).gt_(0).sum(dim=1, dtype=torch.float32)
            for row, (_, slot) in enumerate(group):
                self.values[slot] = alive[row]

    def install_activation_module_hooks(self, skip: frozenset[int] = frozenset()) -> None:
        """Hooks on activation modules not observed in the fx graph (no graph, or inside a
        leaf module); a module called in several places feeds its entries in call order."""
        by_module: dict[str, list[int]] = {}
        by_attribute: dict[str, list[int]] = {}
        for index, entry in enumerate(self.activations):
            if index not in skip:
                (by_module if entry.get("module") else by_attribute).setdefault(entry["name"], []).append(index)
        for name, indices in by_module.items():
            try:
                module = self.model.get_submodule(name)
            except (AttributeError, TypeError):
                continue
            self.handles.append(module.register_forward_hook(self._activation_hook(indices)))
        for name, indices in by_attribute.items():
            self._wrap_function_attribute(name, indices)

    def _wrap_function_attribute(self, name: str, indices: list[int]) -> None:
        """A function kept as a module's attribute and called inside a leaf module the fx
        graph does not enter (``TransformerEncoderLayer.activation = F.relu``): wrapped on
        that instance for the measured pass, restored by :meth:`remove_hooks`."""
        owner_name, _, attribute = name.rpartition(".")
        if not owner_name:
            return  # a function node of the graph itself, not an attribute
        try:
            owner = self.model.get_submodule(owner_name)
        except (AttributeError, TypeError):
            return
        function = owner.__dict__.get(attribute)
        if function is None or isinstance(function, nn.Module) or not callable(function):
            return
        observe = self._activation_hook(indices)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            output = function(*args, **kwargs)
            observe(owner, args, output)
            return output
        owner.__dict__[attribute] = wrapped
        self.handles.append(Restore(owner, attribute, function))

    def _activation_hook(self, indices: list[int]) -> Callable:
        calls = [0]

        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            self.observe_activation(output, indices[calls[0] % len(indices)])
            calls[0] += 1
        return hook

    def instrumented(self, graph_module: Any) -> Optional[Callable[..., Any]]:
        """A runner of the fx graph that observes each activation's output as the node
        runs, sharing the model's parameters and modules (so the layer hooks fire);
        None when the graph does not belong to this model.

        It interprets the existing graph node by node instead of copying and recompiling
        it: the copy cost ~9 ms per model, more than a whole step of a small model on a
        GPU, while interpreting costs a few microseconds a node, for one forward only."""
        if graph_module is None or not isinstance(graph_module, torch.fx.GraphModule):
            return None
        mine = {id(p) for m in self.modules.values() for p in m._parameters.values() if p is not None}
        graph_modules = dict(graph_module.named_modules())
        if any(p is not None and id(p) not in mine for m in graph_modules.values() for p in m._parameters.values()):
            return None  # traced on another copy (e.g. the meta device): cannot share weights
        waiting: dict[str, list[int]] = {}  # entries in forward order, matched to nodes in order
        for index, entry in enumerate(self.activations):
            waiting.setdefault(entry["name"], []).append(index)
        observed: dict[str, int] = {}
        for node in graph_module.graph.nodes:
            key = str(node.target) if node.op == "call_module" else node.name
            if node.op in ("call_module", "call_function", "call_method") and waiting.get(key):
                observed[node.name] = waiting[key].pop(0)
        self.observed_in_graph = frozenset(observed.values())
        return ObservingRunner(graph_module, observed, self, graph_modules)

    def remove_hooks(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()

    # ----- gradients and the one transfer ------------------------------------
    def grad_norms(self, with_weights: bool = False) -> list[torch.Tensor]:
        """Every parameter's gradient norm as 0-d tensors on the device, then, with
        ``with_weights``, every parameter's own norm: one foreach call, nothing stacked
        or summed here (:meth:`collect` stacks every step at once)."""
        if not self.params:
            return []
        grads: list[torch.Tensor] = [p.grad for p in self.params if p.grad is not None]
        if len(grads) < len(self.params):
            zero = torch.zeros((), device=self.params[0].device)
            grads = [zero if p.grad is None else p.grad for p in self.params]
        with torch.no_grad():
            return list(torch._foreach_norm([*grads, *self.params] if with_weights else grads))

    def note_missing(self, output: Any) -> None:
        """After the first backward: the trainable parameters whose ``.grad`` is None, and
        for each whether some output tensor depends on it at all (a walk of the autograd
        graph, done only when a gradient is missing: no second backward)."""
        missing = [i for i, p in enumerate(self.params) if p.grad is None]
        if missing:
            from gradlint.probe.nograd import reachable_parameters

            reached = reachable_parameters(output)
            self.missing = {i: id(self.params[i]) in reached for i in missing}

    def collect(self, weights: list[torch.Tensor], step_grads: list[list[torch.Tensor]]) -> dict[str, Any]:
        """``step_grads``: each step's :meth:`grad_norms`. The first step's are the
        per-layer gradient norms, the last step's (with several) ``grad_norm_last``;
        every step's global norm is summed on the host from its per-parameter norms."""
        self.flush_activations()
        pieces = [*weights, *(norm for step in step_grads for norm in step), *self.values]
        flat: list[float] = []
        if pieces:
            device = pieces[0].device
            pieces = [t if t.device == device else t.to(device) for t in pieces]
            flat = torch.stack(pieces).cpu().tolist()  # the one transfer; stack promotes to float32 or wider
        count = len(self.params)
        weight_values, flat = flat[:count], flat[count:]
        steps: list[list[float]] = []
        for _ in step_grads:
            steps.append(flat[:count])
            flat = flat[count:]
        first = steps[0] if steps else [math.nan] * count
        last = steps[-1] if len(steps) > 1 else None
        step_norms = [math.sqrt(sum(g * g for g in norms)) for norms in steps]
        return self._tables(first, weight_values, last, step_norms, flat)

    def _tables(self, grads: list[float], weights: list[float], last: Optional[list[float]],
                steps: list[float], values: list[float]) -> dict[str, Any]:
        losses = [values[i] for i, _ in self.losses.entries]
        nonfinite = sorted({self.param_name(i) for i, g in enumerate(grads) if not math.isfinite(g)})
        # deliberately zero-initialised weights, normalisation layers' included (a residual
        # branch's last BatchNorm with gamma 0, torchvision's zero_init_residual): they block
        # the first step's gradient to the layers before them, as a zero weight layer does
        # (one walk for the names: zero-initialised biases are common and many)
        zeros = {id(self.params[i]) for i, w in enumerate(weights) if w == 0}
        zero_weights = sorted(name for name, p in self.model.named_parameters()
                              if id(p) in zeros and name.rsplit(".", 1)[-1] == "weight") if zeros else []
        layers = []
        for position, name in enumerate(self.layer_names):
            grad = combined(grads, self.layer_params[position])
            weight = combined(weights, self.layer_params[position])
            layers.append({
                "name": name,
                "type": type(self.layers[position]).__name__ if self.layers[position] is not None else "parameter",
                "grad_norm": grad,
                "weight_norm": weight,
                "grad_weight_ratio": grad / weight if grad is not None and weight else None,
                "backward_signal": rms(values, self.backward[position]),
                "backward_norm": per_call_norm(values, self.backward[position]),
                "backward_norm_span": backward_span(values, self.backward[position]),
                "forward_signal": rms(values, self.forward[position]),
                "forward_signal_span": span(values, self.forward[position]),
                "grad_norm_last": combined(last, self.layer_params[position]) if last is not None else None,
                "called": position in self.call_order,
            })
        activations = []
        for index, entry in enumerate(self.activations):
            activations.append({
                "name": entry["name"], "type": entry.get("type"), "family": entry.get("family"),
                "saturated": worst_fraction(values, self.saturated[index]),
                "dead": dead_fraction(values, self.dead[index], self.always_active[index]),
                "calls": len(self.saturated[index].entries) + len(self.dead[index].entries),
            })
        finite = [g for g in grads if math.isfinite(g)]
        return {
            "layers": layers,
            "activations": activations,
            "no_grad": no_grad_entries(self, grads, weights),
            "global_grad_norm": math.sqrt(sum(g * g for g in finite)) if len(finite) == len(grads) else None,
            "grad_norm_per_step": [s if math.isfinite(s) else None for s in steps],
            "nonfinite": nonfinite,
            "zero_weights": zero_weights,
            "loss_per_step": [v if math.isfinite(v) else None for v in losses],
            "call_order": [self.layer_names[p] for p, _ in sorted(self.call_order.items(), key=lambda kv: kv[1])],
        }

    def param_name(self, index: int) -> str:
        target = self.params[index]
        for name, param in self.model.named_parameters():
            if param is target:
                return name
        return f"parameter {index}"
