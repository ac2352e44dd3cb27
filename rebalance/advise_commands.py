"""The command that applies each remedy ``advise`` ranks: printed to be pasted, so every
one of them must run as it is on the manifest advise read (tests run them)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandContext:
    """What a printed command needs to run on the manifest advise read: its role flags
    (``--label-col``, ``--split-col``, ``--no-split``), the split advised on, and the
    image features (``--image-features``, ``--path-col``, ``--root``) when features were
    image descriptors."""

    roles: tuple[str, ...] = ()
    split: str | None = None
    image_flags: tuple[str, ...] = ()


def command_for(
    remedy: str,
    manifest: str,
    features: Sequence[str],
    seed: int,
    context: CommandContext | None = None,
) -> str:
    """The ``rebalance`` command that applies a remedy to the manifest (its advised split:
    ``--only-split`` for ``resample``, ``--from-split`` for ``weights``), or what to do
    when no command applies (``none``, ``threshold``)."""
    context = context or CommandContext()
    m = shlex.quote(manifest)
    out = shlex.quote(_sibling(manifest, "balanced"))
    roles = " ".join(shlex.quote(r) for r in context.roles)
    only = f"--only-split {shlex.quote(context.split)}" if context.split is not None else ""
    from_split = f"--from-split {shlex.quote(context.split)}" if context.split is not None else ""
    if context.image_flags:
        feats = " ".join(shlex.quote(f) for f in context.image_flags)
    else:
        feats = f"--features {shlex.quote(','.join(features))}" if features else ""

    def join(*parts: str) -> str:
        return " ".join(p for p in parts if p)

    resample = join("rebalance resample", m, "-o", out, roles, only)
    if remedy == "random-over":
        return join(resample, "--target max", f"--seed {seed}")
    if remedy == "random-under":
        return join(resample, "--target min --mode under", f"--seed {seed}")
    if remedy in ("smote", "smote-tomek") and context.image_flags:
        return join(
            resample, "--method augment --target max --image-dir", shlex.quote(_sibling(manifest, "aug").rsplit(".", 1)[0]),
            f"--seed {seed}",
        )  # fmt: skip
    if remedy in ("smote", "smote-tomek", "enn"):
        return join(resample, f"--method {remedy}", feats, f"--seed {seed}")
    weights = join("rebalance weights", m, roles, from_split)
    if remedy == "balanced-weights":
        return join(weights, "--scheme balanced -o weights.json")
    if remedy == "effective-weights":
        return join(weights, "--scheme effective -o weights.json")
    if remedy == "threshold":
        return (
            "train as is, then tune the decision threshold on validation predictions "
            "(rebalance evaluate VAL_PREDS.csv --thresholds)"
        )
    return "train on the data as it is"


def _sibling(manifest: str, tag: str) -> str:
    import os

    if manifest == "-":
        return f"{tag}.csv"
    stem, ext = os.path.splitext(os.path.basename(manifest))
    return f"{stem}-{tag}{ext or '.csv'}"
