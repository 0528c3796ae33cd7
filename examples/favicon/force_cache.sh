#!/usr/bin/env bash
# examples/favicon/force_cache.sh URL [OUT_DIR]
#
# The seed's force-cache idea: render a favicon once with use_cache=true, then
# ask for /favicon.ico with no code, and with other code: both get the same bytes.
set -euo pipefail

URL="${1:?usage: force_cache.sh URL [OUT_DIR]}"
OUT="${2:-$(mktemp -d "${TMPDIR:-/tmp}/owt-favicon.XXXXXX")}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$OUT"

fetch() { # fetch NAME CURL-ARGS...: body to $OUT/NAME.png, prints the X-Owt-Cache header
  local name=$1; shift
  curl -sS -o "$OUT/$name.png" -D "$OUT/$name.headers" "$@"
  printf '%-10s %s  X-Owt-Cache: %s\n' "$name" "$(sha256sum < "$OUT/$name.png" | cut -c1-16)" \
    "$(tr -d '\r' < "$OUT/$name.headers" | sed -n 's/^[Xx]-[Oo]wt-[Cc]ache: //p')"
}

# 1. The first request carries the renderer and asks for the cache.
fetch first --data-urlencode "code_b64=$(base64 -w0 "$HERE/favicon.py")" \
            --data-urlencode use_cache=true "$URL/favicon.ico"
# 2. No code at all: answered from the cache.
fetch no-code "$URL/favicon.ico?use_cache=true"
# 3. Other code: the code is not part of the key, so the cached bytes win.
fetch other --data-urlencode "code=lambda: 'not a favicon'" \
            --data-urlencode use_cache=true "$URL/favicon.ico"

cmp -s "$OUT/first.png" "$OUT/no-code.png" && cmp -s "$OUT/first.png" "$OUT/other.png" \
  && echo "same bytes every time: $OUT/first.png" \
  || { echo "the responses differ (is the cache on? see docs/cache.md)" >&2; exit 1; }
