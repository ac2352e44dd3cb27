"""Mutation testing of one module with mutmut: ``tools/mutation.sh MODULE`` (see README).

Each module the numbers of users depend on is a *target*: its source file, the tests
that guard it, and optionally the functions that make it up (a target may be part of
a file). The run happens in a scratch copy of the working tree, so the project's own
files are never touched; mutmut mutates only the target's file and runs only its
tests. The score is killed / (mutants - equivalent ones), where the equivalent ones
are listed with a reason in ``mutation-equivalent.txt``.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "mutation-equivalent.txt"


@dataclass(frozen=True)
class Target:
    source: str
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()  # the functions (Class.method) that make it; () = all

    def globs(self) -> list[str]:
        """mutmut's mutant names of those functions (``module.x_name__mutmut_N``)."""
        module = self.source.removesuffix(".py").replace("/", ".")
        return [
            f"{module}.xǁ{f.split('.')[0]}ǁ{f.split('.')[1]}__mutmut_*"
            if "." in f
            else f"{module}.x_{f}__mutmut_*"
            for f in self.functions
        ]


TARGETS: dict[str, Target] = {
    "plan": Target(
        "rebalance/plan.py",
        ("tests/test_plan.py", "tests/test_plan_exact.py", "tests/test_resample.py"),
    ),
    "weights": Target(
        "rebalance/weights.py",
        (
            "tests/test_weights.py",
            "tests/test_weights_exact.py",
            "tests/test_cli_weights.py",
            "tests/test_focal.py",
            "tests/test_images.py",
        ),
    ),
    "metrics": Target(
        "rebalance/metrics.py",
        ("tests/test_metrics.py", "tests/test_metrics_reference.py", "tests/test_metrics_exact.py"),
    ),
    "confusion": Target(
        "rebalance/confusion.py",
        (
            "tests/test_confusion.py",
            "tests/test_confusion_exact.py",
            "tests/test_metrics.py",
            "tests/test_metrics_reference.py",
        ),
    ),
    "priors": Target("rebalance/priors.py", ("tests/test_adjust.py", "tests/test_priors_exact.py")),
    "row-keys": Target(
        "rebalance/samplers/random.py",
        ("tests/test_resample.py", "tests/test_pieces.py"),
        ("splitmix64", "seed_mix", "text_hashes", "row_keys", "RowKeys.at", "RowKeys.block"),
    ),
    "manifest-writer": Target(
        "rebalance/manifest/write.py",
        ("tests/test_manifest_writer.py", "tests/test_manifest.py"),
    ),
}


def _copy_tree(to: Path) -> None:
    """The working tree as git sees it (tracked and untracked, not ignored files)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, to / name)


def _configure(pyproject: Path, target: Target) -> None:
    """Point the copy's ``[tool.mutmut]`` at this target's file and tests."""
    text = pyproject.read_text()
    extra = (
        f"only_mutate = [{target.source!r}]\n"
        f"pytest_add_cli_args_test_selection = {list(target.tests)!r}\n"
    ).replace("'", '"')
    pyproject.write_text(text.replace("[tool.mutmut]\n", "[tool.mutmut]\n" + extra, 1))


def equivalent() -> dict[str, str]:
    """Mutants that change no behaviour: name -> why (``mutation-equivalent.txt``)."""
    out: dict[str, str] = {}
    if EQUIVALENT.exists():
        for line in EQUIVALENT.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, why = line.partition(" ")
                out[name.strip()] = why.strip(" #")
    return out


def score(results: str, target: Target) -> tuple[int, int, list[str], list[str]]:
    """(killed, counted, survivors, equivalents) of a ``mutmut results --all true`` text."""
    globs = target.globs()
    known = equivalent()
    killed = counted = 0
    survivors: list[str] = []
    equivalents: list[str] = []
    for line in results.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name or (globs and not any(fnmatch.fnmatchcase(name, g) for g in globs)):
            continue
        if name in known:
            equivalents.append(name)
            continue
        counted += 1
        if status in ("killed", "timeout"):
            killed += 1
        else:
            survivors.append(f"{name}: {status}")
    return killed, counted, survivors, equivalents


def run(name: str, jobs: int, keep: bool, verbose: bool) -> float:
    target = TARGETS[name]
    work = Path(tempfile.mkdtemp(prefix=f"rebalance-mutation-{name}-"))
    try:
        _copy_tree(work)
        _configure(work / "pyproject.toml", target)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        with open(work / "mutmut.log", "w") as log:
            subprocess.run(
                [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs),
                 *target.globs()],
                cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        results = subprocess.run(
            [sys.executable, "-m", "mutmut", "results", "--all", "true"],
            cwd=work, env=env, capture_output=True, text=True,
        ).stdout  # fmt: skip
        killed, counted, survivors, equivalents = score(results, target)
        value = killed / counted if counted else 0.0
        by_function: dict[str, int] = {}
        for line in survivors:
            function = re.sub(r"__mutmut_\d+: .*", "", line)
            by_function[function] = by_function.get(function, 0) + 1
            if verbose:
                print(f"  survived  {line}")
        for function, n in sorted(by_function.items(), key=lambda kv: -kv[1]):
            print(f"  {n:4d} not killed in {function}")
        print(
            f"{name}: {killed} of {counted} mutants killed ({value:.1%}); "
            f"{len(equivalents)} equivalent ones left out (mutation-equivalent.txt)"
        )
        if keep:
            print(f"scratch copy kept in {work} (mutmut show NAME there)")
        return value
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", choices=[*TARGETS, "all"])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    parser.add_argument("--verbose", action="store_true", help="name every mutant not killed")
    parser.add_argument("--min", type=float, default=0.9, help="exit 1 below this score")
    args = parser.parse_args()
    names = list(TARGETS) if args.module == "all" else [args.module]
    scores = [run(name, args.jobs, args.keep, args.verbose) for name in names]
    return 0 if all(s >= args.min for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
