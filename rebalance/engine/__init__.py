"""The engine seam: where commands get counts, reductions, rows and writes.

Every command asks an :class:`Engine` for what it needs from a manifest instead of
reading files itself:

* ``columns`` — the column names;
* ``counts`` — label (and split × label) counts;
* ``reduce`` — any per-batch summary combined into one small result (map-reduce);
* ``read`` — columns of every row, as one table (what the selection works on);
* ``take_write`` — the rows at given input positions, written to a destination
  (map-and-write: each batch of the input contributes its chosen rows);
* ``write`` — tables written to a destination, atomically.

:class:`~rebalance.engine.local.LocalEngine` (the default, ``"local"``) streams the
file in this process with pyarrow. Another engine (a distributed one) implements the
same methods and registers a name in :data:`ENGINES`; the commands do not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rebalance.engine.base import Engine, Reduce
from rebalance.errors import RebalanceError

# engine name -> "module:class", imported only when asked for
ENGINES: dict[str, str] = {
    "local": "rebalance.engine.local:LocalEngine",
    "dask": "rebalance.engine.dask:DaskEngine",
}


def get_engine(engine: str | Engine | None = None) -> Engine:
    """The engine of that name (``None`` or ``"local"``: in-process), or ``engine`` itself."""
    if engine is None:
        engine = "local"
    if not isinstance(engine, str):
        return engine
    if engine not in ENGINES:
        raise RebalanceError(
            f"--engine {engine!r} is not an engine (engines: {', '.join(ENGINES)})"
        )
    import importlib

    module, name = ENGINES[engine].split(":")
    made: Engine = getattr(importlib.import_module(module), name)()
    return made


@contextmanager
def using(engine: str | Engine | None = None) -> Iterator[Engine]:
    """The engine :func:`get_engine` gives, closed at the end when it was made here from a
    name (a ``"dask"`` engine starts a local cluster that would outlive the call); an
    engine object passed in stays open for its owner."""
    made = get_engine(engine)
    try:
        yield made
    finally:
        close = getattr(made, "close", None)
        if made is not engine and close is not None:
            close()


__all__ = ["ENGINES", "Engine", "Reduce", "get_engine", "using"]
