"""Relocation's vectorised path gives, byte for byte, what os.path.relpath gives row by row."""

from __future__ import annotations

import os
import random

import pyarrow as pa
import pytest

from rebalance.relocate import Relocation, _is_relative

PARTS = [
    "a",
    "b.jpg",
    ".",
    "..",
    "",
    "~",
    "x y",
    ".hidden",
    "c..d",
    "s3:",
    "e\\f",
    "..g",
    "in",
    "é",
]


def one_by_one(text: str | None, base: str, out: str | None, mode: str) -> str | None:
    if text is None or not _is_relative(text):
        return text
    full = os.path.normpath(os.path.join(base, text))
    return full if mode == "absolute" else os.path.relpath(full, out).replace(os.sep, "/")


@pytest.mark.parametrize(
    ("mode", "base", "out"),
    [("relative", "/data/in", "/out/x"), ("relative", "/data/in", "/data/in/sub"),
     ("absolute", "/data/in", None), ("relative", "/", "/a"), ("relative", "/data", "/data"),
     ("relative", "/data/in/x", "/data/in"), ("relative", "/data/in", "/data/out")],
)  # fmt: skip
@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_rewrite_equals_relpath(mode: str, base: str, out: str | None, kind: pa.DataType) -> None:
    rng = random.Random(f"{mode}{base}{out}")
    texts: list[str | None] = [None, ""]
    for _ in range(3000):
        text = "/".join(rng.choice(PARTS) for _ in range(rng.randint(1, 4)))
        texts.append(rng.choice(["", "/", "./"]) + text)
    relocation = Relocation(("path",), base, out, mode)  # type: ignore[arg-type]
    got = relocation(pa.table({"path": pa.array(texts, kind)})).column("path")
    assert got.type == kind
    assert got.to_pylist() == [one_by_one(t, base, out, mode) for t in texts]
