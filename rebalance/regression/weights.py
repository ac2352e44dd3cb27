"""Per-row sample weights for an imbalanced regression target, normalised to mean 1.

With y_i the target of row i, b(y) its bin and n_b the rows in bin b:

* ``inverse``: w_i ∝ 1 / n_b(y_i);
* ``sqrt-inverse``: w_i ∝ 1 / √n_b(y_i);
* ``lds`` (label distribution smoothing, Yang et al. 2021): the histogram convolved with a
  Gaussian window, ñ_b = Σ_k K(k) · n_{b+k} for |k| ≤ (ks − 1) / 2 with
  K(k) = exp(−k² / 2σ²) (bins outside the range count 0), then w_i ∝ 1 / ñ_b(y_i);
* ``denseweight`` (Steininger et al. 2021): a Gaussian kernel density p(y) with Silverman's
  bandwidth h = s · (3n/4)^(−1/5) (s the sample standard deviation, as
  ``scipy.stats.gaussian_kde(bw_method="silverman")``), scaled to
  p'(y) = (p(y) − min_i p(y_i)) / (max_i p(y_i) − min_i p(y_i)); w_i ∝ max(1 − α · p'(y_i), ε)
  with ε = 10⁻⁶.

Each is then divided by its mean over the rows, so the weights average 1 and the loss keeps
its scale.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.regression.target import Bins, histogram, make_bins, read_target

SCHEMES = ("lds", "inverse", "sqrt-inverse", "denseweight")
EPSILON = 1e-6
# grid points of the kernel density (linear binning, then a Gaussian convolution)
_KDE_GRID = 1 << 14


def lds_kernel(kernel_size: int, sigma: float) -> npt.NDArray[np.float64]:
    """The LDS window K(k) = exp(−k² / 2σ²), k = −(ks−1)/2 … (ks−1)/2."""
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise RebalanceError(f"--kernel-size must be a positive odd number, got {kernel_size}")
    if not sigma > 0:
        raise RebalanceError(f"--sigma must be positive, got {sigma:g}")
    half = kernel_size // 2
    k = np.arange(-half, half + 1, dtype=float)
    kernel: npt.NDArray[np.float64] = np.exp(-(k**2) / (2 * sigma**2))
    return kernel


def smoothed_counts(
    counts: npt.NDArray[np.int64], kernel_size: int, sigma: float
) -> npt.NDArray[np.float64]:
    """The histogram convolved with the LDS window (zeros beyond the ends)."""
    smoothed: npt.NDArray[np.float64] = np.convolve(
        counts.astype(float), lds_kernel(kernel_size, sigma), mode="same"
    )
    return smoothed


def silverman_bandwidth(y: npt.NDArray[np.float64]) -> float:
    """s · (3n/4)^(−1/5): scipy's ``gaussian_kde(bw_method="silverman")`` in one dimension."""
    n = len(y)
    return float(np.std(y, ddof=1) * (n * 3.0 / 4.0) ** (-1.0 / 5.0))


def kernel_density(y: npt.NDArray[np.float64], at: npt.NDArray[np.float64]) -> Any:
    """The Gaussian kernel density of ``y`` (Silverman's bandwidth) at the points ``at``,
    computed on a fine grid (linear binning, exact Gaussian weights) and interpolated."""
    h = silverman_bandwidth(y)
    if not h > 0:
        raise RebalanceError("the regression target has one value only: no density to weigh by")
    low, high = float(y.min()) - 4 * h, float(y.max()) + 4 * h
    grid = np.linspace(low, high, _KDE_GRID)
    step = grid[1] - grid[0]
    position = (y - low) / step
    left = np.floor(position).astype(np.intp)
    frac = position - left
    mass = np.bincount(left, weights=1 - frac, minlength=_KDE_GRID + 1)
    mass += np.bincount(left + 1, weights=frac, minlength=_KDE_GRID + 1)
    mass = mass[:_KDE_GRID]
    reach = int(np.ceil(6 * h / step))
    offsets = np.arange(-reach, reach + 1) * step
    kernel = np.exp(-0.5 * (offsets / h) ** 2) / (h * np.sqrt(2 * np.pi))
    if len(kernel) > len(mass):
        density = np.convolve(mass, kernel, mode="full")[reach : reach + len(mass)]
    else:
        density = np.convolve(mass, kernel, mode="same")
    return np.interp(at, grid, density / len(y))


@dataclass(frozen=True)
class TargetWeights:
    """Per-row weights of a regression target, and how they were made."""

    scheme: str
    params: dict[str, Any]
    bins: Bins | None
    weights: npt.NDArray[np.float64]
    bin_rows: list[int] = field(default_factory=list)
    bin_weights: list[float] = field(default_factory=list)
    split: str | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "regression": True,
            "scheme": self.scheme,
            "params": dict(self.params),
            "rows": len(self.weights),
            "min_weight": float(self.weights.min()),
            "max_weight": float(self.weights.max()),
            "split": self.split,
        }
        if self.bins is not None:
            doc["bin_edges"] = [float(e) for e in self.bins.edges]
            doc["bin_rows"] = list(self.bin_rows)
            doc["bin_weights"] = list(self.bin_weights)
        return doc


def target_weights(
    y: npt.NDArray[np.float64],
    *,
    scheme: str = "lds",
    bins: int = 50,
    binning: str = "width",
    kernel_size: int = 5,
    sigma: float = 2.0,
    alpha: float = 1.0,
    weigh: npt.NDArray[np.float64] | None = None,
) -> TargetWeights:
    """Weights (mean 1 over the rows of ``weigh``) for the values ``weigh`` (default ``y``),
    from the distribution of ``y`` (see the module docstring for each scheme)."""
    if scheme not in SCHEMES:
        raise RebalanceError(
            f"unknown regression scheme {scheme!r} (use one of: {', '.join(SCHEMES)})"
        )
    values = y if weigh is None else weigh
    if scheme == "denseweight":
        if alpha < 0:
            raise RebalanceError(f"--alpha must not be negative, got {alpha:g}")
        density_y = kernel_density(y, y)
        lowest, highest = float(density_y.min()), float(density_y.max())
        spread = highest - lowest
        scaled = (
            (kernel_density(y, values) - lowest) / spread if spread > 0 else np.zeros(len(values))
        )
        raw = np.maximum(1.0 - alpha * scaled, EPSILON)
        found = raw / raw.mean()
        h = silverman_bandwidth(y)
        return TargetWeights(
            scheme=scheme, params={"alpha": alpha, "bandwidth": h, "epsilon": EPSILON}, bins=None,
            weights=found,
        )  # fmt: skip
    edges = make_bins(y, bins, binning)
    counts = histogram(y, edges)
    params: dict[str, Any] = {"bins": edges.count, "binning": binning}
    if scheme == "lds":
        density = smoothed_counts(counts, kernel_size, sigma)
        params.update(kernel_size=kernel_size, sigma=sigma)
    elif scheme == "sqrt-inverse":
        density = np.sqrt(counts.astype(float))
    else:
        density = counts.astype(float)
    which = edges.index(values)
    if np.any(density[which] <= 0):
        raise RebalanceError(
            "a row falls in a bin with no training rows: widen the bins (--bins) or use lds"
        )
    per_bin = np.divide(1.0, density, out=np.zeros_like(density), where=density > 0)
    raw = per_bin[which]
    scale = 1.0 / raw.mean()
    return TargetWeights(
        scheme=scheme,
        params=params,
        bins=edges,
        weights=raw * scale,
        bin_rows=[int(c) for c in counts],
        bin_weights=[float(w * scale) for w in per_bin],
    )


def regression_weights(
    source: str | os.PathLike[str] | Any,
    *,
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    from_split: str | None = None,
    weight_col: str = "weight",
    input_format: str | None = None,
    encoding: str = "utf-8",
    **options: Any,
) -> tuple[pa.Table, TargetWeights]:
    """The manifest with a per-row weight column: the target's distribution comes from the
    ``train`` split (or ``from_split``) when there is a split column, and every row is
    weighed by it (mean 1 over the rows of that split). ``options`` go to
    :func:`target_weights`."""
    from rebalance.manifest import label_and_split, labels_as_text, load_table
    from rebalance.stats import pick_split

    table, where = load_table(source, input_format=input_format, encoding=encoding)
    if weight_col in table.column_names:
        raise RebalanceError(f"column {weight_col!r} already exists (choose another --weight-col)")
    target, split = label_and_split(
        table.column_names, label_col, split_col, detect_split=detect_split, where=where
    )
    y = read_target(table, target, where=where)
    chosen = None
    in_split = np.ones(len(y), dtype=bool)
    if split is not None:
        names = np.asarray(labels_as_text(table.column(split)).to_pylist(), dtype=object)
        chosen = pick_split(
            sorted({str(v) for v in names if v is not None}), from_split, where=where
        )
        in_split = names == chosen
    elif from_split is not None:
        raise RebalanceError(f"{where}: --from-split needs a split column")
    found = target_weights(y[in_split], weigh=y, **options)
    # mean 1 over the rows the distribution came from
    scale = float(found.weights[in_split].mean())
    found = replace(
        found,
        weights=found.weights / scale,
        bin_weights=[w / scale for w in found.bin_weights],
        split=chosen,
    )
    return table.append_column(weight_col, pa.array(found.weights, pa.float64())), found
