"""The README's "Paper, then live, against the simulator" section works exactly as written.

The fenced ``bash`` blocks marked ``<!-- test: NAME -->`` in README.md are extracted and run, in
order, as one bash script in an empty temporary directory (a user pastes them into one terminal
in the checkout). Only two things are substituted, both of them places, not behaviour:

* ``./run.sh`` becomes this checkout's ``run.sh`` (the temporary directory is not a checkout;
  ``run.sh`` runs btcbot in the caller's directory, so every file lands in the temp dir), with
  ``BTCBOT_SKIP_INSTALL=1`` so the test never runs pip;
* ``--port 8088`` becomes ``--port 0``: the README uses the simulator's fixed default port, the
  test lets the OS pick a free one (the simulator writes the real URL into the env file).

Between the blocks the test adds observation steps only: a marker line in the output and a
snapshot of the simulator's request counters (``GET /__sim/counters``) and state. It asserts
that the paper bot ran its cycles with public market data from the simulator and not one private
call, and that the live bot placed orders on the simulator that the simulator filled.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
#: The walk-through's blocks, in the order the README gives them.
BLOCKS = ("sim-start", "paper-path", "live-path", "sim-stop")
README_PORT = "--port 8088"
#: Typically 35-50 s on the 2 shared cores here (three 3 s cycles per bot); generous for a loaded CI.
TIMEOUT_S = 150

SNAPSHOT = r"""
import json, sys, urllib.request
env = dict(line.split("=", 1) for line in open("sim.env").read().splitlines() if line and not line.startswith("#"))
url = env["BTCBOT_EXCHANGE__BASE_URL"].rstrip("/")
out = {name: json.load(urllib.request.urlopen(f"{url}/__sim/{name}", timeout=10)) for name in ("counters", "state")}
json.dump(out, open(sys.argv[1], "w"))
"""


def readme_blocks() -> dict[str, str]:
    """``name -> commands`` of every ``<!-- test: name -->`` bash block of the README."""
    found = re.findall(r"<!-- test: ([\w-]+) -->\n```bash\n(.*?)```", README, flags=re.S)
    return dict(found)


def test_the_readme_marks_the_walkthrough_blocks_in_order() -> None:
    blocks = readme_blocks()
    assert tuple(blocks) == BLOCKS
    assert README_PORT in blocks["sim-start"]  # the one substitution below must apply
    # the blocks sit in the README section that promises they work as written
    section = README.split("## Paper, then live, against the simulator", 1)[1].split("\n## ", 1)[0]
    assert all(f"<!-- test: {name} -->" in section for name in BLOCKS)


def build_script(blocks: dict[str, str], python: str) -> str:
    """The README blocks as one bash script, with the place substitutions and observation steps."""
    parts = ["set -eo pipefail"]
    for name in BLOCKS:
        body = blocks[name].replace("./run.sh", str(ROOT / "run.sh")).replace(README_PORT, "--port 0")
        parts.append(f"echo '=== {name} ==='")
        parts.append(body)
        if name in ("paper-path", "live-path"):
            parts.append(f"{python} snapshot.py after-{name}.json")
    parts.append('wait "$SIM_PID"  # the simulator stops cleanly (exit 0) on the README\'s kill')
    return "\n".join(parts) + "\n"


@pytest.mark.timeout(TIMEOUT_S + 20)
def test_the_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "snapshot.py").write_text(SNAPSHOT)
    script = build_script(readme_blocks(), sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    env["BTCBOT_SKIP_INSTALL"] = "1"
    proc = subprocess.Popen(
        ["bash", "-c", script], cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:  # never leave the simulator or a bot behind, whatever happened
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    if timed_out:
        out, _ = proc.communicate()
        pytest.fail(f"the README walk-through did not finish in {TIMEOUT_S} s; its output:\n{out}")
    assert proc.returncode == 0, out
    assert "Unauthorized" not in out and "Traceback" not in out, out
    sections = dict(re.findall(r"^=== ([\w-]+) ===\n(.*?)(?=^=== |\Z)", out, flags=re.S | re.M))

    # 1. the simulator wrote usable settings, readable by its owner only
    sim_env = tmp_path / "sim.env"
    assert stat.S_IMODE(sim_env.stat().st_mode) == 0o600
    settings = dict(line.split("=", 1) for line in sim_env.read_text().splitlines()
                    if line and not line.startswith("#"))
    assert set(settings) == {"BTCBOT_EXCHANGE__BASE_URL", "BTCBOT_EXCHANGE__GRAPH_URL",
                             "BTCBOT_AUTH__API_KEY", "BTCBOT_AUTH__API_SECRET"}
    assert settings["BTCBOT_EXCHANGE__BASE_URL"] == settings["BTCBOT_EXCHANGE__GRAPH_URL"]
    assert base64.b64decode(settings["BTCBOT_AUTH__API_SECRET"], validate=True)

    # 2. the paper bot ran its cycles on the simulator's market data without one private call
    paper = sections["paper-path"]
    assert all(f"cycle {n}:" in paper for n in (1, 2, 3)), paper
    assert re.search(r"^mode\s+paper$", paper, flags=re.M), paper
    after_paper = json.loads((tmp_path / "after-paper-path.json").read_text())["counters"]
    assert after_paper["private_requests"] == 0, after_paper
    assert after_paper["by_route"].get("GET /api/v2/ticker", 0) >= 3, after_paper

    # 3. the live bot placed orders on the simulator, which filled them, and status shows it
    live = sections["live-path"]
    assert all(f"cycle {n}:" in live for n in (1, 2, 3)), live
    assert re.search(r"^mode\s+live$", live, flags=re.M), live
    after_live = json.loads((tmp_path / "after-live-path.json").read_text())
    counters = after_live["counters"]
    assert counters["private_requests"] > 0
    assert counters["by_route"].get("POST /api/v1/order", 0) >= 1, counters
    assert "sent 0;" not in live.split("cycle 1:", 1)[1].splitlines()[0], live  # cycle 1 sent orders
    assert "recent orders" in live and "FILLED" in live, live
    trades = after_live["state"]["trades"]
    assert trades and all(t["client_id"].startswith("bb-") for t in trades), trades  # the bot's orders filled
    assert (tmp_path / "paper.db").exists() and (tmp_path / "live.db").exists()


@pytest.mark.timeout(60)
def test_sim_print_env_prints_only_settings_on_stdout(tmp_path: Path) -> None:
    """``btcbot sim --print-env``: stdout is a usable env file (the other messages go to stderr)."""
    code = "import sys; from btcbot.cli.main import main; sys.exit(main())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BTCBOT_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "sim", "--port", "0", "--print-env"], cwd=tmp_path, env=env,
        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # the settings come once the server listens
            lines.append(line.rstrip("\n"))
            if line.startswith("BTCBOT_AUTH__API_SECRET="):
                break
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    settings = [line for line in lines if not line.startswith("#")]
    assert [line.split("=", 1)[0] for line in settings] == [
        "BTCBOT_EXCHANGE__BASE_URL", "BTCBOT_EXCHANGE__GRAPH_URL", "BTCBOT_AUTH__API_KEY", "BTCBOT_AUTH__API_SECRET"]
    url = settings[0].split("=", 1)[1]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url) and not url.endswith(":0")
    assert f"btcbot sim listening on {url}" in err and "btcbot sim stopped" in err
    assert list(tmp_path.iterdir()) == []  # --print-env writes no file
