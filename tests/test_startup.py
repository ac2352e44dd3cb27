"""`rebalance --help` must not import the heavy libraries; the module runs as a real process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = {"pandas", "sklearn", "imblearn", "pyarrow", "PIL", "numpy", "scipy"}


@pytest.mark.parametrize(
    "args",
    [[], ["inspect"], ["resample"], ["weights"], ["evaluate"], ["advise"], ["adjust"]],
)
def test_help_imports_no_heavy_library(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from rebalance.cli import app\n"
        f"try:\n    app({[*args, '--help']!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted({sorted(HEAVY)!r} and set(m.split('.')[0] for m in sys.modules) & {HEAVY!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_python_dash_m_exit_codes_and_pipes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.csv"
    path.write_text("label\na\na\nb\n")
    ok = subprocess.run([sys.executable, "-m", "rebalance", "inspect", "-", "--json"],
                        input=path.read_bytes(), capture_output=True, check=False)  # fmt: skip
    assert ok.returncode == 0 and b'"imbalance_ratio": 2.0' in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "rebalance", "inspect", str(tmp_path / "no.csv")],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    usage = subprocess.run([sys.executable, "-m", "rebalance", "inspect", "--bogus"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert usage.returncode == 2


def test_public_api_is_callable_after_the_cli_ran() -> None:
    """Submodules must not shadow the lazy public functions of the package."""
    code = (
        "import rebalance, rebalance.cli, rebalance.resampling, rebalance.weights, rebalance.stats\n"
        "names = ['read_manifest', 'inspect', 'resample', 'resample_file', 'plan_targets', 'class_weights', "
        "'manifest_weights', 'with_sample_weights', 'evaluate', 'read_predictions', 'training_counts']\n"
        "print(all(callable(getattr(rebalance, n)) for n in names))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_no_color_and_pipes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.csv"
    path.write_text("label\n" + "a\n" * 30 + "b\n" * 3)
    env = {"NO_COLOR": "1", "FORCE_COLOR": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "100"}
    out = subprocess.run([sys.executable, "-m", "rebalance", "inspect", str(path)],
                         capture_output=True, text=True, env=env, check=False)  # fmt: skip
    assert out.returncode == 0 and "imbalance ratio" in out.stdout
    import re

    assert not re.search(
        r"\x1b\[(?:\d+;)*(?:3[0-8]|9[0-7])[;m]", out.stdout
    )  # styles, but no colour
    plain = subprocess.run([sys.executable, "-m", "rebalance", "inspect", str(path)],
                           capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, check=False)  # fmt: skip
    assert "\x1b[" not in plain.stdout  # not a terminal: no escape codes at all
    many = tmp_path / "many.csv"
    many.write_text("label\n" + "".join(f"c{i % 7}\n" for i in range(200_000)))
    piped = subprocess.run(
        f"{sys.executable} -m rebalance resample {many} -o - --target max | head -1",
        shell=True, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (
        piped.stdout == "label\n"
        and "Traceback" not in piped.stderr
        and "Error" not in piped.stderr
    )


def test_every_subpackage_is_installed() -> None:
    """`pip install .` (not editable) must ship every subpackage, e.g. rebalance.samplers."""
    import tomllib
    from pathlib import Path

    from setuptools import find_packages

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"][
        "find"
    ]
    shipped = set(find_packages(str(root), include=config["include"]))
    present = {
        str(p.parent.relative_to(root)).replace("/", ".")
        for p in (root / "rebalance").rglob("__init__.py")
    }
    assert present <= shipped


def test_random_resample_does_not_import_pandas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """pyarrow imports pandas on many conversions; these commands avoid them (~0.3 s)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"path": [f"{i}.png" for i in range(60)], "label": ["a"] * 50 + ["b"] * 10})
    pq.write_table(table, tmp_path / "m.parquet")
    (tmp_path / "m.csv").write_text("label,x\n" + "a,1\n" * 5 + "b,2\n" + ",3\n")
    (tmp_path / "s.csv").write_text("label,split\n" + "a,train\nb,train\na,val\n,val\n" * 3)
    (tmp_path / "sub").mkdir()
    for src, out, extra in (
        ("m.parquet", "o.parquet", ["--provenance"]),
        ("m.parquet", "o.csv", ["--target", "20"]),
        ("m.csv", "o.jsonl", []),
        ("m.csv", "o2.csv", ["--shuffle", "--target", "3"]),
        ("m.csv", "o3.csv", ["--dry-run", "--plan-json", "--target", "3"]),
        ("m.parquet", "sub/o4.parquet", ["--target", "20"]),  # its paths rewritten for sub/
        ("m.parquet", "inspect", ["--json"]),
        ("s.csv", "inspect", ["--split-col", "split", "--max-ratio", "100"]),
        ("s.csv", "weights", ["--split-col", "split", "--format", "torch"]),
    ):
        argv = ["resample", str(tmp_path / src), "-o", str(tmp_path / out), *extra]
        if out == "inspect":
            argv = ["inspect", str(tmp_path / src), *extra]
        elif out == "weights":
            argv = ["weights", str(tmp_path / src), *extra]
        code = (
            "import sys\nfrom rebalance.cli import main\n"
            f"sys.argv = ['rebalance', *{argv!r}]\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
            "print('pandas' in sys.modules)"
        )
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip().splitlines()[-1] == "False", (src, out, run.stderr)


def test_inspect_json_does_not_import_rich(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """JSON for machines needs no terminal renderer: rich costs about 0.1 s to import."""
    (tmp_path / "m.csv").write_text("label,split\n" + "a,train\nb,val\na,train\n" * 5)
    code = (
        "import sys, io, contextlib\n"
        "from rebalance.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        app(['inspect', {str(tmp_path / 'm.csv')!r}, '--json'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('rich', 'pandas', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_command_run_builds_that_command_only() -> None:
    """typer turns every command's options into parameters before parsing: a run of one
    command gets an app with that command alone; help, version, --config and unknown names
    get the whole app."""
    from rebalance.cli import app, app_for

    def names(a):  # type: ignore[no-untyped-def]
        return [c.name for c in a.registered_commands]

    assert names(app_for(["inspect", "m.csv", "--json"])) == ["inspect"]
    assert names(app_for(["--storage-option", "region=x", "resample", "m.csv"])) == ["resample"]
    assert names(app_for(["--storage-option=region=x", "weights", "m.csv"])) == ["weights"]
    for args in (
        [],
        ["--help"],
        ["--version"],
        ["inspct", "m.csv"],
        ["--config", "p.toml", "inspect", "m.csv"],
        ["--config=p.toml", "inspect", "m.csv"],
        ["--storage-option", "inspect"],  # a value, not a command: then no command
    ):
        assert app_for(args) is app, args


def test_one_command_apps_answer_as_the_whole_app(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "m.csv").write_text("label\n" + "a\nb\na\n" * 5)
    for args in (
        ["inspect", str(tmp_path / "m.csv"), "--json"],
        ["inspect", str(tmp_path / "m.csv"), "--bogus"],
        ["weights", str(tmp_path / "m.csv"), "--help"],
    ):
        runs = [
            subprocess.run(
                [sys.executable, "-c", f"import sys\nfrom rebalance.cli import main\nsys.argv = ['rebalance', *{args!r}]\nmain()"],
                capture_output=True, text=True, check=False,
            ),
            subprocess.run(
                [sys.executable, "-c", f"from rebalance.cli import app\napp({args!r}, prog_name='rebalance')"],
                capture_output=True, text=True, check=False,
            ),
        ]  # fmt: skip
        assert runs[0].returncode == runs[1].returncode
        assert runs[0].stdout == runs[1].stdout and runs[0].stderr == runs[1].stderr, args


def test_app_for_knows_every_root_option_that_takes_a_value() -> None:
    import typer.main

    from rebalance.cli import _ROOT_VALUES, app

    group = typer.main.get_command(app)
    taking = {
        opt
        for param in group.params
        if not getattr(param, "is_flag", False) and getattr(param, "opts", None)
        for opt in param.opts
        if opt.startswith("--") and opt not in ("--install-completion", "--show-completion")
    }
    assert taking == set(_ROOT_VALUES)


def test_command_annotations_are_objects_not_text() -> None:
    """typer compiles and evaluates text annotations when it builds the commands: 25 ms of
    every --help. The command modules therefore keep their annotations as objects."""
    from rebalance.cli import app

    assert len(app.registered_commands) >= 7
    for info in app.registered_commands:
        annotations = info.callback.__annotations__  # type: ignore[union-attr]
        texts = [k for k, a in annotations.items() if isinstance(a, str)]
        assert texts == [], (info.name, texts[:3])


@pytest.fixture
def same_typer() -> None:
    """The stored help is served only under the typer that rendered it (its version is in
    the hash); another typer release renders the help itself, so these tests do not apply."""
    import json

    import typer

    from rebalance import entry

    with open(entry.HELP_FILE, encoding="utf-8") as handle:
        rendered_with = json.load(handle)["typer"]
    if rendered_with != typer.__version__:
        pytest.skip(
            f"cli/help.json was rendered with typer {rendered_with}, this is {typer.__version__}: "
            "run python -m rebalance.cli.help_text"
        )


@pytest.mark.usefixtures("same_typer")
def test_stored_help_is_what_typer_prints_now() -> None:
    """`rebalance --help` is printed from cli/help.json without importing typer; the file
    must be what the generator writes from the code as it is (texts, sources, hash)."""
    from rebalance import entry

    code = "import sys\nfrom rebalance.cli import help_text\nsys.stdout.write(help_text.content())"
    now = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    with open(entry.HELP_FILE, "rb") as handle:
        stored = handle.read()
    assert stored == now, "the stored --help is stale: run python -m rebalance.cli.help_text"


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["resample", "--help"], ["sample", "-h"]])
@pytest.mark.usefixtures("same_typer")
def test_help_is_served_without_typer_and_equals_typers(args: list[str]) -> None:
    probe = (
        "import sys\nfrom rebalance.entry import main\n"
        f"sys.argv = ['rebalance', *{args!r}]\nmain()\n"
        "print(sorted(m for m in ('typer', 'rich', 'pyarrow') if m in sys.modules), file=sys.stderr)"
    )
    typer_run = "from rebalance.cli import main\nmain()"
    wide = {**os.environ, "COLUMNS": "120"}
    served = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=wide, check=True
    )
    rendered = subprocess.run([sys.executable, "-c", typer_run, *args], capture_output=True, text=True, env=wide, check=True)  # fmt: skip
    assert served.stderr.strip() == "[]"
    assert served.stdout == rendered.stdout and "Usage: rebalance" in served.stdout


def test_help_on_a_terminal_that_cannot_encode_it_is_typers() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "COLUMNS": "100"}
    run = subprocess.run([sys.executable, "-m", "rebalance", "inspect", "--help"],
                         capture_output=True, env=env, check=False)  # fmt: skip
    assert run.returncode == 0 and b"Usage: rebalance inspect" in run.stdout, run.stderr


@pytest.mark.usefixtures("same_typer")
def test_stored_help_only_where_it_is_certainly_typers(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    from rebalance import entry

    monkeypatch.setenv("COLUMNS", "100")
    assert entry.stored_help(["inspect", "--help"]) is not None
    for args in ([], ["--version"], ["inspect", "m.csv", "--help"], ["--config", "--help"],
                 ["inspct", "--help"], ["-h", "inspect"], ["inspect", "--json"], ["", "--help"]):  # fmt: skip
        assert entry.stored_help(args) is None, args
    monkeypatch.setenv("COLUMNS", "79")  # click wraps narrower terminals: typer renders
    assert entry.stored_help(["--help"]) is None
    monkeypatch.setenv("COLUMNS", "80")
    assert entry.stored_help(["--help"]) is not None
    stale = json.loads(open(entry.HELP_FILE, encoding="utf-8").read())
    stale["fingerprint"] += 1  # a source changed since the text was written
    (tmp_path / "help.json").write_text(json.dumps(stale))
    monkeypatch.setattr(entry, "HELP_FILE", str(tmp_path / "help.json"))
    assert entry.stored_help(["--help"]) is None
    (tmp_path / "help.json").write_text("{not json")
    assert entry.stored_help(["--help"]) is None
