"""What preflight measured on the live model for the measured forms of source rules
(GL406, GL215), as typed facts. Torch-free: the rules read it, and the registry imports
every rule without torch. The measurements are taken in :mod:`gradlint.inprocess.measured`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from gradlint.findings import Span


@dataclass
class NormDrift:
    """A module whose parameters are all frozen, and whose BatchNorm layers, in train mode
    when preflight was called, had their running statistics changed by the probe batch."""

    module: str  # the frozen module's path
    type: str
    parameters: int
    layers: list[str]  # its BatchNorm layers whose running statistics moved
    max_change: float


@dataclass
class OutputLoss:
    """The model's output is a softmax/sigmoid and the loss applies it again."""

    activation: str  # softmax | sigmoid
    loss: str  # what applies it again
    module: Optional[str]  # the nn.Softmax/nn.Sigmoid submodule that made the output (None: functional)
    grad_with_activation: float
    grad_without_activation: float

    @property
    def ratio(self) -> float:
        return self.grad_with_activation / self.grad_without_activation if self.grad_without_activation else 0.0


@dataclass
class MeasuredSlips:
    """What a rule's ``measured(slips)`` hook reads: the model, where it and its modules
    are in the user's source, and the two measurements."""

    model: str
    model_place: Span
    drift: list[NormDrift]
    mismatch: Optional[OutputLoss]
    place_of: Callable[[str], Span]  # a submodule's path -> where it is built
