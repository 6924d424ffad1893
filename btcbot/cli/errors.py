"""Maps exceptions to exit codes and one-line messages. The only place that does so."""

from __future__ import annotations

import os
import sys

import click
from loguru import logger

from btcbot.cli.exit_codes import ExitCode
from btcbot.domain.errors import ConfigError, ExchangeError, LeaseHeld
from btcbot.observability.redaction import Redactor

#: Environment variables whose values are masked even before the settings are loaded (a failure
#: while loading them, or in a command that never loads them, must not print them either).
_SECRET_ENV = ("BTCBOT_AUTH__API_SECRET", "BTCBOT_AUTH__API_KEY")

#: Exception types (by module-qualified name, so nothing heavy is imported here) that mean the user
#: gave a bad value on the command line or in the settings -> one line naming it, exit 2.
_USAGE_ERRORS: dict[str, str] = {
    "sqlalchemy.exc.ArgumentError": "invalid database URL (BTCBOT_DATABASE__URL): ",
    "alembic.util.exc.CommandError": "db upgrade: ",  # --revision that does not exist
}


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
    base = redactor if isinstance(redactor, Redactor) else Redactor()
    return base.with_secrets(os.environ.get(name, "") for name in _SECRET_ENV)


def _logging_configured(ctx_obj: object) -> bool:
    """True once CliContext.load() replaced loguru's default handler with the redacting sink.
    loguru's default handler prints local variables in tracebacks (secrets included), so nothing
    may be logged with an exception before that."""
    return getattr(ctx_obj, "_loaded", None) is not None


def _qualname(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


def _one_line(text: str) -> str:
    """The first non-empty line (driver errors append hints and URLs on further lines)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _is_environmental(exc: BaseException) -> bool:
    """Failures of the world around the bot (files, network, database server), not bugs: the
    one-line message says everything, a traceback would only bury it."""
    if isinstance(exc, (OSError, ExchangeError)):
        return True
    return _qualname(exc) in {"sqlalchemy.exc.OperationalError", "sqlalchemy.exc.InterfaceError"}


def _broken_pipe() -> int:
    """stdout was closed by the reader (``btcbot status | head``): stop quietly. Point stdout at
    devnull so the interpreter's final flush does not raise a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # captured/replaced stdout (tests): nothing to fix
        pass
    return int(ExitCode.ERROR)


#: Commands a supervisor or cron runs: their error line follows the log format (issue 13). The
#: interactive commands (status, config check, ...) keep a plain line for the person typing them.
_LOGGED_COMMANDS = frozenset({"run", "once"})


def _say(holder: list[click.Context], text: str, code: ExitCode | int) -> None:
    """The one line before an error exit of ``run``/``once``: a JSON record when JSON logging is
    configured or asked for (``--log-format``, the environment, the env file); otherwise, and for
    every other command, ``btcbot: <text>`` on stderr. ``text`` is already redacted."""
    ctx = holder[0] if holder else None
    ctx_obj = ctx.obj if ctx is not None else None
    fmt: str | None = None
    if ctx is not None and ctx.invoked_subcommand in _LOGGED_COMMANDS:
        from btcbot.observability.logging import requested_format

        loaded = getattr(ctx_obj, "_loaded", None)
        if loaded is not None:
            fmt = loaded.settings.observability.log_format
        else:
            fmt = requested_format(getattr(ctx_obj, "log_format", None), getattr(ctx_obj, "env_file", None))
    if fmt == "json":
        from btcbot.observability.logging import log_exit

        log_exit(text, int(code), warning=int(code) == int(ExitCode.LEASE_HELD),
                 configured=getattr(ctx_obj, "_loaded", None) is not None)
    else:
        click.echo(f"btcbot: {text}", err=True)


def run_cli(group: click.Group, argv: list[str] | None) -> int:
    # ctx.obj (the CliContext with the settings' redactor) only exists once the group callback
    # ran inside invoke(), so read it at the moment of the error, not before.
    holder: list[click.Context] = []
    try:
        with group.make_context("btcbot", list(sys.argv[1:] if argv is None else argv)) as ctx:
            holder.append(ctx)
            group.invoke(ctx)
        return int(ExitCode.OK)
    except CommandExit as exc:
        return int(exc.code)
    except ConfigError as exc:
        ctx_obj = holder[0].obj if holder else None
        _say(holder, f"configuration error: {_redactor(ctx_obj)(str(exc))}", ExitCode.CONFIG)
        return int(ExitCode.CONFIG)
    except LeaseHeld as exc:
        _say(holder, str(exc), ExitCode.LEASE_HELD)
        return int(ExitCode.LEASE_HELD)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        ctx_obj = holder[0].obj if holder else None
        message = _redactor(ctx_obj)(exc.format_message())
        code = int(exc.exit_code) if exc.exit_code != 1 else int(ExitCode.CONFIG)
        _say(holder, message, code)
        return code
    except click.exceptions.Abort:
        click.echo("btcbot: aborted", err=True)
        return int(ExitCode.ERROR)
    except KeyboardInterrupt:
        # Every step boundary is a transaction: an interrupted command left consistent state.
        _say(holder, "interrupted", ExitCode.ERROR)
        return int(ExitCode.ERROR)
    except BrokenPipeError:
        return _broken_pipe()
    except Exception as exc:  # the last line of defence: one redacted line, exit 1 (2 for bad input)
        ctx_obj = holder[0].obj if holder else None
        redact = _redactor(ctx_obj)
        text = redact(_one_line(f"{type(exc).__name__}: {exc}"))
        if _qualname(exc) == "btcbot.app.runner.DatabaseUnavailable":  # `run` past database.outage_limit_s
            _say(holder, redact(_one_line(str(exc))), ExitCode.DATABASE_UNAVAILABLE)
            return int(ExitCode.DATABASE_UNAVAILABLE)
        if _qualname(exc) in _USAGE_ERRORS:
            _say(holder, f"{_USAGE_ERRORS[_qualname(exc)]}{redact(_one_line(str(exc)))}", ExitCode.CONFIG)
            return int(ExitCode.CONFIG)
        if _logging_configured(ctx_obj):
            # A bug keeps its traceback in the (redacting, no-locals) log; an environmental
            # failure gets it only at DEBUG.
            log = logger.bind(event="cli.unexpected_error", error=text)
            if _is_environmental(exc):
                log.error("command failed")
                log.opt(exception=exc).debug("command failed (traceback)")
            else:
                log.opt(exception=exc).error("unexpected error")
        label = "error" if _is_environmental(exc) else "unexpected error"
        _say(holder, f"{label}: {text}", ExitCode.ERROR)
        return int(ExitCode.ERROR)


def placeholder(name: str, help_text: str) -> click.Command:
    """A command that exists but is not available in this build: says so and exits 2."""

    @click.command(name, help=help_text + " (not available yet in this build)",
                   context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def command() -> None:
        raise NotAvailable(f"`btcbot {name}` is not available yet in this build")

    return command
