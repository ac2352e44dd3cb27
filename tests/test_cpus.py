"""Pools and the local Dask cluster are sized to the CPUs this process may use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rebalance import cpus


@pytest.mark.parametrize(
    ("text", "expected"),
    [("200000 100000\n", 2), ("150000 100000", 2), ("50000 100000", 1), ("max 100000", None),
     ("", None), ("x y", None), ("100 0", None)],
)  # fmt: skip
def test_cgroup_quota(tmp_path: Path, text: str, expected: int | None) -> None:
    path = tmp_path / "cpu.max"
    path.write_text(text)
    assert cpus._cgroup_quota(path) == expected


def test_missing_cgroup_file_is_no_quota(tmp_path: Path) -> None:
    assert cpus._cgroup_quota(tmp_path / "nope") is None


def test_usable_cpus_follows_affinity_and_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5}, raising=False)
    monkeypatch.setattr(cpus, "_cgroup_quota", lambda path: None)
    assert cpus.usable_cpus() == 6
    monkeypatch.setattr(cpus, "_cgroup_quota", lambda path: 2)
    assert cpus.usable_cpus() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert cpus.usable_cpus() == 1
