#!/usr/bin/env bash
# A library that depends on agent-trace with default features off (examples/tool-library)
# must not pull the export pipeline: no Tokio, no rtrb, no backon (futures-util comes without
# its std feature, for the BoxFuture of the traits).
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='^(tokio|rtrb|backon) '
tree=$(cargo tree -p tool-library -e normal --prefix none)
echo "$tree" | sort -u
if echo "$tree" | grep -Eq "$forbidden"; then
    echo "FAIL: tool-library (agent-trace, default-features = false) pulls pipeline crates:" >&2
    echo "$tree" | grep -E "$forbidden" | sort -u >&2
    exit 1
fi
# The check can fail: with default features, the same crates are there.
full=$(cargo tree -p agent-trace -e normal --prefix none)
for c in tokio rtrb backon; do
    echo "$full" | grep -q "^$c " || { echo "FAIL: sanity check: agent-trace with default features lacks $c" >&2; exit 1; }
done
echo "ok: tool-library's dependency tree has none of tokio, rtrb, backon"
