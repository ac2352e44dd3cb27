"""Sampling plans: how many rows each class gets, apart from how they are chosen.

A plan is a pure function of the class counts (as imbalanced-learn's
``sampling_strategy`` is apart from its samplers): no randomness, no data.

Targets (``--target``):

==================  ===========================================================
``max``             every class up to the largest class (over)
``min``             every class down to the smallest class (under)
``median``/``mean`` every class to the median/mean class size (both ways)
``N``               every class to N rows (both ways)
``ratio:R``         no class more than R × the smallest afterwards. ``under``
                    (default) caps large classes at R × smallest; ``over`` raises
                    small classes to largest / R; ``both`` meets in the middle
                    (geometric mean of smallest and largest, ± √R)
``sqrt``            counts ∝ √n_c, total rows kept (both ways)
``power:Q``         counts ∝ n_c^Q, total rows kept (Q=0 equalizes, Q=1 keeps)
``repeat-factor:T`` LVIS repeat-factor sampling: each class's rows are repeated
                    r_c = max(1, √(T / f_c)) times, f_c = n_c / n (over)
==================  ===========================================================

``mode`` ``under``/``over`` keeps only the decreases/increases of a plan;
``--min-per-class``/``--max-per-class`` clamp every target afterwards.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rebalance.errors import RebalanceError

MODES = ("under", "over", "both")
TARGET_HELP = "max, min, median, mean, N, ratio:R, sqrt, power:Q, repeat-factor:T"
# the direction a target moves classes when no --mode is given
_DEFAULT_MODE = {
    "max": "over",
    "min": "under",
    "median": "both",
    "mean": "both",
    "count": "both",
    "ratio": "under",
    "power": "both",
    "repeat-factor": "over",
    "classes": "both",
}


@dataclass(frozen=True)
class Target:
    """A parsed ``--target``: its kind and its number, if any."""

    kind: str
    value: float | None = None
    text: str = ""

    @property
    def default_mode(self) -> str:
        return _DEFAULT_MODE[self.kind]


def parse_target(text: str | int) -> Target:
    """Parse a ``--target`` value (see the module docstring); an int N means ``"N"``.

    Raises
    ------
    RebalanceError
        For an unknown form or an out-of-range number, naming the value.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise RebalanceError(
            f"target must be a string such as 'max', 'ratio:10' or a row count, got {text!r}"
        )
    raw = text.strip()
    lower = raw.lower()
    if lower in ("max", "min", "median", "mean"):
        return Target(lower, None, raw)
    if lower == "sqrt":
        return Target("power", 0.5, raw)
    if re.fullmatch(r"\d+", lower):
        n = int(lower)
        if n <= 0:
            raise RebalanceError(f"--target {raw}: a class cannot be resampled to 0 rows")
        return Target("count", float(n), raw)
    match = re.fullmatch(r"(ratio|power|repeat-factor):\s*([0-9.eE+-]+)", lower)
    if match:
        kind = match.group(1)
        try:
            value = float(match.group(2))
        except ValueError:
            raise RebalanceError(f"--target {raw}: {match.group(2)!r} is not a number") from None
        if kind == "ratio" and not value >= 1:
            raise RebalanceError(f"--target {raw}: R must be at least 1")
        if kind == "power" and not 0 <= value <= 1:
            raise RebalanceError(f"--target {raw}: Q must be between 0 and 1")
        if kind == "repeat-factor" and not 0 < value <= 1:
            raise RebalanceError(f"--target {raw}: T must be in (0, 1], e.g. repeat-factor:0.001")
        return Target(kind, value, raw)
    raise RebalanceError(f"--target {raw!r} is not a target (use one of: {TARGET_HELP})")


def _largest_remainder(shares: Mapping[str, float], total: int) -> dict[str, int]:
    """Integers proportional to ``shares`` summing to ``total`` (ties by label), each ≥ 1."""
    whole = sum(shares.values())
    exact = {k: total * v / whole for k, v in shares.items()}
    out = {k: math.floor(v) for k, v in exact.items()}
    left = total - sum(out.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - out[k]), k))
    for k in order[:left]:
        out[k] += 1
    return {k: max(1, v) for k, v in out.items()}


def raw_targets(counts: Mapping[str, int], target: Target, mode: str) -> dict[str, int]:
    """Per-class targets before ``mode`` and clamps are applied."""
    values = list(counts.values())
    lo, hi, n = min(values), max(values), sum(values)
    kind, value = target.kind, target.value
    if kind == "max":
        return dict.fromkeys(counts, hi)
    if kind == "min":
        return dict.fromkeys(counts, lo)
    if kind == "median":
        return dict.fromkeys(counts, max(1, round(statistics.median(values))))
    if kind == "mean":
        return dict.fromkeys(counts, max(1, round(n / len(values))))
    if kind == "count":
        assert value is not None
        return dict.fromkeys(counts, int(value))
    if kind == "power":
        assert value is not None
        return _largest_remainder({k: v**value for k, v in counts.items()}, n)
    if kind == "repeat-factor":
        assert value is not None
        return {
            k: max(v, round(v * max(1.0, math.sqrt(value / (v / n))))) for k, v in counts.items()
        }
    if kind == "ratio":
        assert value is not None
        if mode == "over":
            floor = math.ceil(hi / value)
            return {k: max(v, floor) for k, v in counts.items()}
        if mode == "under":
            cap = math.floor(lo * value)
            return {k: min(v, cap) for k, v in counts.items()}
        middle = math.sqrt(lo * hi)
        low = max(1, math.ceil(middle / math.sqrt(value)))
        high = max(low, math.floor(low * value))
        return {k: min(max(v, low), high) for k, v in counts.items()}
    raise RebalanceError(f"unknown target kind {kind!r}")


@dataclass(frozen=True)
class Plan:
    """Target rows per class, with the counts it was made from and how."""

    counts: dict[str, int]
    targets: dict[str, int]
    target: str
    mode: str
    clamps: dict[str, int | None] = field(default_factory=dict)
    # a cleaning method's plan (mode "clean"): targets are the counts, and these classes
    # may lose up to this many rows each (how many depends on the data, not on a target)
    may_remove: dict[str, int] = field(default_factory=dict)

    @property
    def cleaning(self) -> bool:
        return self.mode == CLEAN

    @property
    def rows_before(self) -> int:
        return sum(self.counts.values())

    @property
    def rows_after(self) -> int:
        return sum(self.targets.values())

    @property
    def added(self) -> int:
        return sum(max(0, self.targets[k] - v) for k, v in self.counts.items())

    @property
    def removed(self) -> int:
        return sum(max(0, v - self.targets[k]) for k, v in self.counts.items())

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        doc: dict[str, Any] = {
            "target": self.target,
            "mode": self.mode,
            "clamps": dict(self.clamps),
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "rows_added": self.added,
            "rows_removed": self.removed,
            "classes": {k: {"before": v, "after": self.targets[k]} for k, v in ordered},
        }
        if self.cleaning:
            doc["rows_removed_at_most"] = sum(self.may_remove.values())
            for k, _ in ordered:
                doc["classes"][k]["removed_at_most"] = self.may_remove.get(k, 0)
        return doc


CLEAN = "clean"


CLEANING_STRATEGIES = ("auto", "all", "majority", "not minority", "not majority")


def cleaned_classes(counts: Mapping[str, int], strategy: Any = "auto") -> list[str]:
    """The classes a cleaning method may remove rows from: imbalanced-learn's
    ``sampling_strategy`` of its cleaning samplers (``auto`` = ``not minority``, ``all``,
    ``majority``, ``not majority``) or a list of class labels."""
    if isinstance(strategy, str):
        if strategy not in CLEANING_STRATEGIES:
            raise RebalanceError(
                f"--param sampling_strategy {strategy!r} is not one of "
                f"{', '.join(CLEANING_STRATEGIES)} (or a JSON list of classes)"
            )
        minority = min(counts, key=lambda k: (counts[k], k))
        majority = min(counts, key=lambda k: (-counts[k], k))
        keep_out = {
            "auto": {minority},
            "not minority": {minority},
            "all": set(),
            "majority": set(counts) - {majority},
            "not majority": {majority},
        }[strategy]
        return [k for k in counts if k not in keep_out]
    if isinstance(strategy, list | tuple) and strategy:
        labels = [str(v) for v in strategy]
        unknown = [v for v in labels if v not in counts]
        if unknown:
            raise RebalanceError(
                f"--param sampling_strategy names {unknown[0]!r}, which is not a class "
                f"(classes: {', '.join(sorted(counts)[:10])})"
            )
        return [k for k in counts if k in labels]
    raise RebalanceError(
        f"--param sampling_strategy {strategy!r} for a cleaning method is one of "
        f"{', '.join(CLEANING_STRATEGIES)} or a non-empty JSON list of classes"
    )


def cleaning_plan(counts: Mapping[str, int], method: str, strategy: Any = "auto") -> Plan:
    """The plan of a method that only removes rows (Tomek links, ENN, ...).

    Such a method has no target: it removes the noisy or borderline rows it finds in
    the classes of ``strategy`` (:func:`cleaned_classes`; by default every class but the
    smallest, imbalanced-learn's ``sampling_strategy="auto"``). The plan says which
    classes it may clean and at most how many rows each can lose: a Tomek link pairs a
    row with one of another class, so class c loses at most min(n_c, n - n_c); the
    other cleaners may in principle remove a whole class. The planned output is never
    larger than the input.
    """
    counts = _two_classes(counts)
    total = sum(counts.values())
    bound = {
        k: (min(counts[k], total - counts[k]) if method == "tomek" else counts[k])
        for k in cleaned_classes(counts, strategy)
    }
    return Plan(counts=counts, targets=dict(counts), target=CLEAN, mode=CLEAN, may_remove=bound)


def _two_classes(counts: Mapping[str, int]) -> dict[str, int]:
    """The classes with rows; fewer than two is an error (nothing to rebalance)."""
    kept = {k: int(v) for k, v in counts.items() if v > 0}
    if len(kept) < 2:
        only = next(iter(kept), None)
        raise RebalanceError(
            "only one class"
            + (f" ({only!r})" if only is not None else "")
            + ": there is nothing to rebalance"
        )
    return kept


def plan_targets(
    counts: Mapping[str, int],
    target: str | int | Target = "max",
    *,
    mode: str | None = None,
    min_per_class: int | None = None,
    max_per_class: int | None = None,
    per_class: Mapping[str, int] | None = None,
) -> Plan:
    """Compute the plan: target rows for every class.

    Parameters
    ----------
    counts:
        Rows per class (labels as text).
    target:
        A ``--target`` string or a parsed :class:`Target`.
    mode:
        ``under``, ``over`` or ``both``: which moves of the target to keep.
        Default: the target's own direction (``max`` over, ``min`` under, ``ratio``
        under, ``repeat-factor`` over, the rest both).
    min_per_class, max_per_class:
        Clamps applied after the target and mode.
    per_class:
        Explicit targets for some classes (``--plan FILE``); they win over ``target``.

    Raises
    ------
    RebalanceError
        One class only, a target of 0, unknown classes, contradictory clamps.
    """
    counts = _two_classes(counts)
    parsed = target if isinstance(target, Target) else parse_target(target)
    how = mode or parsed.default_mode
    if how not in MODES:
        raise RebalanceError(f"--mode {how!r} must be one of: {', '.join(MODES)}")
    for name, bound in (("--min-per-class", min_per_class), ("--max-per-class", max_per_class)):
        if bound is not None and bound <= 0:
            raise RebalanceError(f"{name} must be at least 1, got {bound}")
    if min_per_class is not None and max_per_class is not None and min_per_class > max_per_class:
        raise RebalanceError(
            f"--min-per-class {min_per_class} is greater than --max-per-class {max_per_class}"
        )
    targets = raw_targets(counts, parsed, how)
    if how == "under":
        targets = {k: min(t, counts[k]) for k, t in targets.items()}
    elif how == "over":
        targets = {k: max(t, counts[k]) for k, t in targets.items()}
    if per_class:
        unknown = sorted(set(per_class) - set(counts))
        if unknown:
            raise RebalanceError(
                f"the plan names class(es) not in the data: {', '.join(map(repr, unknown[:10]))}"
            )
        for label, t in per_class.items():
            if t <= 0:
                raise RebalanceError(
                    f"the plan gives class {label!r} a target of {t}: it must be at least 1"
                )
            targets[label] = int(t)
    if min_per_class is not None:
        targets = {k: max(t, min_per_class) for k, t in targets.items()}
    if max_per_class is not None:
        targets = {k: min(t, max_per_class) for k, t in targets.items()}
    return Plan(
        counts=counts,
        targets=targets,
        target=parsed.text or parsed.kind,
        mode=how,
        clamps={"min_per_class": min_per_class, "max_per_class": max_per_class},
    )


def read_plan_file(path: str) -> dict[str, int]:
    """Per-class targets from JSON (``{label: n}`` or ``{"targets": {...}}``) or TOML (``[targets]``)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise RebalanceError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        if os.path.splitext(path)[1].lower() == ".toml":
            doc: Any = tomllib.loads(data.decode("utf-8"))
        else:
            doc = json.loads(data)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RebalanceError(f"{path}: cannot parse the plan ({exc})") from exc
    if isinstance(doc, dict) and "targets" in doc:
        doc = doc["targets"]
    if isinstance(doc, dict) and "classes" in doc and isinstance(doc["classes"], dict):
        doc = {k: v["after"] if isinstance(v, dict) else v for k, v in doc["classes"].items()}
    if not isinstance(doc, dict) or not doc:
        raise RebalanceError(f'{path}: expected per-class targets like {{"cat": 500}}')
    out: dict[str, int] = {}
    for label, value in doc.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise RebalanceError(
                f"{path}: target for {label!r} must be a whole number, got {value!r}"
            )
        out[str(label)] = int(value)
    return out
