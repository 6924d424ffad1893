#!/usr/bin/env bash
# Peer comparison of the backtester (see benchmarks/peers/README.md):
#   1. a separate venv benchmarks/peers/.venv with the peer engines (requirements.txt), so they
#      never enter btcbot's own environment or dependencies;
#   2. the workload's candles exported once by the PROJECT venv (btcbot.data.synthetic) to
#      benchmarks/peers/.venv/candles;
#   3. run_peers.py: btcbot's benchmark and each peer, interleaved -> benchmarks/peers/results.json.
# Usage (from anywhere): benchmarks/peers/run.sh [--rounds 3] [--peers backtesting,backtrader,nautilus]
# PYTHON=python3.11 chooses the interpreter of the peers' venv (default python3, >= 3.11).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PEERS_VENV=benchmarks/peers/.venv
if [ ! -x .venv/bin/python ]; then
  echo "the project venv .venv is missing: run ./run.sh (or install btcbot) first" >&2
  exit 2
fi
if ! "$PEERS_VENV/bin/python" -c "import backtesting, backtrader, nautilus_trader" 2>/dev/null; then
  "${PYTHON:-python3}" -m venv "$PEERS_VENV"
  "$PEERS_VENV/bin/pip" install -q --disable-pip-version-check -r benchmarks/peers/requirements.txt
fi
if [ ! -f "$PEERS_VENV/candles/meta.json" ]; then
  .venv/bin/python benchmarks/peers/export_candles.py "$PEERS_VENV/candles"
fi
exec "$PEERS_VENV/bin/python" benchmarks/peers/run_peers.py "$@"
