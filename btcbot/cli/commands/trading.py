"""Trading commands. Placeholders until the trading cycle lands: they say so and exit 2."""

from __future__ import annotations

import click

from btcbot.cli.errors import NotAvailable


def _placeholder(name: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text + " (not available yet in this build)",
                   context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def command() -> None:
        raise NotAvailable(f"`btcbot {name}` is not available yet in this build")

    return command


run_command = _placeholder("run", "Trade continuously at a fixed cadence.")
once_command = _placeholder("once", "Run exactly one cycle, then exit.")
reconcile_command = _placeholder("reconcile", "Compare local state with the exchange.")
status_command = _placeholder("status", "Show equity, positions, orders and state.")
halt_command = _placeholder("halt", "Halt trading.")
resume_command = _placeholder("resume", "Resume trading.")
replay_command = _placeholder("replay", "Replay a recorded cycle.")
