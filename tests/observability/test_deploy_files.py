"""Static checks of deploy/: the supervisor, systemd, cron and logrotate files say what the docs promise."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def unit_entries(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) of a systemd unit; keys may repeat, so no configparser."""
    section, out = "", []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.append((section, key.strip(), value.strip()))
    return out


def test_supervisord_program() -> None:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(DEPLOY / "supervisord.conf")
    p = cp["program:btcbot"]
    assert p["command"] == "/opt/btcbot/run.sh run"
    assert p["directory"] == "/opt/btcbot"
    assert p["stopsignal"] == "TERM"
    assert int(p["stopwaitsecs"]) >= 180
    assert p["autorestart"] in ("true", "unexpected")
    assert "2" in p["exitcodes"].split(",")  # a configuration error is not restarted in a loop
    assert p["stdout_logfile"].startswith("/var/log/btcbot/")
    assert int(p["stdout_logfile_backups"]) > 0 and p["stdout_logfile_maxbytes"].endswith("MB")


def test_systemd_unit_restart_stop_and_sandbox() -> None:
    entries = unit_entries((DEPLOY / "btcbot.service").read_text())
    service = {k: v for s, k, v in entries if s == "Service"}
    assert service["ExecStart"] == "/opt/btcbot/run.sh run"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= 180
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert "/opt/btcbot" in [v for s, k, v in entries if k == "ReadWritePaths"]
    assert service["RestartPreventExitStatus"] == "2"
    assert ("Install", "WantedBy", "multi-user.target") in entries


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_unit_has_no_unknown_keys(tmp_path: Path) -> None:
    text = (DEPLOY / "btcbot.service").read_text()
    # verify checks that ExecStart exists and the user resolves; point both at things that do.
    text = text.replace("/opt/btcbot/run.sh", "/bin/true").replace("=btcbot\n", "=root\n")
    unit = tmp_path / "btcbot.service"
    unit.write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert "Unknown key" not in result.stderr and "Unknown section" not in result.stderr, result.stderr


def test_crontab_runs_once_every_minute() -> None:
    jobs = [
        line
        for line in (DEPLOY / "crontab").read_text().splitlines()
        if line and not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)
    ]
    assert len(jobs) == 1
    fields = jobs[0].split(None, 5)
    assert fields[:5] == ["*"] * 5
    assert fields[5].startswith("cd /opt/btcbot && ./run.sh once")
    assert "75" in (DEPLOY / "crontab").read_text()


def test_logrotate_covers_the_cron_log() -> None:
    text = (DEPLOY / "logrotate.conf").read_text()
    assert "/var/log/btcbot/cron.log {" in text
    assert re.search(r"^\s+rotate \d+$", text, re.M)
    assert text.count("{") == text.count("}")
