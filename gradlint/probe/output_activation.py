"""GL215's measurement in the CLI's probe (worker side, torch): when the probed model's
output comes out of a softmax or a sigmoid, the gradient norm reaching the
pre-activation logits under each loss GL215 pairs with that activation (the loss on the
output vs the loss on the logits themselves, log-softmax of them for NLL), on a random
target. The script's loss class is read by the static rule; the main process picks the
ratio for that loss (:mod:`gradlint.probe.loss_link`)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F

ACTIVATIONS = {"SoftmaxBackward0": "softmax", "SigmoidBackward0": "sigmoid"}


def logits_of(output: torch.Tensor) -> Optional[tuple[str, int, torch.Tensor]]:
    """(activation, softmax dim, logits giving exactly ``output``) or None."""
    if output.grad_fn is None:
        return None
    activation = ACTIVATIONS.get(output.grad_fn.name())
    if activation is None:
        return None
    dim = int(getattr(output.grad_fn, "_saved_dim", -1)) if activation == "softmax" else 0
    if dim >= 2 ** 63:
        dim -= 2 ** 64  # autograd exposes a negative dim as an unsigned 64-bit number
    probs = output.detach().float()
    tiny = torch.finfo(probs.dtype).tiny
    logits = probs.clamp_min(tiny).log()  # softmax is shift-invariant: log p gives p back
    if activation == "sigmoid":
        logits = logits - (1 - probs).clamp_min(tiny).log()
    return activation, dim, logits


def gradient_ratio(activation: str, dim: int, logits: torch.Tensor, loss: Callable[[torch.Tensor], torch.Tensor],
                   log_softmax_without: bool) -> tuple[float, float]:
    """(gradient norm at the logits with the activation, without it) under ``loss``."""
    with torch.enable_grad():
        z_with = logits.clone().requires_grad_(True)
        activated = torch.softmax(z_with, dim) if activation == "softmax" else torch.sigmoid(z_with)
        (grad_with,) = torch.autograd.grad(loss(activated), z_with)
        z_without = logits.clone().requires_grad_(True)
        fed = torch.log_softmax(z_without, dim) if log_softmax_without else z_without
        (grad_without,) = torch.autograd.grad(loss(fed), z_without)
    return float(grad_with.norm()), float(grad_without.norm())


def probe_output_activation(output: Any, seed: int) -> Optional[dict[str, Any]]:
    """The probe's ``output_activation`` entry: the activation and, per loss GL215 pairs
    with it, the gradient ratio at the logits (random class/binary targets from a
    generator of its own: the probe's own random draws stay as they were)."""
    if not isinstance(output, torch.Tensor) or output.dim() < 2:
        return None
    found = logits_of(output)
    if found is None:
        return None
    activation, dim, logits = found
    generator = torch.Generator().manual_seed(seed)
    ratios: dict[str, float] = {}
    if activation == "softmax":
        moved = logits.movedim(dim, -1)
        classes = moved.shape[-1]
        target = torch.randint(0, classes, tuple(moved.shape[:-1]), generator=generator).reshape(-1).to(logits.device)

        def flat(x: torch.Tensor) -> torch.Tensor:
            return x.movedim(dim, -1).reshape(-1, classes)

        onehot = F.one_hot(target, classes).float()
        losses = {"CrossEntropyLoss": (lambda x: F.cross_entropy(flat(x), target), False),
                  "NLLLoss": (lambda x: F.nll_loss(flat(x), target), True),
                  "BCEWithLogitsLoss": (lambda x: F.binary_cross_entropy_with_logits(flat(x), onehot), False)}
    else:
        binary = torch.randint(0, 2, tuple(logits.shape), generator=generator).float().to(logits.device)
        losses = {"BCEWithLogitsLoss": (lambda x: F.binary_cross_entropy_with_logits(x, binary), False)}
        if logits.shape[1] >= 2:  # class scores along dim 1, as cross-entropy reads them
            scores = logits.shape[1]
            labels = torch.randint(0, scores, (logits.numel() // scores,), generator=generator).to(logits.device)

            def by_class(x: torch.Tensor) -> torch.Tensor:
                return x.movedim(1, -1).reshape(-1, scores)

            losses["CrossEntropyLoss"] = (lambda x: F.cross_entropy(by_class(x), labels), False)
    for name, (loss, log_softmax) in losses.items():
        with_activation, without = gradient_ratio(activation, dim, logits, loss, log_softmax)
        ratios[name] = with_activation / without if without else 0.0
    return {"activation": activation, "logit_grad_ratio": ratios}
