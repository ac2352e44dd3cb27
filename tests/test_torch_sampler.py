"""rebalance.torch: the samplers as torch Samplers, torch imported lazily, DDP read from
torch.distributed. Without torch, a stand-in module checks the wiring; with torch, the
README's snippet runs."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import rebalance.torch as rtorch
from rebalance.errors import RebalanceError
from rebalance.sampling import PlanSampler

LABELS = ["a"] * 40 + ["b"] * 6 + ["c"] * 2


def test_importing_it_imports_no_torch() -> None:
    code = "import sys, rebalance, rebalance.torch; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture
def fake_torch(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """A stand-in torch: a Sampler base and a distributed state the test sets."""

    class Sampler:
        pass

    state = types.SimpleNamespace(initialized=False, world=1, rank=0)
    dist = types.ModuleType("torch.distributed")
    dist.is_available = lambda: True  # type: ignore[attr-defined]
    dist.is_initialized = lambda: state.initialized  # type: ignore[attr-defined]
    dist.get_world_size = lambda: state.world  # type: ignore[attr-defined]
    dist.get_rank = lambda: state.rank  # type: ignore[attr-defined]
    torch = types.ModuleType("torch")
    torch.distributed = dist  # type: ignore[attr-defined]
    utils = types.ModuleType("torch.utils")
    data = types.ModuleType("torch.utils.data")
    data.Sampler = Sampler  # type: ignore[attr-defined]
    for name, module in [("torch", torch), ("torch.utils", utils), ("torch.utils.data", data),
                         ("torch.distributed", dist)]:  # fmt: skip
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(rtorch, "_MADE", {})
    state.Sampler = Sampler
    return state


def test_samplers_are_torch_samplers_and_read_the_ranks(fake_torch: types.SimpleNamespace) -> None:
    cls = rtorch.PlanSampler
    assert issubclass(cls, PlanSampler) and issubclass(cls, fake_torch.Sampler)
    assert rtorch.PlanSampler is cls  # made once
    fake_torch.initialized, fake_torch.world, fake_torch.rank = True, 3, 2
    sampler = cls(LABELS, target="max", seed=4)
    assert (sampler.num_replicas, sampler.rank) == (3, 2)
    plain = PlanSampler(LABELS, target="max", seed=4, num_replicas=3, rank=2)
    sampler.set_epoch(5)
    plain.set_epoch(5)
    assert list(sampler) == list(plain) and len(sampler) == len(plain) == 40
    batches = rtorch.ClassBatchSampler(LABELS, classes_per_batch=2, per_class=3)
    assert isinstance(batches, fake_torch.Sampler) and batches.rank == 2
    assert all(len(b) == 6 for b in batches)


def test_without_torch_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    monkeypatch.setattr(rtorch, "_MADE", {})
    with pytest.raises(RebalanceError, match=r"pip install 'rebalance\[torch\]'"):
        rtorch.PlanSampler  # noqa: B018
    with pytest.raises(AttributeError):
        rtorch.NoSuchSampler  # noqa: B018


def test_readme_snippet_runs_with_torch() -> None:
    pytest.importorskip("torch")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- test: torch -->\n```python\n(.*?)```", readme, re.S)
    assert match is not None
    exec(compile(match.group(1), "README.md", "exec"), {})  # noqa: S102
