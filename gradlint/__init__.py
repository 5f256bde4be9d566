"""gradlint: find the causes of vanishing and exploding gradients before training."""

from __future__ import annotations

from typing import Any, Callable, Optional

from gradlint.inprocess.errors import PreflightError

__version__ = "0.1.0"
__all__ = ["PreflightError", "preflight", "__version__"]


def preflight(model: Any, batch: Any, loss_fn: Optional[Callable[[Any, Any], Any]] = None,
              optimizer: Any = None, steps: int = 1, device: Any = None,
              raise_on: Optional[str] = None) -> Any:
    """Check a real model, batch, loss and optimiser before training, in this process:
    the model rules (GL1xx), the gradient probe (GL3xx), what will never learn (GL4xx)
    and a model left in eval mode. Leaves the model, gradients, optimiser state, modes
    and RNG states exactly as it found them. Returns a report (``.findings``,
    ``.print()``, ``.to_json()``); ``raise_on="warning"`` or ``"error"`` raises
    :class:`PreflightError` carrying it when a finding is that severe. torch is
    imported here, not by ``import gradlint``."""
    from gradlint.inprocess.run import run_preflight

    return run_preflight(model, batch, loss_fn=loss_fn, optimizer=optimizer, steps=steps, device=device,
                         raise_on=raise_on)
