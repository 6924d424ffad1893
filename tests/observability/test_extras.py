"""What is configured is installed (issue 13, item 5): an OTLP endpoint without the ``otel`` extra is
a configuration error (exit 2) in ``config check`` and at the start of ``run``/``once``, and the
message carries the exact command that installs the extra into this interpreter.

The missing packages are simulated two ways: in-process (``find_spec`` answers None for them) and
in a real subprocess whose ``sitecustomize`` blocks every ``opentelemetry.sdk`` /
``opentelemetry.exporter`` import, as on a ``./run.sh`` install that has only the postgres extra.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from btcbot.cli.main import main
from btcbot.domain.errors import ConfigError
from btcbot.observability import extras

REPO_ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = "http://127.0.0.1:4318"
#: Same effect as an environment without the otel extra: the SDK and the exporter are not importable.
BLOCKER = '''
import importlib.abc, sys

class _NoOtelExtra(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith(("opentelemetry.sdk", "opentelemetry.exporter")):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoOtelExtra())
'''


def expected_command() -> str:
    return f"{shlex.quote(sys.executable)} -m pip install -e {shlex.quote(f'{REPO_ROOT}[otel]')}"


@pytest.fixture
def no_otel(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        if name.startswith(("opentelemetry.sdk", "opentelemetry.exporter")):
            return None
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_the_install_command_targets_this_interpreter_and_checkout() -> None:
    assert extras.install_command() == expected_command()


def test_nothing_is_required_without_an_endpoint(no_otel: None) -> None:
    extras.require_tracing_packages(None)
    extras.require_tracing_packages("")


def test_an_endpoint_with_the_extra_present_passes() -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    assert extras.missing_otel_packages() == []
    extras.require_tracing_packages(ENDPOINT)


def test_an_endpoint_without_the_extra_names_both_packages_and_the_command(no_otel: None) -> None:
    assert extras.missing_otel_packages() == ["opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"]
    with pytest.raises(ConfigError) as info:
        extras.require_tracing_packages(ENDPOINT)
    text = str(info.value)
    assert "observability.otel_exporter_endpoint is set" in text
    assert "opentelemetry-sdk, opentelemetry-exporter-otlp-proto-http are not installed" in text
    assert expected_command() in text


def test_config_check_exits_2_in_process(
    no_otel: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_cwd: Path
) -> None:
    monkeypatch.setenv("BTCBOT_OBSERVABILITY__OTEL_EXPORTER_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("BTCBOT_OBSERVABILITY__LOG_FORMAT", "console")
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("btcbot: configuration error: observability.otel_exporter_endpoint is set")
    assert expected_command() in err


def run_blocked(args: list[str], tmp_path: Path, endpoint: str | None) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env.update({"PYTHONPATH": os.pathsep.join([str(site), str(REPO_ROOT)]),
                "BTCBOT_OBSERVABILITY__LOG_FORMAT": "console",
                "BTCBOT_DATABASE__URL": f"sqlite:///{tmp_path / 'bot.db'}"})
    if endpoint is not None:
        env["BTCBOT_OBSERVABILITY__OTEL_EXPORTER_ENDPOINT"] = endpoint
    return subprocess.run([sys.executable, "-m", "btcbot.cli.main", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("args", [["config", "check"], ["once"], ["run", "--max-cycles", "1"]])
def test_without_the_extra_config_check_once_and_run_exit_2_with_the_command(tmp_path: Path, args: list[str]) -> None:
    done = run_blocked(args, tmp_path, ENDPOINT)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("btcbot: configuration error: observability.otel_exporter_endpoint is set")
    assert expected_command() in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "bot.db").exists()  # refused before the database or the lease was touched


def test_the_blocker_blocks_only_the_extra(tmp_path: Path) -> None:
    """Control: the same blocked interpreter passes `config check` when no endpoint is set, so the
    exit 2 above comes from the endpoint check and not from a broken environment."""
    done = run_blocked(["config", "check"], tmp_path, None)
    assert done.returncode == 0, done.stderr
    assert "settings OK" in done.stdout
