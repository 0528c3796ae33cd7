#!/usr/bin/env bash
# examples/batch/batch.sh - 32 clients at once, with and without owt.batch.
#
# Usage: ./examples/batch/batch.sh [URL] [CLIENTS]   (default http://127.0.0.1:9876, 32)
# Needs curl and awk. Prints the wall time of each round and the batch sizes the server ran.
set -euo pipefail
url=${1:-http://127.0.0.1:9876}
clients=${2:-32}
here=$(cd "$(dirname "$0")" && pwd)
code=$(base64 -w0 "$here/model.py")

# One curl runs every client's request at once (--parallel): the requests reach the
# server together, as concurrent clients' would.
round() {
  local batched=$1 start end args=()
  for i in $(seq "$clients"); do
    [ "$i" -gt 1 ] && args+=(--next)
    args+=(-fsS -o /dev/null --json "{\"code_b64\": \"$code\", \"kwargs\": {\"text\": \"text number $i\", \"batched\": $batched}}" "$url/score")
  done
  start=$(date +%s.%N)
  curl --no-progress-meter --parallel --parallel-immediate --parallel-max "$clients" "${args[@]}"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="$clients" -v b="$batched" \
    'BEGIN { printf "%-9s %d requests in %.3f s\n", (b == "true" ? "batched" : "unbatched"), n, e - s }'
}

round false
round true
echo "batch sizes run: $(curl -fsS --json "{\"code_b64\": \"$code\", \"kwargs\": {\"stats\": true}}" "$url/score")"
