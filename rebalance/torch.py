"""PyTorch's face of :mod:`rebalance.sampling`: ``PlanSampler`` and ``ClassBatchSampler`` as
``torch.utils.data.Sampler`` subclasses (``pip install 'rebalance[torch]'``).

torch is imported when one of them is first used, never by ``import rebalance``::

    from torch.utils.data import DataLoader
    from rebalance.torch import PlanSampler

    sampler = PlanSampler("train.csv", target="sqrt", seed=0)   # DDP-aware
    loader = DataLoader(dataset, batch_size=64, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for batch in loader: ...

With ``torch.distributed`` initialised, each rank draws its own equal, disjoint part of the
epoch (``num_replicas`` and ``rank`` are read from it), as ``DistributedSampler`` does.
"""

from __future__ import annotations

from typing import Any

from rebalance import sampling

__all__ = ["ClassBatchSampler", "PlanSampler"]  # noqa: F822 (made by __getattr__)

_MADE: dict[str, type] = {}


def _sampler_class(name: str) -> type:
    """``rebalance.sampling.<name>`` with ``torch.utils.data.Sampler`` as a second base."""
    if name not in _MADE:
        try:
            from torch.utils.data import Sampler
        except ImportError as exc:  # torch itself, or a broken install
            from rebalance.errors import RebalanceError

            raise RebalanceError(
                f"rebalance.torch.{name} needs PyTorch: pip install 'rebalance[torch]' "
                f"(or use rebalance.sampling.{name}, which needs no torch) ({exc})"
            ) from None
        base = getattr(sampling, name)
        _MADE[name] = type(
            name,
            (base, Sampler),
            {"__module__": __name__, "__doc__": f"{base.__doc__}\n\nA torch Sampler."},
        )
    return _MADE[name]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return _sampler_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
