"""Where the probe's input comes from, in DESIGN.md's order:

1. the model's input spec from config (``input = "float32[8,3,32,32]"``) or ``--input``;
   several inputs as a list or comma-separated; integer ids with a range:
   ``"int64[8,128](0,50257)"`` or ``"int64[8,128](50257)"`` (upper bound exclusive);
2. a module-level ``example_input()`` / ``example_inputs()`` in the user's file
   (a tensor, a tuple/list of tensors passed positionally, or a dict passed as keywords);
3. PyTorch Lightning's ``example_input_array`` (on the model or in the module);
4. the input size the model declares: timm's ``pretrained_cfg["input_size"]`` (or
   ``default_cfg``), a Hugging Face ``config`` (``image_size``/``num_channels`` → pixel
   values; ``vocab_size`` and ``max_position_embeddings`` → token ids), torchvision's
   ``VisionTransformer.image_size`` and the 224×224 (299×299 for Inception v3) that
   torchvision's ImageNet classifiers are trained at. A model probed at a size it was
   not made for reads as unhealthy (an ImageNet stem collapses a 32×32 image to 1×1);
5. inferred from the first weight layer: Linear → ``float32[B, in_features]``,
   Conv1d/2d/3d → in_channels and the first of a few common spatial sizes the whole
   model accepts (32×32, 28×28, 64×64, 224×224 for 2-d), Embedding → integer ids below
   ``num_embeddings``, RNN/LSTM/GRU → ``[B, 16, input_size]`` (time first unless
   ``batch_first``).

Random tensors come from a CPU generator seeded with the probe seed, so the input is
the same on every device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import torch
from torch import nn

from gradlint.probe.spec import SPEC_RE, spec_problem, split_specs  # split_specs: re-exported

if TYPE_CHECKING:
    from typing import TypeGuard  # 3.10+; only read by the type checker here

DTYPES = {
    "float32": torch.float32, "float": torch.float32, "float64": torch.float64, "double": torch.float64,
    "float16": torch.float16, "half": torch.float16, "bfloat16": torch.bfloat16,
    "int64": torch.int64, "long": torch.int64, "int32": torch.int32, "int": torch.int32,
    "bool": torch.bool,
}
SEQUENCE_LENGTH = 16
# spatial sizes a conv-first model is tried with, most common first (the first is the default)
SPATIAL_TRIES = {
    1: ((64,), (128,), (1024,), (16000,)),
    2: ((32, 32), (28, 28), (64, 64), (224, 224)),
    3: ((8, 8, 8), (16, 16, 16), (32, 32, 32)),
}


class InputError(Exception):
    """No usable input: the message says what to add."""


@dataclass
class ProbeInput:
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # config | example_input | example_inputs | example_input_array | inferred
    described: str = ""  # "float32[8,784]" etc., for the report

    def to(self, device: torch.device) -> "ProbeInput":
        return ProbeInput(_move(self.args, device), _move(self.kwargs, device), self.source, self.described)


def _move(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, tuple):
        return tuple(_move(v, device) for v in value)
    if isinstance(value, list):
        return [_move(v, device) for v in value]
    if isinstance(value, dict):
        return {k: _move(v, device) for k, v in value.items()}
    return value


def tensor_from_spec(spec: str, generator: torch.Generator) -> torch.Tensor:
    problem = spec_problem(spec)
    if problem:
        raise InputError(problem)
    match = SPEC_RE.match(spec)
    assert match is not None  # spec_problem() accepted it
    dtype = DTYPES[match.group(1).lower()]
    shape = tuple(int(s) for s in match.group(2).replace(" ", "").split(",") if s)
    low, high = match.group(3), match.group(4)
    if dtype.is_floating_point:
        return torch.randn(shape, generator=generator).to(dtype)
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=generator).bool()
    if low is None:
        low_value, high_value = 0, 2
    elif high is None:
        low_value, high_value = 0, int(low)
    else:
        low_value, high_value = int(low), int(high)
    if high_value <= low_value:
        raise InputError(f"bad input spec '{spec}': empty integer range ({low_value}, {high_value})")
    return torch.randint(low_value, high_value, shape, generator=generator, dtype=dtype)


def describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).replace("torch.", "")
        return f"{dtype}[{','.join(str(s) for s in value.shape)}]"
    if isinstance(value, (tuple, list)):
        return ", ".join(describe(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={describe(v)}" for k, v in value.items())
    return type(value).__name__


def _as_input(value: Any, source: str) -> ProbeInput:
    if isinstance(value, dict):
        return ProbeInput((), dict(value), source, describe(value))
    if isinstance(value, (tuple, list)):
        return ProbeInput(tuple(value), {}, source, describe(value))
    return ProbeInput((value,), {}, source, describe(value))


def resolve_input(
    model: nn.Module,
    candidate: Optional[dict],
    module_globals: Optional[dict],
    first_layer: Optional[tuple[str, nn.Module]],
    batch_size: int,
    generator: torch.Generator,
) -> ProbeInput:
    spec = (candidate or {}).get("input")
    if spec:
        tensors = tuple(tensor_from_spec(s, generator) for s in split_specs(spec))
        return ProbeInput(tensors, {}, "config", describe(tensors))
    module_globals = module_globals or {}
    for name in ("example_input", "example_inputs"):
        function = module_globals.get(name)
        if callable(function):
            try:
                value = function()
            except Exception as exc:  # noqa: BLE001 - user code: report, never raise
                raise InputError(f"{name}() raised {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")) from None
            return _as_input(value, name)
    for holder in (model, module_globals):
        value = holder.get("example_input_array") if isinstance(holder, dict) else getattr(holder, "example_input_array", None)
        if value is not None:
            return _as_input(value, "example_input_array")
    declared = declared_input(model, batch_size, generator)
    if declared is not None:
        return declared
    if first_layer is not None:
        inferred = infer_from_layer(first_layer[1], batch_size, generator, _spatial_size(model, first_layer[1]))
        if inferred is not None:
            inferred.described += f" (inferred from the first layer {first_layer[0]}: {type(first_layer[1]).__name__})"
            return inferred
    raise InputError(
        "no input for the probe: add input = \"float32[8,...]\" to the model's [[tool.gradlint.models]] "
        "entry (or pass --input), or define example_input() in the model's file"
    )


def _is_conv(layer: nn.Module) -> TypeGuard[nn.modules.conv._ConvNd]:
    return isinstance(layer, nn.modules.conv._ConvNd) and not isinstance(layer, nn.modules.lazy.LazyModuleMixin)


def _spatial_size(model: nn.Module, layer: nn.Module) -> Optional[tuple[int, ...]]:
    """The first spatial size, of SPATIAL_TRIES, that the whole model accepts behind a conv
    first layer: a classifier head sized for 28x28 (LeNet on MNIST) or 224x224 (ImageNet
    patch embeddings) rejects the default. One sample, no gradients, eval mode (batch
    statistics of one sample would fail), modes restored; None when none fits."""
    if not _is_conv(layer):
        return None
    dims = len(layer.kernel_size)
    tries = SPATIAL_TRIES.get(dims, ((16,) * dims,))
    modes = [(module, module.training) for module in model.modules()]
    trial_generator = torch.Generator().manual_seed(0)  # the probe's own stream stays as it was
    model.eval()
    try:
        for size in tries:
            trial = torch.randn(1, layer.in_channels, *size, generator=trial_generator)
            try:
                with torch.no_grad():
                    model(trial)
            except Exception:  # noqa: BLE001 - a shape error says: try the next size
                continue
            return size
        return None
    finally:
        for module, training in modes:
            module.training = training


def infer_from_layer(layer: nn.Module, batch: int, generator: torch.Generator,
                     spatial: Optional[tuple[int, ...]] = None) -> Optional[ProbeInput]:
    """A synthetic input the first weight layer accepts, or None when its type says nothing."""
    tensor: Optional[torch.Tensor] = None
    if isinstance(layer, nn.Linear) and not isinstance(layer, nn.LazyLinear):
        tensor = torch.randn(batch, layer.in_features, generator=generator)
    elif _is_conv(layer):
        dims = len(layer.kernel_size)
        size = spatial or SPATIAL_TRIES.get(dims, ((16,) * dims,))[0]
        tensor = torch.randn(batch, layer.in_channels, *size, generator=generator)
    elif isinstance(layer, (nn.Embedding, nn.EmbeddingBag)):
        tensor = torch.randint(0, layer.num_embeddings, (batch, SEQUENCE_LENGTH), generator=generator)
    elif isinstance(layer, nn.RNNBase):
        shape = (batch, SEQUENCE_LENGTH) if layer.batch_first else (SEQUENCE_LENGTH, batch)
        tensor = torch.randn(*shape, layer.input_size, generator=generator)
    elif isinstance(layer, (nn.RNNCell, nn.LSTMCell, nn.GRUCell)):
        tensor = torch.randn(batch, layer.input_size, generator=generator)
    elif isinstance(layer, (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)):
        width = layer.linear1.in_features
        shape = (batch, SEQUENCE_LENGTH) if layer.self_attn.batch_first else (SEQUENCE_LENGTH, batch)
        tensor = torch.randn(*shape, width, generator=generator)
    elif isinstance(layer, nn.MultiheadAttention):
        shape = (batch, SEQUENCE_LENGTH) if layer.batch_first else (SEQUENCE_LENGTH, batch)
        query = torch.randn(*shape, layer.embed_dim, generator=generator)
        return ProbeInput((query, query, query), {}, "inferred", describe(query) + " (query, key, value)")
    if tensor is None:
        return None
    return ProbeInput((tensor,), {}, "inferred", describe(tensor))


# torchvision's ImageNet classifiers, by module: the size their weights' metadata names
_TORCHVISION_CLASSIFIERS = {
    "alexnet": 224, "convnext": 224, "densenet": 224, "efficientnet": 224, "googlenet": 224, "inception": 299,
    "maxvit": 224, "mnasnet": 224, "mobilenetv2": 224, "mobilenetv3": 224, "regnet": 224, "resnet": 224,
    "shufflenetv2": 224, "squeezenet": 224, "swin_transformer": 224, "vgg": 224, "vision_transformer": 224,
}
# token sequences longer than this add cost and no information for the probe
MAX_DECLARED_SEQUENCE = 128


def declared_input(model: nn.Module, batch: int, generator: torch.Generator) -> Optional[ProbeInput]:
    """The input the model says it takes (timm, Hugging Face, torchvision), or None."""
    cfg = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", None)
    if isinstance(cfg, dict) and isinstance(cfg.get("input_size"), (tuple, list)) and len(cfg["input_size"]) == 3:
        tensor = torch.randn(batch, *(int(s) for s in cfg["input_size"]), generator=generator)
        return ProbeInput((tensor,), {}, "declared", f"{describe(tensor)} (declared: pretrained_cfg input_size)")
    config = getattr(model, "config", None)
    if config is not None and not isinstance(config, dict):
        image_size = getattr(config, "image_size", None)
        if isinstance(image_size, int) or (isinstance(image_size, (tuple, list)) and len(image_size) == 2):
            height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
            channels = int(getattr(config, "num_channels", 3) or 3)
            tensor = torch.randn(batch, channels, int(height), int(width), generator=generator)
            return ProbeInput((), {"pixel_values": tensor}, "declared",
                              f"pixel_values={describe(tensor)} (declared: config.image_size)")
        vocab, positions = getattr(config, "vocab_size", None), getattr(config, "max_position_embeddings", None)
        if isinstance(vocab, int) and isinstance(positions, int) and vocab > 0 and positions > 0:
            length = min(positions, MAX_DECLARED_SEQUENCE)
            ids = torch.randint(0, vocab, (batch, length), generator=generator)
            return ProbeInput((), {"input_ids": ids}, "declared",
                              f"input_ids={describe(ids)} (declared: config.vocab_size, max_position_embeddings)")
    module = type(model).__module__
    if module.startswith("torchvision.models.") and module.count(".") == 2:
        size = getattr(model, "image_size", None) or _TORCHVISION_CLASSIFIERS.get(module.rsplit(".", 1)[-1])
        if isinstance(size, int):
            tensor = torch.randn(batch, 3, size, size, generator=generator)
            return ProbeInput((tensor,), {}, "declared", f"{describe(tensor)} (declared: torchvision's ImageNet size)")
    return None
