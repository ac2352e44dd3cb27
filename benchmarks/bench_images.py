"""Image throughput: descriptors and augmentation next to a plain Pillow loop, same run.

    python benchmarks/bench_images.py                 # 5,000 generated 256x256 JPEGs
    python benchmarks/bench_images.py --images 2000

* descriptors: ``rebalance.images.features.image_features`` with 1 and 2 worker
  processes (cache off), next to the loop a user writes instead: ``Image.open +
  thumbnail(64)`` in one process, and the same in a ``multiprocessing.Pool`` of 2;
  then the cached rerun (cache on, second call) against the first.
* augmentation: ``rebalance.images.augment.write_images`` with 1 and 2 workers, next
  to an ``open + rotate + save`` loop in one process and in a ``multiprocessing.Pool``
  of 2 (same images, same quality).

Each figure is the best of ``--repeat`` runs; peak RSS is this process's (workers are
children) and is reported to show it stays flat.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from _common import DATA


def make_images(count: int) -> list[str]:
    import numpy as np
    from PIL import Image, ImageDraw

    folder = DATA / f"images-{count}"
    paths = [str(folder / f"{i:05d}.jpg") for i in range(count)]
    if folder.exists() and all(os.path.exists(p) for p in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, path in enumerate(paths):
        base = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
        im = Image.fromarray(base).resize((256, 256))
        draw = ImageDraw.Draw(im)
        x, y = (int(v) for v in rng.integers(0, 200, 2))
        draw.ellipse([x, y, x + 50, y + 50], fill=(255, 255, 255) if i % 2 else (0, 0, 0))
        im.save(path, quality=90)
    return paths


def _thumbnail(path: str) -> tuple[int, int]:
    """The plain user loop's work on one image (a Pool worker)."""
    from PIL import Image

    with Image.open(path) as im:
        im.thumbnail((64, 64))
        return im.size


def _rotate_save(item: tuple[int, str, str]) -> None:
    """The plain user loop's augmentation of one image (a Pool worker)."""
    from PIL import Image

    i, path, folder = item
    with Image.open(path) as im:
        im.rotate(10, resample=Image.Resampling.BILINEAR).save(f"{folder}/pool{i}.jpg", quality=95)


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def machine_ceiling() -> float:
    """How much faster 2 processes finish 2 pure-Python jobs than 1 does: the most 2 workers
    can gain on this machine (a VM's 2 vCPUs may share less than 2 cores)."""
    from concurrent.futures import ProcessPoolExecutor

    n = 6_000_000
    start = time.perf_counter()
    _spin(n)
    _spin(n)
    serial = time.perf_counter() - start
    with ProcessPoolExecutor(2) as pool:
        start = time.perf_counter()
        list(pool.map(_spin, [n, n]))
        parallel = time.perf_counter() - start
    return serial / parallel


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from PIL import Image

    from rebalance.images.augment import Task, draw, parse_augment, write_images
    from rebalance.images.features import image_features

    paths = make_images(args.images)
    n = len(paths)

    def pillow_thumbnails() -> None:
        for p in paths:
            with Image.open(p) as im:
                im.thumbnail((64, 64))

    from multiprocessing import Pool

    def pool_thumbnails() -> None:
        with Pool(2) as pool:
            pool.map(_thumbnail, paths, chunksize=64)

    rows = []
    plain = best(pillow_thumbnails, args.repeat)
    rows.append(("Pillow loop: open + thumbnail(64), 1 process", plain))
    rows.append(("Pillow + Pool(2): open + thumbnail(64)", best(pool_thumbnails, args.repeat)))
    for workers in (1, 2):
        t = best(lambda w=workers: image_features(paths, workers=w, cache_dir=""), args.repeat)
        rows.append((f"rebalance builtin descriptors, {workers} worker(s)", t))
    cache = tempfile.mkdtemp()
    try:
        first = best(lambda: image_features(paths, workers=2, cache_dir=cache), 1)
        cached = best(lambda: image_features(paths, workers=2, cache_dir=cache), args.repeat)
    finally:
        shutil.rmtree(cache)
    rows.append(("descriptors, 2 workers, filling the cache", first))
    rows.append(("descriptors, cached rerun", cached))

    spec = parse_augment("rotate=15,flip,zoom=0.1,color=0.2")
    out = Path(tempfile.mkdtemp())

    def pillow_rotate() -> None:
        for i, p in enumerate(paths):
            with Image.open(p) as im:
                im.rotate(10, resample=Image.Resampling.BILINEAR).save(
                    out / f"plain{i}.jpg", quality=95
                )

    def pool_rotate() -> None:
        with Pool(2) as pool:
            pool.map(_rotate_save, [(i, p, str(out)) for i, p in enumerate(paths)], chunksize=64)

    rotate_only = parse_augment("rotate=15")

    def augment(workers: int, transforms: object = spec, tag: str = "") -> None:
        tasks = [
            Task(p, str(out / f"a{workers}{tag}_{i}.jpg"), draw(transforms, 0, i))  # type: ignore[arg-type]
            for i, p in enumerate(paths)
        ]

        def write(path: str, data: bytes) -> None:
            with open(path, "wb") as fh:
                fh.write(data)

        write_images(tasks, workers=workers, write=write)

    try:
        rows.append(
            ("Pillow loop: open + rotate + save, 1 process", best(pillow_rotate, args.repeat))
        )
        rows.append(("Pillow + Pool(2): open + rotate + save", best(pool_rotate, args.repeat)))
        t = best(lambda: augment(1, rotate_only, "r"), args.repeat)
        rows.append(("rebalance augment rotate=15 only, 1 worker", t))
        t = best(lambda: augment(2, rotate_only, "r2"), args.repeat)
        rows.append(("rebalance augment rotate=15 only, 2 workers", t))
        for workers in (1, 2):
            t = best(lambda w=workers: augment(w), args.repeat)
            rows.append((f"rebalance augment, {workers} worker(s)", t))
    finally:
        shutil.rmtree(out)

    print(f"\n{n:,} images, 256x256 JPEG, best of {args.repeat}")
    print(f"  {'run':<52} {'wall s':>8} {'images/s':>10}")
    for name, t in rows:
        print(f"  {name:<52} {t:>8.2f} {n / t:>10,.0f}")
    table = dict(rows)
    d1 = table["rebalance builtin descriptors, 1 worker(s)"]
    d2 = table["rebalance builtin descriptors, 2 worker(s)"]
    a1 = table["rebalance augment, 1 worker(s)"]
    a2 = table["rebalance augment, 2 worker(s)"]
    print(
        f"  descriptors: 1 worker / Pillow loop {d1 / plain:.2f}x time; 2 workers speed-up {d1 / d2:.2f}x"
    )
    a_plain = table["Pillow loop: open + rotate + save, 1 process"]
    print(
        f"  augment: 1 worker / Pillow loop {a1 / a_plain:.2f}x time; 2 workers speed-up {a1 / a2:.2f}x"
    )
    like = table["rebalance augment rotate=15 only, 1 worker"]
    print(
        f"  augment rotate only (the loop's work): 1 worker / Pillow loop {like / a_plain:.2f}x time"
    )
    pool_d = table["Pillow + Pool(2): open + thumbnail(64)"]
    pool_a = table["Pillow + Pool(2): open + rotate + save"]
    like2 = table["rebalance augment rotate=15 only, 2 workers"]
    print(f"  descriptors, 2 workers / Pillow + Pool(2): {d2 / pool_d:.2f}x time")
    print(f"  augment rotate only, 2 workers / Pillow + Pool(2): {like2 / pool_a:.2f}x time")
    print(f"  cached rerun: {cached / first:.1%} of the first run ({first / cached:.0f}x faster)")
    print(
        f"  machine ceiling: 2 processes of pure Python run {machine_ceiling():.2f}x faster than 1"
    )
    print(
        f"  peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
