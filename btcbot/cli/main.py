"""The ``btcbot`` command: a click group whose subcommands are imported only when used.

Errors become exit codes here and nowhere else (see ``exit_codes``).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from btcbot.cli import gc_pause
from btcbot.cli.context import CliContext
from btcbot.cli.exit_codes import EXIT_CODES_HELP

#: command name -> "module:attribute". Imported lazily so `btcbot once` starts fast.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("btcbot.cli.commands.trading", "run_command"),
    "once": ("btcbot.cli.commands.trading", "once_command"),
    "reconcile": ("btcbot.cli.commands.trading", "reconcile_command"),
    "status": ("btcbot.cli.commands.trading", "status_command"),
    "halt": ("btcbot.cli.commands.trading", "halt_command"),
    "resume": ("btcbot.cli.commands.trading", "resume_command"),
    "replay": ("btcbot.cli.commands.trading", "replay_command"),
    "risk": ("btcbot.cli.commands.risk_admin", "risk_group"),
    "sim": ("btcbot.cli.commands.sim", "sim_command"),
    "db": ("btcbot.cli.commands.db", "db_group"),
    "config": ("btcbot.cli.commands.config", "config_group"),
    "backtest": ("btcbot.cli.commands.data", "backtest_command"),
    "download-data": ("btcbot.cli.commands.data", "download_data_command"),
    "optimize": ("btcbot.cli.commands.research", "optimize_command"),
}

SHORT_HELP: dict[str, str] = {
    "run": "Trade continuously at a fixed cadence (supervisord).",
    "once": "Run exactly one cycle, then exit (cron).",
    "reconcile": "Compare local state with the exchange; --apply repairs.",
    "status": "Equity, cash, positions, open orders, state, breakers.",
    "halt": "Stop trading (only cancels) until `btcbot resume`.",
    "resume": "Leave HALTED/REDUCING after a manual check.",
    "replay": "Re-run decide + risk for a recorded cycle and compare.",
    "risk": "Drawdown state; `risk rearm --reason` resets the high-water mark.",
    "sim": "Run the bundled BTC Turk-compatible simulator.",
    "db": "Database migrations (db upgrade).",
    "config": "Validate and print settings (config check).",
    "backtest": "Replay stored candles through the live code path.",
    "download-data": "Download candles from BTC Turk into the database.",
    "optimize": "Walk-forward parameter search (out-of-sample result).",
}


#: Commands that keep the garbage collector paused until they return (``gc_pause``): short, one
#: bounded unit of work, then exit. Every other command turns it back on once it is chosen.
GC_PAUSED_COMMANDS = frozenset({"once"})


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        if cmd_name not in GC_PAUSED_COMMANDS:
            gc_pause.resume()
        module = importlib.import_module(target[0])
        command = getattr(module, target[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _parse_override(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r}: expected NAME=VALUE, e.g. trading.dry_run=false")
    name = name.strip()
    if not name.upper().startswith("BTCBOT_"):
        name = "BTCBOT_" + "__".join(part.upper() for part in name.split("."))
    return name.upper(), value


@click.group(cls=LazyGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Settings file (default: ./.env when present).")
@click.option("--log-format", type=click.Choice(["json", "console"]), default=None, help="Log output format.")
@click.option("--log-level", type=click.Choice(["TRACE", "DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              default=None, help="Minimum log level.")
@click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a setting, e.g. --set trading.dry_run=false (highest precedence).")
@click.version_option(package_name="btcbot")
@click.pass_context
def cli(ctx: click.Context, env_file: Path | None, log_format: str | None, log_level: str | None,
        overrides: tuple[str, ...]) -> None:
    """btcbot: a synchronous, crash-safe spot-trading agent for BTC Turk (five TRY pairs)."""
    ctx.obj = CliContext(
        env_file=env_file,
        log_format=log_format,
        log_level=log_level,
        overrides=dict(_parse_override(o) for o in overrides),
    )


def main(argv: list[str] | None = None, *, exiting: bool = False) -> int:
    """Entry point: run the CLI and turn every outcome into one exit code. The garbage collector
    is paused while the command starts (``gc_pause``) and is as before when this returns.
    ``exiting``: the process exits right after (the console script): the heap is frozen first, so
    neither turning the collector back on nor the interpreter's shutdown walks it."""
    with gc_pause.paused():
        from btcbot.cli.errors import run_cli

        code = run_cli(cli, argv)
        if exiting:
            gc_pause.freeze_for_exit()
    return code


def console_main() -> Any:  # pragma: no cover - thin wrapper for the console script
    sys.exit(main(exiting=True))


if __name__ == "__main__":  # pragma: no cover
    console_main()
