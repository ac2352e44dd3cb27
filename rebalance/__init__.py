"""rebalance: fix class imbalance in ML datasets.

The library behind the ``rebalance`` command. Every command is one call here::

    import rebalance
    report = rebalance.inspect("train.csv")          # class distribution + imbalance
    result = rebalance.evaluate("preds.csv")         # metrics that do not lie under imbalance
    table = rebalance.read_manifest("train.parquet")  # a pyarrow.Table

Heavy libraries are imported on first use, so ``import rebalance`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from rebalance._version import __version__
from rebalance.errors import RebalanceError

# public name -> module that defines it (imported lazily on first access)
_EXPORTS = {
    "read_manifest": "rebalance.manifest",
    "write_manifest": "rebalance.manifest",
    "resolve_source": "rebalance.manifest",
    "count_labels": "rebalance.stats",
    "describe": "rebalance.stats",
    "inspect": "rebalance.stats",
    "inspect_multilabel": "rebalance.multilabel.stats",
    "multilabel_weights": "rebalance.multilabel.weights",
    "inspect_regression": "rebalance.regression.stats",
    "plan_targets": "rebalance.plan",
    "resample": "rebalance.resampling",
    "resample_file": "rebalance.resampling",
    "plan_manifest": "rebalance.resampling",
    "class_weights": "rebalance.weights",
    "manifest_weights": "rebalance.weights",
    "with_sample_weights": "rebalance.weights",
    "evaluate": "rebalance.evaluation",
    "read_predictions": "rebalance.predictions",
    "adjust": "rebalance.priors",
    "advise_file": "rebalance.advise",
    "adjust_file": "rebalance.priors",
    "training_counts": "rebalance.stats",
    "scan_images": "rebalance.images.scan",
    "pixel_counts": "rebalance.images.masks",
    "image_features": "rebalance.images.features",
    "repeat_file": "rebalance.images.repeat",
    "PlanSampler": "rebalance.sampling",
    "ClassBatchSampler": "rebalance.sampling",
    "ResampleRequest": "rebalance.resampling.request",
    "TrainingSource": "rebalance.counts",
}

__all__ = ["RebalanceError", "__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rebalance' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
