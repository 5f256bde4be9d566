"""Where the recorder's numbers sit, and the statistics reported from them.

The probe records every number as a 0-d device tensor in one list and moves them to
the host in one transfer; a layer's or activation's :class:`Slots` say which values
are its own (one per call), so the reported statistics are computed on the host.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Slots:
    """Where one layer's or activation's numbers sit in the recorded values."""

    entries: list[tuple[int, int]] = field(default_factory=list)  # (value index, element count)
    calls: list[int] = field(default_factory=list)  # backward entries: the forward call each belongs to


def combined(norms: list[float], indices: list[int]) -> Optional[float]:
    """The L2 norm of several parameters' norms (a layer's weight and bias)."""
    if not indices:
        return None
    return math.sqrt(sum(norms[i] ** 2 for i in indices))


def rms(values: list[float], slots: Slots) -> Optional[float]:
    """The root mean square per element over all calls (each value is a call's L2 norm)."""
    if not slots.entries:
        return None
    squares = sum(values[i] ** 2 for i, _ in slots.entries)
    return math.sqrt(squares / sum(n for _, n in slots.entries))


def per_call_norm(values: list[float], slots: Slots) -> Optional[float]:
    """The L2 norm of one call's values (all the batch's positions together), RMS over calls."""
    if not slots.entries:
        return None
    return math.sqrt(sum(values[i] ** 2 for i, _ in slots.entries) / len(slots.entries))


def backward_span(values: list[float], slots: Slots) -> Optional[list[float]]:
    """A layer called more than once: the gradient norm at its first call's output
    (the earliest in depth; backward reaches it last), the smallest and largest of
    one call, and the number of calls."""
    if len(slots.entries) < 2:
        return None
    norms = [values[i] for i, _ in slots.entries]
    first = norms[slots.calls.index(min(slots.calls))] if slots.calls else norms[-1]
    return [first, min(norms), max(norms), len(norms)]


def span(values: list[float], slots: Slots) -> Optional[list[float]]:
    """A layer called more than once (a block reused in a loop): its first call's
    RMS, the smallest and largest of one call, and the number of calls. The RMS
    over all calls hides a collapse in the later ones behind the first."""
    if len(slots.entries) < 2:
        return None
    calls = [math.sqrt(values[i] ** 2 / n) if n else 0.0 for i, n in slots.entries]
    return [calls[0], min(calls), max(calls), len(calls)]


def worst_fraction(values: list[float], slots: Slots, counted_the_rest: bool = False) -> Optional[float]:
    """The largest fraction over the calls; ``counted_the_rest``: the device counted
    the complement (alive units for the dead fraction)."""
    if not slots.entries or not any(n for _, n in slots.entries):
        return None
    return max(((n - values[i]) if counted_the_rest else values[i]) / n for i, n in slots.entries if n)


# a healthy unit fed a varied batch is on for some samples and off for others; when most
# of a layer's live units are on for every sample, the batch does not vary there (SE
# blocks see globally pooled noise, nearly the same vector for every sample), each unit
# is on for all samples or for none, and "never active" reads chance (about half the
# units), not a dead layer
MAX_ALWAYS_ON_SHARE = 0.5


def dead_fraction(values: list[float], alive: Slots, always: Slots) -> Optional[float]:
    """The largest dead fraction over the calls that the batch exercises: a call whose
    live units are mostly on for every sample is not judged. A call where every unit is
    off stays judged (dead)."""
    fractions = []
    for (alive_slot, units), (always_slot, _) in zip(alive.entries, always.entries):
        if not units:
            continue
        live, on = values[alive_slot], values[always_slot]
        if live and on / live > MAX_ALWAYS_ON_SHARE:
            continue
        fractions.append((units - live) / units)
    return max(fractions) if fractions else None
