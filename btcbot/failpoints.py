"""Named failpoints at the trading cycle's step boundaries, for crash-safety tests.

Inert unless enabled. ``BTCBOT_FAILPOINTS`` is read ONCE at startup by ``Failpoints.from_env``
into an immutable value that is passed to whoever calls ``fp.hit(NAME)``; nothing reads the
environment on every call and nothing is global.

    BTCBOT_FAILPOINTS=before_post                      # kill the process there
    BTCBOT_FAILPOINTS=after_post_before_commit=raise   # raise FailpointTriggered (in-process tests)
    BTCBOT_FAILPOINTS=after_intent_commit=kill,mid_reconcile=raise

Actions:
- ``kill`` (default): SIGKILL to ourselves - no ``finally``, no atexit, no flush, no rollback.
  That is what a power cut or OOM kill looks like, which is what recovery must survive.
- ``raise``: raise ``FailpointTriggered`` (a BaseException, so ``except Exception`` handlers in
  the cycle do not swallow it; it unwinds like a crash, but in-process).

An unknown name (in the variable or passed to ``hit``) is a ConfigError / ValueError naming it,
so a typo never silently disables a crash test.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from btcbot.domain.errors import ConfigError

ENV_VAR = "BTCBOT_FAILPOINTS"

#: after the order row + outbox row for an intent are committed, before anything is sent
AFTER_INTENT_COMMIT = "after_intent_commit"
#: after the order is marked SUBMITTING (committed), right before the POST
BEFORE_POST = "before_post"
#: the POST returned (ack or rejection) but its outcome is not committed yet
AFTER_POST_BEFORE_COMMIT = "after_post_before_commit"
#: in the middle of applying a batch of fills (some committed, some not)
MID_FILL_APPLICATION = "mid_fill_application"
#: in the middle of executing reconciliation corrections
MID_RECONCILE = "mid_reconcile"
#: a cancel request was accepted by the exchange, CANCEL_REQUESTED not committed yet
AFTER_CANCEL_REQUEST = "after_cancel_request"
#: everything of the cycle is done except the checkpoint
BEFORE_CHECKPOINT = "before_checkpoint"
#: the checkpoint (cycle record, snapshot) is committed
AFTER_CHECKPOINT = "after_checkpoint"

ALL_FAILPOINTS: frozenset[str] = frozenset(
    {
        AFTER_INTENT_COMMIT,
        BEFORE_POST,
        AFTER_POST_BEFORE_COMMIT,
        MID_FILL_APPLICATION,
        MID_RECONCILE,
        AFTER_CANCEL_REQUEST,
        BEFORE_CHECKPOINT,
        AFTER_CHECKPOINT,
    }
)


class FailpointAction(StrEnum):
    KILL = "kill"
    RAISE = "raise"


class FailpointTriggered(BaseException):
    """An enabled failpoint with action ``raise`` was hit. Only ever seen in tests.

    Derives from BaseException on purpose: it must unwind through the cycle like a crash, not be
    mapped to an error-policy action by an ``except Exception`` handler.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"failpoint {name!r} triggered")
        self.name = name


def _kill_self() -> None:
    """Die now, without cleanup. SIGKILL where it exists, else ``os._exit(137)`` (128 + 9)."""
    sigkill = getattr(signal, "SIGKILL", None)
    if sigkill is not None:
        os.kill(os.getpid(), sigkill)
    os._exit(137)  # only reached where SIGKILL does not exist


@dataclass(frozen=True, slots=True)
class Failpoints:
    """The enabled failpoints, as sorted ``(name, action)`` pairs (immutable)."""

    enabled: tuple[tuple[str, FailpointAction], ...] = ()

    @classmethod
    def none(cls) -> Failpoints:
        """No failpoint enabled: ``hit`` does nothing (production)."""
        return cls()

    @classmethod
    def parse(cls, text: str) -> Failpoints:
        """Parse ``name[=action][,name[=action]...]``. Raises ConfigError naming a bad entry."""
        actions: dict[str, FailpointAction] = {}
        for raw in text.split(","):
            entry = raw.strip()
            if not entry:
                continue
            name, sep, action_text = entry.partition("=")
            name = name.strip().lower()
            if name not in ALL_FAILPOINTS:
                raise ConfigError(
                    f"{ENV_VAR}: unknown failpoint {name!r}; known: {', '.join(sorted(ALL_FAILPOINTS))}"
                )
            action_text = action_text.strip().lower() if sep else FailpointAction.KILL.value
            try:
                action = FailpointAction(action_text)
            except ValueError:
                raise ConfigError(
                    f"{ENV_VAR}: unknown action {action_text!r} for failpoint {name!r}; use kill or raise"
                ) from None
            if name in actions and actions[name] is not action:
                raise ConfigError(f"{ENV_VAR}: failpoint {name!r} given twice with different actions")
            actions[name] = action
        return cls(tuple(sorted(actions.items())))

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Failpoints:
        """Read ``BTCBOT_FAILPOINTS`` from ``environ`` (pass ``os.environ`` at startup)."""
        return cls.parse(environ.get(ENV_VAR, ""))

    @property
    def active(self) -> bool:
        return bool(self.enabled)

    def action_for(self, name: str) -> FailpointAction | None:
        for enabled_name, action in self.enabled:
            if enabled_name == name:
                return action
        return None

    def hit(self, name: str) -> None:
        """Trigger ``name`` if enabled; otherwise do nothing. Unknown names are a ValueError."""
        if name not in ALL_FAILPOINTS:
            raise ValueError(f"unknown failpoint {name!r}")
        action = self.action_for(name)
        if action is FailpointAction.KILL:
            _kill_self()
        elif action is FailpointAction.RAISE:
            raise FailpointTriggered(name)
