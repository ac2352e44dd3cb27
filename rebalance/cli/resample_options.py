"""The options of ``rebalance resample``, one alias per flag (its help and panel)."""

from enum import StrEnum
from typing import Annotated

import typer

from rebalance.cli.options import (
    _complete_method,
)
from rebalance.samplers.registry import method_help


class PathsMode(StrEnum):
    relative = "relative"
    absolute = "absolute"
    as_is = "as-is"


class ResampleMode(StrEnum):
    under = "under"
    over = "over"
    both = "both"


TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="Rows per class: max (default for random/oversampling), min (default for "
        "undersampling), median, mean, N, ratio:R (no class over R× the smallest; undersamples "
        "unless --mode over|both), sqrt or power:Q (counts ∝ n^Q, total kept), repeat-factor:T (LVIS).",
        rich_help_panel="Plan",
    ),
]

ModeOpt = Annotated[
    ResampleMode | None,
    typer.Option(
        "--mode",
        help="Keep only the under- or over-sampling moves of the target, or both.",
        rich_help_panel="Plan",
    ),
]

MinPerClassOpt = Annotated[
    int | None,
    typer.Option(
        "--min-per-class", help="Clamp: at least N rows per class.", rich_help_panel="Plan"
    ),
]

MaxPerClassOpt = Annotated[
    int | None,
    typer.Option(
        "--max-per-class", help="Clamp: at most N rows per class.", rich_help_panel="Plan"
    ),
]

PlanFileOpt = Annotated[
    str | None,
    typer.Option(
        "--plan",
        help="Per-class targets: JSON {label: n} or TOML [targets].",
        rich_help_panel="Plan",
    ),
]

MethodOpt = Annotated[
    str,
    typer.Option(
        "--method",
        autocompletion=_complete_method,
        help=method_help(),
        rich_help_panel="Method",
    ),
]

IdColOpt = Annotated[
    str | None,
    typer.Option(
        "--id-col",
        help="Row key for random sampling (default: row position).",
        rich_help_panel="Columns and splits",
    ),
]

FeaturesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--features",
        help="Feature columns for imbalanced-learn methods: names or globs (repeatable).",
        rich_help_panel="Method",
    ),
]

KNeighborsOpt = Annotated[
    int | None,
    typer.Option("--k-neighbors", min=1, help="k of the SMOTE family.", rich_help_panel="Method"),
]

NNeighborsOpt = Annotated[
    int | None,
    typer.Option(
        "--n-neighbors",
        min=1,
        help="n_neighbors of ADASYN, NearMiss, ENN, …",
        rich_help_panel="Method",
    ),
]

VersionOpt = Annotated[
    int | None,
    typer.Option(
        "--version", min=1, max=3, help="NearMiss version (1, 2 or 3).", rich_help_panel="Method"
    ),
]

ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="NAME=VALUE passed to the imbalanced-learn sampler (repeatable).",
        rich_help_panel="Method",
    ),
]

NJobsOpt = Annotated[
    int | None,
    typer.Option(
        "--n-jobs",
        help="Parallel jobs for neighbour searches (-1: all cores).",
        rich_help_panel="Method",
    ),
]

ProvenanceOpt = Annotated[
    bool,
    typer.Option(
        "--provenance",
        help="Add rebalance_source_row and rebalance_synthetic columns.",
        rich_help_panel="Method",
    ),
]

ShuffleOpt = Annotated[
    bool,
    typer.Option("--shuffle", help="Shuffle the output rows (seeded).", rich_help_panel="Method"),
]

ReplacementOpt = Annotated[
    bool,
    typer.Option(
        "--replacement",
        help="Random undersampling draws with replacement (imbalanced-learn's "
        "RandomUnderSampler(replacement=True): the same rows for the same seed).",
        rich_help_panel="Method",
    ),
]

SortOutputOpt = Annotated[
    bool,
    typer.Option(
        "--sort-output",
        help="Random method: write rows in (label, row key) order, the same file for any "
        "partitioning of the input (with --id-col).",
        rich_help_panel="Output",
    ),
]

DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Print the plan (before → after per class); write nothing.",
        rich_help_panel="Output",
    ),
]

PlanJsonOpt = Annotated[
    bool,
    typer.Option(
        "--plan-json",
        help="Print the plan (or, after a run, the sidecar) as JSON on stdout.",
        rich_help_panel="Output",
    ),
]

PlanOutOpt = Annotated[
    str | None,
    typer.Option(
        "--plan-out",
        help="Write the plan sidecar (seed, method, counts, version) as JSON here.",
        rich_help_panel="Output",
    ),
]

OnlySplitOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--only-split",
        help="Resample only this split (repeatable); other rows pass through.",
        rich_help_panel="Columns and splits",
    ),
]

AllSplitsOpt = Annotated[
    bool,
    typer.Option(
        "--all-splits",
        help="Resample every row, validation and test included.",
        rich_help_panel="Columns and splits",
    ),
]

GroupColOpt = Annotated[
    str | None,
    typer.Option(
        "--group-col",
        help="Group column (patient, video): undersampling keeps or drops whole groups.",
        rich_help_panel="Columns and splits",
    ),
]

AllowLargeOpt = Annotated[
    bool,
    typer.Option(
        "--allow-large",
        help="Allow an output over 10× the input (and over 1M rows).",
        rich_help_panel="Plan",
    ),
]

StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Make rows without a label, and classes too small for a neighbour method, errors.",
        rich_help_panel="Columns and splits",
    ),
]

TopOpt = Annotated[
    int, typer.Option("--top", min=1, help="Plan rows shown at each end.", rich_help_panel="Output")
]

ShowAllOpt = Annotated[
    bool, typer.Option("--all", help="Show every class of the plan.", rich_help_panel="Output")
]

ImageFeaturesOpt = Annotated[
    str | None,
    typer.Option(
        "--image-features",
        help="builtin (Pillow + numpy) or cnn (pip install 'rebalance[embed]'): features of the "
        "images of the path column for cluster, dedup and the neighbour methods.",
        rich_help_panel="Images",
    ),
]

ThresholdOpt = Annotated[
    float | None,
    typer.Option(
        "--threshold",
        help="dedup: rows of a class closer than D are near-duplicates.",
        rich_help_panel="Method",
    ),
]

PreviewOpt = Annotated[
    str | None,
    typer.Option(
        "--preview",
        help="augment, cluster, dedup: also write an HTML page of what the method did (new "
        "images beside their parents, kept and dropped images, each duplicate beside its "
        "kept image).",
        rich_help_panel="Images",
    ),
]

ImageDirOpt = Annotated[
    str | None,
    typer.Option(
        "--image-dir",
        help="augment: folder for the new images (created if absent).",
        rich_help_panel="Images",
    ),
]

AugmentOpt = Annotated[
    str | None,
    typer.Option(
        "--augment",
        help="augment: transforms and strengths, e.g. rotate=15,flip,vflip,zoom=0.2,skew=0.1,color=0.3 "
        "(default rotate=15,flip,zoom=0.1,color=0.2).",
        rich_help_panel="Images",
    ),
]

SkipBadOpt = Annotated[
    bool,
    typer.Option(
        "--skip-bad",
        help="Image methods: leave out rows whose image is missing, unreadable, corrupt or too "
        "large (default: exit 2).",
        rich_help_panel="Images",
    ),
]

WeightsOpt = Annotated[
    str | None,
    typer.Option(
        "--weights",
        help="--image-features cnn: a mobilenet_v3_small state_dict file (offline use).",
        rich_help_panel="Images",
    ),
]

BinsOpt = Annotated[
    int,
    typer.Option(
        "--bins",
        min=1,
        help="Regression random: bins of the target (default 10).",
        rich_help_panel="Regression",
    ),
]

RareQuantileOpt = Annotated[
    float,
    typer.Option(
        "--rare-quantile",
        help="Regression smoter: rows in the lowest and highest Q are rare.",
        rich_help_panel="Regression",
    ),
]

OverOpt = Annotated[
    float,
    typer.Option(
        "--over", help="Regression smoter: new rows per rare row.", rich_help_panel="Regression"
    ),
]

UnderOpt = Annotated[
    float,
    typer.Option(
        "--under",
        help="Regression smoter: share of the other rows kept (0..1).",
        rich_help_panel="Regression",
    ),
]

PercentageOpt = Annotated[
    float | None,
    typer.Option(
        "--percentage",
        help="Multi-label: rows to copy (ros) or remove (rus), in % of the input.",
        rich_help_panel="Multi-label",
    ),
]

TargetMeanirOpt = Annotated[
    float | None,
    typer.Option(
        "--target-meanir",
        help="Multi-label ml-ros/ml-rus: resample until MeanIR ≤ M.",
        rich_help_panel="Multi-label",
    ),
]

LabelModeOpt = Annotated[
    str,
    typer.Option(
        "--label-mode",
        help="mlsmote: a new row's labels: ranking (held by over half of the row and its "
        "neighbours; default), union or intersection.",
        rich_help_panel="Multi-label",
    ),
]

PathsOpt = Annotated[
    PathsMode,
    typer.Option(
        "--paths",
        help="Relative file paths in the output: relative (rewritten for the output's "
        "folder; default), absolute, or as-is (as read).",
        rich_help_panel="Output",
    ),
]
