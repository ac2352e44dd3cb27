"""Every resampling method by name: its kind, what runs it, what it needs.

This is the one list to extend with a method. It imports nothing heavy: the command
line's ``--method`` help and completion read it, and :mod:`rebalance.samplers.tabular`
runs what it names. Adding an imbalanced-learn sampler is one line here (its kind, its
class path, and the neighbour parameter its classes need rows for), a line of the
README's method table and a case of ``tests/test_tabular.py``'s contract suite.

Kinds:

* ``over`` — synthesizes new rows for classes below target (exact counts for SMOTE);
* ``select`` — keeps a subset of rows per the targets (``sample_indices_``);
* ``clean`` — removes noisy/borderline rows; ignores targets (``sample_indices_``);
* ``generate`` — replaces rows of classes above target by synthetic ones (centroids);
* ``combine`` — oversamples, then cleans (SMOTE + Tomek links / ENN).
"""

from __future__ import annotations

from typing import NamedTuple

from rebalance.errors import RebalanceError


class Method(NamedTuple):
    """An imbalanced-learn method: its kind and class, and its neighbour parameter
    (``(name, default k)``: a class needs k + 1 rows), if any."""

    kind: str
    path: str
    neighbours: tuple[str, int] | None = None
    faster: str | None = None  # a subclass with a faster search and the same output


_SMOTE = ("k_neighbors", 5)
METHODS: dict[str, Method] = {
    "smote": Method("over", "imblearn.over_sampling.SMOTE", _SMOTE),
    "borderline-smote": Method("over", "imblearn.over_sampling.BorderlineSMOTE", _SMOTE),
    "svm-smote": Method("over", "imblearn.over_sampling.SVMSMOTE", _SMOTE),
    "adasyn": Method("over", "imblearn.over_sampling.ADASYN", ("n_neighbors", 5)),
    "smotenc": Method("over", "imblearn.over_sampling.SMOTENC", _SMOTE),
    "smoten": Method("over", "imblearn.over_sampling.SMOTEN", _SMOTE),
    "kmeans-smote": Method("over", "imblearn.over_sampling.KMeansSMOTE", ("k_neighbors", 2)),
    # the same steps, without the import of imbalanced-learn (most of its time at 30k rows)
    "near-miss": Method("select", "imblearn.under_sampling.NearMiss",
                        faster="rebalance.samplers.nearmiss.FastNearMiss"),
    "instance-hardness": Method("select", "imblearn.under_sampling.InstanceHardnessThreshold"),
    # a neighbour search that skips rows which cannot form a link (tests compare the output)
    "tomek": Method("clean", "imblearn.under_sampling.TomekLinks",
                    faster="rebalance.samplers.neighbours.FastTomekLinks"),
    "enn": Method("clean", "imblearn.under_sampling.EditedNearestNeighbours",
                  faster="rebalance.samplers.neighbours.FastEditedNearestNeighbours"),
    "renn": Method("clean", "imblearn.under_sampling.RepeatedEditedNearestNeighbours"),
    "allknn": Method("clean", "imblearn.under_sampling.AllKNN"),
    "one-sided-selection": Method("clean", "imblearn.under_sampling.OneSidedSelection",
                                  faster="rebalance.samplers.neighbours.FastOneSidedSelection"),
    "neighbourhood-cleaning": Method("clean", "imblearn.under_sampling.NeighbourhoodCleaningRule"),
    "condensed-nearest-neighbour": Method("clean", "imblearn.under_sampling.CondensedNearestNeighbour"),
    "cluster-centroids": Method("generate", "imblearn.under_sampling.ClusterCentroids"),
    "smote-tomek": Method("combine", "imblearn.combine.SMOTETomek", _SMOTE),
    "smote-enn": Method("combine", "imblearn.combine.SMOTEENN", _SMOTE),
}  # fmt: skip
SYNTHETIC_KINDS = ("over", "generate", "combine")

# similarity-aware methods on image (or embedding) features: rebalance.images.select
SIMILARITY_METHODS: dict[str, str] = {"cluster": "select", "dedup": "clean"}
# new images on disk from the random method's copies: rebalance.images.augment
IMAGE_METHODS: dict[str, str] = {**SIMILARITY_METHODS, "augment": "augment"}


def method_kind(method: str) -> str:
    """``random``, or the kind of a method (see :data:`METHODS`, :data:`SIMILARITY_METHODS`)."""
    if method == "random":
        return "random"
    if method in IMAGE_METHODS:
        return IMAGE_METHODS[method]
    if method not in METHODS:
        import difflib

        names = ["random", *METHODS, *IMAGE_METHODS]
        close = difflib.get_close_matches(method, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise RebalanceError(
            f"--method {method!r} is not a method{hint}; methods: {', '.join(names)}"
        )
    return METHODS[method].kind


def method_names() -> tuple[str, ...]:
    """Every ``--method``: random, the imbalanced-learn ones, the image ones."""
    return ("random", *METHODS, *IMAGE_METHODS)


def method_help() -> str:
    """The ``--method`` help text, from this list."""
    similar = ", ".join(SIMILARITY_METHODS)
    return (
        f"random (default), {', '.join(METHODS)}; "
        f"{similar} (similarity-aware, on image features or --features embeddings); "
        "augment (new images on disk)."
    )
