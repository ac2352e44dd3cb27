"""Checks of option values shared by every command, done once at the boundary."""

from __future__ import annotations

from rebalance.errors import RebalanceError

SEED_MAX = 2**32 - 1  # numpy's legacy seeding and scikit-learn's random_state both stop here


def check_seed(seed: object, *, name: str = "seed") -> int:
    """``seed`` as an int in [0, 2**32 - 1], or a :class:`RebalanceError` naming ``name``."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RebalanceError(f"{name} must be a whole number in 0..{SEED_MAX}, got {seed!r}")
    if not 0 <= seed <= SEED_MAX:
        raise RebalanceError(f"{name} must be in 0..{SEED_MAX}, got {seed}")
    return seed
