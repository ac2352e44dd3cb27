"""The typed request of one resample: roles, plan, method, images and output options.

:func:`rebalance.resampling.resample` takes one :class:`ResampleRequest` (or the same
options as keywords, which :meth:`ResampleRequest.of` gathers). A request is checked
once, when it is made: every rule of the form "this option needs that one" or "this
option applies only to that method" is a line of :data:`RULES`, and the message names
the flags.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.samplers.registry import SIMILARITY_METHODS, SYNTHETIC_KINDS, method_kind
from rebalance.validation import check_seed


@dataclass(frozen=True)
class Roles:
    """Which columns play which role, and which rows are resampled."""

    label_col: str | None = None
    split_col: str | None = None
    detect_split: bool = True
    only_splits: Sequence[str] | None = None
    all_splits: bool = False
    group_col: str | None = None
    id_col: str | None = None
    missing: str = "keep"  # rows without a label: keep (pass through), drop or error


@dataclass(frozen=True)
class PlanSpec:
    """How many rows each class gets (:func:`rebalance.plan.plan_targets`)."""

    target: str | int | None = None  # default: max (min for undersampling methods)
    mode: str | None = None
    min_per_class: int | None = None
    max_per_class: int | None = None
    per_class: Mapping[str, int] | None = None
    allow_large: bool = False


@dataclass(frozen=True)
class MethodSpec:
    """Which rows are kept or copied, and how new ones are made."""

    method: str = "random"
    params: Mapping[str, Any] = field(default_factory=dict)
    features: Sequence[str] | None = None
    n_jobs: int | None = None
    strict: bool = False
    replacement: bool = False
    threshold: float | None = None

    @property
    def kind(self) -> str:
        """``random``, ``over``, ``select``, ``clean``, ... (:func:`method_kind`)."""
        return method_kind(self.method)


@dataclass(frozen=True)
class ImageSpec:
    """The images of a manifest of files: features, the bad-file scan, ``augment``."""

    image_features: str | None = None
    path_col: str | None = None
    root: str | None = None
    workers: int | None = None
    cache_dir: str | None = None
    weights: str | None = None
    skip_bad: bool = False
    image_dir: str | None = None
    augment: str | None = None
    mask_col: str | None = None


@dataclass(frozen=True)
class RunHooks:
    """How a caller follows and feeds a run (see :func:`rebalance.resampling.resample`)."""

    where: str = "manifest"
    bytes_per_row: float | None = None
    early_rows: Callable[[pa.Table], None] | None = None
    rows_from: Callable[[], pa.Table] | None = None
    image_progress: Callable[[int], None] | None = None
    write_file: Callable[[str, bytes], None] | None = None
    keep_choice: bool = False  # image methods: the result's image_choice, for a preview


@dataclass(frozen=True)
class ResampleRequest:
    """One resample, checked when made (:data:`RULES`)."""

    roles: Roles = field(default_factory=Roles)
    plan: PlanSpec = field(default_factory=PlanSpec)
    method: MethodSpec = field(default_factory=MethodSpec)
    images: ImageSpec = field(default_factory=ImageSpec)
    seed: int = 0
    provenance: bool = False
    shuffle: bool = False

    def __post_init__(self) -> None:
        check_seed(self.seed)
        self.method.kind  # noqa: B018 -- an unknown method is refused here, with a suggestion
        for rule in RULES:
            if rule.broken(self):
                raise RebalanceError(rule.message.format(method=self.method.method))
        if self.method.method == "augment":
            from rebalance.images.augment import parse_augment

            parse_augment(self.images.augment)

    @property
    def reads_images(self) -> bool:
        """Whether the method opens the files of the path column."""
        method = self.method
        return (
            method.method == "augment"
            or self.images.image_features is not None
            or (method.method in SIMILARITY_METHODS and not method.features)
        )

    @classmethod
    def of(cls, **options: Any) -> ResampleRequest:
        """A request from :func:`~rebalance.resampling.resample`'s keyword options."""
        parts: dict[str, dict[str, Any]] = {name: {} for name in _PARTS}
        top: dict[str, Any] = {}
        for name, value in options.items():
            if name in _TOP:
                top[name] = value
                continue
            part = _PART_OF.get(name)
            if part is None:
                raise TypeError(f"resample() got an unexpected keyword argument {name!r}")
            parts[part][name] = value
        params = parts["method"].get("params")
        parts["method"]["params"] = dict(params or {})
        return cls(**{name: kind(**parts[name]) for name, kind in _PARTS.items()}, **top)

    def options(self) -> dict[str, Any]:
        """The request as flat keyword options (the inverse of :meth:`of`)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in _TOP}
        for name in _PARTS:
            part = getattr(self, name)
            out.update({f.name: getattr(part, f.name) for f in fields(part)})
        return out


_PARTS: dict[str, type] = {
    "roles": Roles,
    "plan": PlanSpec,
    "method": MethodSpec,
    "images": ImageSpec,
}
_PART_OF = {f.name: part for part, kind in _PARTS.items() for f in fields(kind)}
_TOP = ("seed", "provenance", "shuffle")
HOOKS = tuple(f.name for f in fields(RunHooks))


@dataclass(frozen=True)
class Rule:
    """One "this option needs that one" rule: ``broken`` says when a request breaks it."""

    broken: Callable[[ResampleRequest], bool]
    message: str


def _method(r: ResampleRequest) -> str:
    return r.method.method


RULES: tuple[Rule, ...] = (
    Rule(
        lambda r: _method(r) == "augment" and r.images.image_dir is None,
        "--method augment needs --image-dir DIR, where the new images go",
    ),
    Rule(
        lambda r: (
            r.method.replacement and (_method(r) != "random" or r.roles.group_col is not None)
        ),
        "--replacement draws undersampled classes with replacement: it applies to "
        "--method random without --group-col",
    ),
    Rule(
        lambda r: r.images.skip_bad and not r.reads_images,
        "--skip-bad applies to the methods that read images",
    ),
    Rule(
        lambda r: r.images.image_features is not None and r.method.kind in SYNTHETIC_KINDS,
        "{method} makes synthetic feature rows, and a synthetic row has no image: "
        "--image-features works with cluster, dedup and the methods that only remove rows",
    ),
    Rule(
        lambda r: _method(r) == "augment" and r.roles.id_col is not None,
        "--method augment makes new rows: they have no --id-col value to copy",
    ),
    Rule(
        lambda r: (
            _method(r) != "augment"
            and (r.images.image_dir is not None or r.images.augment is not None)
        ),
        "--image-dir and --augment apply to --method augment",
    ),
    Rule(
        lambda r: _method(r) != "augment" and r.images.mask_col is not None,
        "resample --mask-col applies to --method augment (the masks are transformed too)",
    ),
    Rule(
        lambda r: _method(r) == "dedup" and r.method.threshold is None,
        "--method dedup needs --threshold D (the distance under which rows are near-duplicates)",
    ),
    Rule(
        lambda r: _method(r) != "dedup" and r.method.threshold is not None,
        "--threshold applies to --method dedup",
    ),
)
