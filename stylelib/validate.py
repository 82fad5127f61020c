"""Checks at the boundary: every option a person or a program passes in, with messages built from the same limits.

Options dataclasses (:class:`stylelib.options.Options`, :class:`stylelib.train.TrainConfig`)
declare each number's bounds in their field metadata; :func:`check_fields`
applies them, so the library, the CLI and the app refuse the same inputs
with the same one-line message.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

SEED_MAX = 2**63 - 1  # torch.manual_seed takes a signed 64-bit seed


def check_choice(name: str, value: object, allowed: Sequence) -> None:
    """Raise ValueError naming the allowed values (the tuple the code uses)."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")


def check_number(name: str, value: Any, low: float, high: float, *, integer: bool = False) -> float | int:
    """``value`` as a finite number (an int if ``integer``) with low <= value <= high, else ValueError."""
    kind = "a whole number" if integer else "a number"
    span = f"from {_show(low, integer)} to {_show(high, integer)}"
    if isinstance(value, (bool, str)) or not hasattr(value, "__float__"):
        raise ValueError(f"{name} must be {kind} {span}; got {value!r}")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high or integer and number != int(number):
        raise ValueError(f"{name} must be {kind} {span}; got {value!r}")
    return int(value) if integer else number


def _show(bound: float, integer: bool) -> str:
    return str(int(bound)) if integer else f"{bound:g}"


def check_fields(obj: Any) -> None:
    """Validate (and normalise: tuples, ints) every field of a dataclass whose metadata gives ``bounds``."""
    for f in dataclasses.fields(obj):
        bounds, value = f.metadata.get("bounds"), getattr(obj, f.name)
        if bounds is None or value is None:
            continue
        integer = f.metadata.get("type") is int
        if isinstance(value, (list, tuple)):
            value = tuple(check_number(f"each of {f.name}", v, *bounds, integer=integer) for v in value)
        else:
            value = check_number(f.name, value, *bounds, integer=integer)
        setattr(obj, f.name, value)
