"""PlanSampler at training time, next to the weighted draws users rely on today, same run.

    python benchmarks/bench_sampler.py                  # 10M rows, 5,000 long-tail classes
    python benchmarks/bench_sampler.py --rows 1000000

One epoch of ``PlanSampler(labels, target=T)`` (exactly T's rows per class) against a draw of
the same size from per-row weights that give the same class shares in expectation: numpy's
``Generator.choice(n, size, p=w)``, the same draw written as ``cumsum`` + ``searchsorted``,
and, where installed, PyTorch's ``WeightedRandomSampler`` (``torch.multinomial``) and
torchsampler's ``ImbalancedDatasetSampler``. Memory is what the sampler holds plus an
epoch's draw (``tracemalloc``), against the labels' int32 codes. Best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import tracemalloc
from collections.abc import Callable

import numpy as np


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--classes", type=int, default=5000)
    parser.add_argument("--target", default="sqrt")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import pyarrow as pa

    from rebalance.sampling import PlanSampler

    rng = np.random.default_rng(0)
    p = 1.0 / np.arange(1, args.classes + 1) ** 1.1
    codes = rng.choice(args.classes, size=args.rows, p=p / p.sum()).astype(np.int32)
    names = pa.array([f"class_{i:04d}" for i in range(args.classes)])
    labels = pa.DictionaryArray.from_arrays(pa.array(codes), names)

    tracemalloc.start()
    start = time.perf_counter()
    sampler = PlanSampler(labels, target=args.target)
    built = time.perf_counter() - start
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    epoch = sampler.epoch_positions(0)
    peak = tracemalloc.get_traced_memory()[1]  # since the reset: what is held, plus the draw
    tracemalloc.stop()
    size = len(epoch)
    del epoch
    rows = [("PlanSampler: build (labels to classes, the plan)", built)]
    rows.append(("PlanSampler: one epoch", best(lambda: sampler.epoch_positions(1), args.repeat)))
    ranks = PlanSampler(labels, target=args.target, num_replicas=8, rank=3)
    rows.append(
        ("PlanSampler: one epoch, rank 3 of 8", best(lambda: ranks.rank_positions(1), args.repeat))
    )

    counts = np.bincount(codes, minlength=args.classes)
    wanted = np.array([sampler.plan.targets.get(f"class_{i:04d}", 0) for i in range(args.classes)])
    weights = (wanted / np.maximum(counts, 1))[codes].astype(np.float64)
    norm = weights / weights.sum()
    draw = np.random.default_rng(1)
    rows.append(
        (
            "numpy Generator.choice(n, size, p=w)",
            best(lambda: draw.choice(args.rows, size=size, p=norm), args.repeat),
        )
    )

    def cdf_draw() -> object:
        cdf = np.cumsum(weights)
        return np.searchsorted(cdf, draw.random(size) * cdf[-1])

    rows.append(("numpy cumsum + searchsorted", best(cdf_draw, args.repeat)))
    if importlib.util.find_spec("torch") is not None:
        import torch
        from torch.utils.data import WeightedRandomSampler

        wrs = WeightedRandomSampler(torch.as_tensor(weights), num_samples=size, replacement=True)
        rows.append(
            ("torch WeightedRandomSampler (list of an epoch)", best(lambda: list(wrs), args.repeat))
        )
    print(
        f"\n{args.rows:,} rows, {args.classes:,} classes, --target {args.target}: {size:,} rows an epoch"
    )
    print(f"  {'job':<52} {'s':>7} {'× PlanSampler epoch':>20}")
    base = rows[1][1]
    for name, seconds in rows:
        print(f"  {name:<52} {seconds:>7.2f} {seconds / base:>20.2f}")
    codes_mb = codes.nbytes / 1e6
    print(
        f"\nmemory: the sampler holds {held / 1e6:.0f} MB; with an epoch's draw it peaks at "
        f"{peak / 1e6:.0f} MB = {peak / 1e6 / codes_mb:.2f}× the labels' int32 codes ({codes_mb:.0f} MB)"
    )


if __name__ == "__main__":
    main()
