#!/usr/bin/env bash
# Exports the `otlp` example's workflow to a real Arize Phoenix over OTLP/HTTP (protobuf) and
# checks what Phoenix stored: every span, with the right parents, names and token counts.
#
#   bash .ci/phoenix.sh
#
# PHOENIX_VENV=<dir> reuses (or creates) a venv there instead of a throwaway one.
# Needs python3 (with venv) and network access to PyPI for `pip install arize-phoenix`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-phoenix.XXXXXX")
PHX_PID=""

cleanup() {
    if [[ -n "$PHX_PID" ]] && kill -0 "$PHX_PID" 2>/dev/null; then
        kill "$PHX_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$PHX_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$PHX_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

say() { echo "phoenix.sh: $*"; }
fail() {
    echo "phoenix.sh: FAILED: $*" >&2
    if [[ -f "$WORK/phoenix.log" ]]; then
        echo "--- last lines of the Phoenix log ---" >&2
        tail -n 40 "$WORK/phoenix.log" >&2
    fi
    exit 1
}
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The check itself must be able to fail: it rejects no spans, a missing span or trace, a wrong
# parent (synthetic data, no Phoenix needed).
python3 "$ROOT/.ci/phoenix_check.py" --self-test || fail "phoenix_check.py accepts a wrong result"

VENV=${PHOENIX_VENV:-$WORK/venv}
if [[ ! -x "$VENV/bin/phoenix" ]]; then
    say "installing arize-phoenix into $VENV (this takes a few minutes)"
    python3 -m venv "$VENV" || fail "could not create a venv (is python3-venv installed?)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check arize-phoenix \
        || fail "pip install arize-phoenix failed"
fi
say "arize-phoenix $("$VENV/bin/pip" show arize-phoenix 2>/dev/null | sed -n "s/^Version: //p")"

PORT=$(free_port)
GRPC_PORT=$(free_port)
PROJECT="agent-trace-ci-$$"
mkdir -p "$WORK/phoenix"
say "starting Phoenix on 127.0.0.1:$PORT (gRPC $GRPC_PORT)"
PHOENIX_HOST=127.0.0.1 PHOENIX_PORT=$PORT PHOENIX_GRPC_PORT=$GRPC_PORT \
    PHOENIX_WORKING_DIR="$WORK/phoenix" PHOENIX_TELEMETRY_ENABLED=false \
    "$VENV/bin/phoenix" serve >"$WORK/phoenix.log" 2>&1 &
PHX_PID=$!

BASE="http://127.0.0.1:$PORT"
deadline=$((SECONDS + 180))
until curl -fsS "$BASE/healthz" >/dev/null 2>&1; do
    kill -0 "$PHX_PID" 2>/dev/null || fail "Phoenix exited before it was healthy"
    ((SECONDS < deadline)) || fail "Phoenix not healthy within 180 s"
    sleep 1
done
say "Phoenix is healthy"

# Phoenix routes spans to the project named by the `openinference.project.name` resource
# attribute (else its `default` project); service.name is set to the same for readability.
cd "$ROOT"
OTEL_EXPORTER_OTLP_ENDPOINT="$BASE" \
    OTEL_SERVICE_NAME="$PROJECT" \
    OTEL_RESOURCE_ATTRIBUTES="openinference.project.name=$PROJECT" \
    cargo run --quiet --example otlp --features otlp >"$WORK/example.log" 2>&1 \
    || { cat "$WORK/example.log" >&2; fail "the otlp example failed"; }
EXPORTED=$(sed -n 's/^exported \([0-9][0-9]*\) items$/\1/p' "$WORK/example.log")
[[ -n "$EXPORTED" ]] || { cat "$WORK/example.log" >&2; fail "the example did not say how many items it exported"; }
say "the example exported $EXPORTED items"

"$VENV/bin/python" "$ROOT/.ci/phoenix_check.py" --url "$BASE" --project "$PROJECT" \
    --traces 2 --exported-items "$EXPORTED" --timeout 180 || fail "Phoenix does not hold the expected spans"
say "OK"
