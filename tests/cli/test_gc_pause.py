"""The garbage collector around CLI commands (btcbot.cli.gc_pause): paused while a command
starts, kept paused for ``once`` (one cycle, then exit), back on for every other command as soon
as it is chosen, and always as before once ``main`` returns."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import click
import pytest

import btcbot.cli.commands.trading as trading
from btcbot.cli import gc_pause
from btcbot.cli.main import GC_PAUSED_COMMANDS, main


@pytest.fixture(autouse=True)
def _gc_enabled_after() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc_pause.resume()
    if was:
        gc.enable()


def test_paused_turns_collection_off_and_back_on() -> None:
    gc.enable()
    with gc_pause.paused():
        assert not gc.isenabled() and gc_pause.is_paused()
    assert gc.isenabled() and not gc_pause.is_paused()


def test_resume_inside_turns_it_on_once_and_the_block_end_keeps_it_on() -> None:
    gc.enable()
    with gc_pause.paused():
        gc_pause.resume()
        assert gc.isenabled()
        gc_pause.resume()  # no-op
        assert gc.isenabled()
    assert gc.isenabled()


def test_collector_switched_off_by_someone_else_stays_off() -> None:
    gc.disable()
    with gc_pause.paused():
        assert not gc.isenabled()
        gc_pause.resume()  # not ours to turn on
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_nested_pause_is_resumed_by_the_outer_block_only() -> None:
    gc.enable()
    with gc_pause.paused():
        with gc_pause.paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collector_back_on_after_an_exception() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), gc_pause.paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def _recording(name: str, seen: dict[str, bool]) -> click.Command:
    @click.command(name)
    def command() -> None:
        seen[name] = gc.isenabled()

    return command


def test_main_keeps_it_paused_for_once_only_and_restores_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, bool] = {}
    monkeypatch.setattr(trading, "once_command", _recording("once", seen))
    monkeypatch.setattr(trading, "halt_command", _recording("halt", seen))
    gc.enable()
    assert main(["once"]) == 0
    assert gc.isenabled()
    assert main(["halt"]) == 0
    assert gc.isenabled()
    assert seen == {"once": False, "halt": True}
    assert set(GC_PAUSED_COMMANDS) == {"once"}


def test_main_leaves_a_disabled_collector_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, bool] = {}
    monkeypatch.setattr(trading, "halt_command", _recording("halt", seen))
    gc.disable()
    assert main(["halt"]) == 0
    assert seen == {"halt": False} and not gc.isenabled()
