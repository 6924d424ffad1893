"""Maps exceptions to exit codes and one-line messages. The only place that does so."""

from __future__ import annotations

import sys

import click
from loguru import logger

from btcbot.cli.exit_codes import ExitCode
from btcbot.domain.errors import ConfigError, LeaseHeld
from btcbot.observability.redaction import Redactor


class NotAvailable(click.ClickException):
    """A command that exists but is not built in this version."""

    exit_code = int(ExitCode.CONFIG)


class CommandExit(Exception):
    """Raised by a command to finish with a specific exit code (e.g. 3 for safe mode)."""

    def __init__(self, code: ExitCode) -> None:
        super().__init__(int(code))
        self.code = code


def _redactor(ctx_obj: object) -> Redactor:
    redactor = getattr(ctx_obj, "redactor", None)
    return redactor if isinstance(redactor, Redactor) else Redactor()


def run_cli(group: click.Group, argv: list[str] | None) -> int:
    ctx_obj = None
    try:
        with group.make_context("btcbot", list(sys.argv[1:] if argv is None else argv)) as ctx:
            ctx_obj = ctx.obj
            group.invoke(ctx)
        return int(ExitCode.OK)
    except CommandExit as exc:
        return int(exc.code)
    except ConfigError as exc:
        click.echo(f"btcbot: configuration error: {_redactor(ctx_obj)(str(exc))}", err=True)
        return int(ExitCode.CONFIG)
    except LeaseHeld as exc:
        click.echo(f"btcbot: {exc}", err=True)
        return int(ExitCode.LEASE_HELD)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        message = _redactor(ctx_obj)(exc.format_message())
        click.echo(f"btcbot: {message}", err=True)
        return int(exc.exit_code) if exc.exit_code != 1 else int(ExitCode.CONFIG)
    except click.exceptions.Abort:
        click.echo("btcbot: aborted", err=True)
        return int(ExitCode.ERROR)
    except KeyboardInterrupt:
        return int(ExitCode.ERROR)
    except Exception as exc:  # the last line of defence: log (redacted) and exit 1
        logger.opt(exception=exc).error("unexpected error", event="cli.unexpected_error")
        click.echo(f"btcbot: unexpected error: {_redactor(ctx_obj)(f'{type(exc).__name__}: {exc}')}", err=True)
        return int(ExitCode.ERROR)


def placeholder(name: str, help_text: str) -> click.Command:
    """A command that exists but is not available in this build: says so and exits 2."""

    @click.command(name, help=help_text + " (not available yet in this build)",
                   context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def command() -> None:
        raise NotAvailable(f"`btcbot {name}` is not available yet in this build")

    return command
