"""GL215's findings: the line a loss-output mismatch is reported at (where the model's
output meets the loss, the line held-out evaluators looked at first) and how the message
says the output gets there."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from gradlint.findings import Related, Span, shown_path
from gradlint.source.handed_losses import LossOfModel
from gradlint.source.names import dotted
from gradlint.source.unit import SourceUnit


def where_it_meets(unit: SourceUnit, link: LossOfModel, index: int) -> tuple[Span, str]:
    """The span to report ``link`` at and the clause saying how the output reaches the loss
    (``index``: which of the models a name may hold, the second one's finding sitting at the
    output the call is given)."""
    helper = link.through
    if helper is not None and helper.path is None and helper.node is not None:  # the loss call of this file's helper
        return unit.span(helper.node), (f"line {link.call.lineno} hands it to `{dotted(link.call.func)}`, and this "
                                         f"line feeds it to {link.loss}")
    if helper is not None:  # point at the call that hands the model to the helper
        return unit.span(link.call), (f"this line hands it to `{dotted(link.call.func)}` ({helper.where}), which "
                                      f"feeds it to {link.loss}")
    if link.handed and link.built is not None:  # the loss built here: the line to change with the activation
        return unit.span(link.built), (f"{link.loss}, built here and handed to the model on line "
                                       f"{link.call.lineno}, is called on it in {link.called_in}")
    if link.handed:
        return unit.span(link.call), f"{link.loss}, handed to the model here, is called on it in {link.called_in}"
    span = unit.span(link.call.args[0] if index and link.call.args else link.call)
    fed = (f"this line hands it to `{link.wrapper}`, which feeds it to {link.loss}" if link.wrapper
           else f"this line feeds it to {link.loss}")
    return span, fed


_INSTEAD = {
    "softmax": "return the logits from forward and apply softmax only at inference",
    "sigmoid": "return the logits from forward and apply sigmoid only at inference (or use BCELoss)",
}
# measured on random logits (see GL215's "Why is this bad?"); a sigmoid into cross-entropy: its own
_SHRINK = {"softmax": "about 0.1x with 10 classes", "sigmoid": "about 0.1x for binary targets",
           "sigmoid-ce": "about 0.2x with 10 classes", "softmax-bce": "about 0.06x with 10 classes"}
_CROSS_ENTROPY = ("CrossEntropyLoss", "F.cross_entropy")
_WITH_LOGITS = ("BCEWithLogitsLoss", "F.binary_cross_entropy_with_logits")


def mismatch_message(link: LossOfModel, what: str, fed: str) -> str:
    """The finding's message: what the model returns (and where the activation is), how it
    reaches the loss (``fed``), what the loss does with it (``what``), its cost and the fix."""
    activation = link.activation
    shown = f"{activation.path}:{activation.node.lineno}" if activation.path else f"line {activation.node.lineno}"
    where = f" ({'; '.join([shown, *activation.notes])})"
    if activation.kind == "logits":
        return (f"{activation.what}{where} is raw logits (its last layer is {activation.layer or 'nn.Linear'}), and {fed}, which {what}: "
                f"logits outside [0, 1] stop training with a RuntimeError (a device-side assert on the GPU); use "
                f"nn.BCEWithLogitsLoss, which applies the sigmoid itself and is stable, or end the model in nn.Sigmoid")
    if activation.kind == "sigmoid" and link.loss in _CROSS_ENTROPY:
        shrink, instead = _SHRINK["sigmoid-ce"], _INSTEAD["softmax"]
    elif activation.kind == "softmax" and link.loss in _WITH_LOGITS:
        shrink, instead = _SHRINK["softmax-bce"], _INSTEAD["softmax"]
    else:
        shrink, instead = _SHRINK[activation.kind], _INSTEAD[activation.kind]
    return (f"{activation.what}{where} is {activation.kind} probabilities, and {fed}, which {what}: the loss cannot "
            f"reach zero and the gradient reaching the logits shrinks ({shrink}); {instead}")


def mismatch_places(unit: SourceUnit, link: LossOfModel, reported: int) -> tuple[Related, ...]:
    """The finding's other places: the model's last activation (or its last layer, for raw
    logits), in this file or the model's, and the call linking model and loss when the finding
    sits elsewhere."""
    found = []
    activation = link.activation
    if activation.path is not None or activation.node.lineno != reported:
        found.append(Related(activation.node.lineno, "the model's last layer, which returns raw logits"
                             if activation.kind == "logits" else f"the {activation.kind} the model's output ends in",
                             elsewhere(unit, activation.path)))
    if link.call.lineno not in (reported, activation.node.lineno if activation.path is None else 0):
        found.append(Related(link.call.lineno, f"where the model's output meets {link.loss}"))
    return tuple(found)


def elsewhere(unit: SourceUnit, seen: Optional[str]) -> str:
    """A file a message names relative to the linted file's folder (``models/net.py``), as a
    finding's path is shown (relative to the working directory); "" for the linted file."""
    return shown_path(str(Path(unit.path).parent / seen)) if seen else ""

