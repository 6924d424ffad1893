#!/usr/bin/env bash
# btcbot bootstrap and dispatcher.
#   ./run.sh demo            the bot trading against the bundled simulator (offline)
#   ./run.sh test [ARGS]     the test suite (pytest ARGS)
#   ./run.sh lint            ruff + import layers + mypy (package and tests)
#   ./run.sh <btcbot args>   anything else goes to the btcbot command (e.g. ./run.sh run)
# First use creates .venv and installs the package; later runs skip the install unless
# setup.cfg/pyproject.toml changed. Needs only python3 (>= 3.11).
set -euo pipefail
# The checkout's location; btcbot commands run in the caller's directory, so relative paths
# (--env-file, ./.env, sqlite:///btcbot.db, --out) mean what the user expects.
ROOT=$(cd "$(dirname "$0")" && pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3}

need_python() {
  if ! command -v "$PY" >/dev/null 2>&1; then
    echo "run.sh: python3 not found; install Python 3.11 or newer" >&2; exit 2
  fi
  if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "run.sh: Python >= 3.11 required, found $("$PY" -V 2>&1)" >&2; exit 2
  fi
}

FULL_EXTRAS="test,lint,postgres,otel,charts,dask"

config_hash() {
  cat "$ROOT/setup.cfg" "$ROOT/pyproject.toml" | "$PY" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])'
}

# ensure_env EXTRAS: install the package (editable) with EXTRAS unless an install of the same
# setup.cfg/pyproject.toml with these extras (or the full set) is already there.
ensure_env() {
  local extras=$1 hash candidate
  if [ "${BTCBOT_SKIP_INSTALL:-0}" = "1" ] && [ -x "$VENV/bin/python" ]; then return 0; fi
  need_python
  hash=$(config_hash)
  for candidate in "$extras" "$FULL_EXTRAS"; do
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.installed-$candidate" 2>/dev/null)" = "$hash" ]; then
      return 0
    fi
  done
  if [ ! -x "$VENV/bin/python" ]; then
    echo "run.sh: creating $VENV" >&2
    "$PY" -m venv "$VENV"
  fi
  echo "run.sh: installing btcbot[$extras] into $VENV (first run or dependencies changed)" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[$extras]" >&2
  echo "$hash" > "$VENV/.installed-$extras"
}

btcbot() { "$VENV/bin/btcbot" "$@"; }

cmd=${1:-help}
case "$cmd" in
  test)
    shift
    ensure_env "$FULL_EXTRAS"
    cd "$ROOT"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  lint)
    shift
    ensure_env "$FULL_EXTRAS"
    cd "$ROOT"
    "$VENV/bin/python" -m ruff check btcbot tests benchmarks
    "$VENV/bin/lint-imports" --no-logo --no-cache  # layer contracts in setup.cfg (docs/architecture.md)
    exec "$VENV/bin/python" -m mypy btcbot tests
    ;;
  demo)
    shift
    ensure_env "$FULL_EXTRAS"
    exec "$VENV/bin/python" -m btcbot.demo "$@"
    ;;
  help|-h|--help)
    ensure_env "postgres"
    echo "run.sh commands: demo | test [pytest args] | lint | <btcbot command> (see below)"
    exec "$VENV/bin/btcbot" --help
    ;;
  *)
    ensure_env "postgres"
    # No migration here (it cost ~0.8 s CPU per cron run): btcbot checks the schema with one
    # query and refuses an outdated one (run `./run.sh db upgrade` after an upgrade). On first
    # use (no database file, or an empty one) run/once/status/reconcile create and migrate it:
    # BTCBOT_CREATE_DB=1 allows exactly that and nothing else.
    export BTCBOT_CREATE_DB=1
    exec "$VENV/bin/btcbot" "$@"
    ;;
esac
