"""`rebalance --help` start-up time (stored text, and typer rendering it) vs. a bare
interpreter and `import pandas`.

python benchmarks/bench_startup.py
"""

from __future__ import annotations

import statistics
import sys

from _common import measure, python, rebalance

TYPER_HELP = (
    "import sys; sys.argv = ['rebalance', '--help']; from rebalance.cli import main; main()"
)


def best_of(argv: list[str], n: int = 7) -> float:
    measure(argv)  # warm the file cache
    return min(measure(argv)[0] for _ in range(n))


def main() -> None:
    rows = [
        ("python -c pass", best_of(python("pass"))),
        ("rebalance --help", best_of(rebalance("--help"))),
        ("rebalance resample --help", best_of(rebalance("resample", "--help"))),
        # what a terminal under 80 columns (or a changed option) gets: typer renders it
        ("--help rendered by typer", best_of(python(TYPER_HELP))),
        ("python -c 'import pandas'", best_of(python("import pandas"))),
        ("python -c 'import sklearn, imblearn'", best_of(python("import sklearn, imblearn"))),
    ]
    print(f"\nstart-up, best of 7 (warm), {sys.version.split()[0]}")
    for name, wall in rows:
        print(f"  {name:<40} {wall:6.3f} s")
    print(f"  median of the above: {statistics.median(w for _, w in rows):.3f} s")


if __name__ == "__main__":
    main()
