"""The typer app: its group (one-line errors, exit codes) and the root options."""

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from rebalance._version import __version__
from rebalance.errors import RebalanceError, RebalanceWarning
from rebalance.text import printable


class _Group(TyperGroup):
    """The one seam where failures become one line on stderr.

    A :class:`RebalanceError` (bad input) and a usage error (unknown flag, bad value)
    both print ``rebalance: error: ...`` and exit 2; a :class:`RebalanceWarning`
    prints one ``rebalance: warning: ...`` line. Control characters from user data
    are shown escaped.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        import warnings

        standalone = kwargs.pop("standalone_mode", True)
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning  # type: ignore[assignment]
            try:
                code = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
            except typer.Abort:
                typer.echo("rebalance: aborted", err=True)
                code = 1
            except Exception as exc:
                if not _is_usage_error(exc):
                    raise
                if type(exc).__name__ == "NoArgsIsHelpError":  # bare `rebalance`: the help
                    typer.echo(exc.format_message(), err=True)  # type: ignore[attr-defined]
                    return _exit(2, standalone)
                typer.echo(f"rebalance: error: {_usage_line(exc)}", err=True)
                code = 2
        return _exit(code if isinstance(code, int) else 0, standalone)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RebalanceError as exc:
            typer.echo(f"rebalance: error: {printable(str(exc))}", err=True)
            raise typer.Exit(2) from None


class PanelCommand(TyperCommand):
    """A command whose --help lists its options in panels (plain text, no rich: ``--help``
    stays fast), in the order of the panels' first options."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments: list[tuple[str, str]] = []
        panels: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append(record)
            else:
                panel = getattr(param, "rich_help_panel", None) or "Options"
                panels.setdefault(panel, []).append(record)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        for panel, records in panels.items():
            with formatter.section(panel):
                formatter.write_dl(records)


def _exit(code: int, standalone: bool) -> int:
    if standalone:
        sys.exit(code)
    return code


def _is_usage_error(exc: BaseException) -> bool:
    # typer vendors click and exports none of its exception classes but BadParameter:
    # the usage errors are the exceptions that carry an exit code and a formatted message
    return hasattr(exc, "exit_code") and hasattr(exc, "format_message") and hasattr(exc, "show")


def _usage_line(exc: Any) -> str:
    """A usage error as one line, with the hint to the command's --help."""
    text = " ".join(str(exc.format_message()).split())
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "rebalance"
    return printable(f"{text} (see '{path} --help')")


def _show_warning(message: Any, category: Any, filename: Any, lineno: Any, *rest: Any) -> None:
    if issubclass(category, RebalanceWarning):
        typer.echo(f"rebalance: warning: {printable(str(message))}", err=True)
    else:
        typer.echo(f"rebalance: warning: {printable(str(message))} ({category.__name__})", err=True)


app = typer.Typer(
    cls=_Group,
    name="rebalance",
    help="Fix class imbalance in ML datasets: inspect, resample, weights, evaluate.",
    no_args_is_help=True,
    # help texts hold literal brackets ([resample], recall[fraud]): no rich markup
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rebalance {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            help="TOML preset whose [inspect]/[resample]/[weights]/[evaluate] tables set defaults; "
            "flags given here win.",
        ),
    ] = None,
    storage_option: Annotated[
        list[str] | None,
        typer.Option(
            "--storage-option",
            help="KEY=VALUE for s3:// URLs (endpoint_url, region, access_key, secret_key, "
            "session_token, anonymous); repeatable.",
        ),
    ] = None,
) -> None:
    """Fix class imbalance in ML datasets.

    Exit status: 0 ok, 1 a gate failed, 2 bad usage or bad input.
    """
    from rebalance.storage import set_options

    try:
        set_options(storage_option or [])
    except RebalanceError as exc:
        typer.echo(f"rebalance: error: {printable(str(exc))}", err=True)
        raise typer.Exit(2) from None
    if config is None:
        return
    from rebalance.config import check_preset, load_preset

    try:
        preset = load_preset(config)
        commands = getattr(ctx.command, "commands", {})
        # a key is an option's name (format, max_ratio) or its parameter's (output_format)
        keys: dict[str, dict[str, str]] = {}
        for name, cmd in commands.items():
            keys[name] = {}
            for param in cmd.params:
                if not param.name:
                    continue
                keys[name][param.name] = param.name
                for opt in getattr(param, "opts", []):
                    if opt.startswith("--"):
                        keys[name].setdefault(opt[2:].replace("-", "_"), param.name)
        check_preset(config, preset, {name: list(k) for name, k in keys.items()})
    except RebalanceError as exc:
        typer.echo(f"rebalance: error: {printable(str(exc))}", err=True)
        raise typer.Exit(2) from None
    ctx.default_map = {
        command: {keys[command][key]: value for key, value in table.items()}
        for command, table in preset.items()
    }
