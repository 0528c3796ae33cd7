#!/usr/bin/env bash
# examples/tts/speak.sh
#
# Usage:
# ./examples/tts/speak.sh http://127.0.0.1:9876/file.wav "Hello world! This is a test." /tmp/output_dir
#
# Sends adaptors/speak.py (or the file in $ADAPTOR, e.g. adaptors/bark.py) with the text,
# asks for the response to be cached (so the same URL and text is answered from the
# server's cache next time), and saves each sentence's WAV as it arrives:
# OUTDIR/sentence0.wav, sentence1.wav, ... and OUTDIR/cumulative.wav (all so far).
# $SPEAKER picks the voice (espeak-ng: en, en-us, en+f3, ...; bark: v2/en_speaker_6).
set -euo pipefail

URL="$1"
TEXT="$2"
OUTDIR="$3"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ADAPTOR="${ADAPTOR:-$HERE/../../adaptors/speak.py}"
mkdir -p "$OUTDIR"

CODE_B64="$(base64 -w 0 < "$ADAPTOR")"
KWARGS_B64=$(jq -cn --arg text "$TEXT" --arg speaker "${SPEAKER:-}" \
  '{text: $text} + (if $speaker == "" then {} else {speaker: $speaker} end)' | base64 -w 0)
JSON=$(jo \
  code_b64="$CODE_B64" \
  kwargs_b64="$KWARGS_B64" \
  use_cache=true \
  cache_kwargs=true \
)

echo "Running curl --json <code_b64 of $(basename "$ADAPTOR"), kwargs_b64, use_cache, cache_kwargs> $URL" >&2
HEADERS=$(mktemp)
trap 'rm -f "$HEADERS"' EXIT
# One event per line: `data: {"sentence": ..., "cumulative": ...}`, then `data: [DONE]`.
curl -sSN --fail-with-body -D "$HEADERS" --json "$JSON" "$URL" | (cd "$OUTDIR" && awk -v outdir="$OUTDIR" '
  BEGIN { n = 0 }
  /^event: error/ { failed = 1; next }
  /^data: \[DONE\]/ { done = 1; next }
  /^data: \{/ {
    sub(/^data: /, "")
    name = "sentence" n ".wav"
    cmd = "jq -r .sentence | base64 -d > " name; print | cmd; close(cmd)
    cmd = "jq -r .cumulative | base64 -d > cumulative.wav"; print | cmd; close(cmd)
    print outdir "/" name
    fflush()
    n++
    next
  }
  /^data: / && failed { sub(/^data: /, ""); print "speak.sh: the server reported an error: " $0 > "/dev/stderr"; next }
  # Not an event: the server answered with an error instead of a stream (say, a 500
  # "No module named ...bark is not installed on this server"); show its words.
  !/^(data|event|id|retry):/ && !/^:/ && NF {
    if (!answered) print "speak.sh: the server answered:" > "/dev/stderr"
    print "  " $0 > "/dev/stderr"
    answered = 1
  }
  END {
    if (!done && !answered) print "speak.sh: the stream ended without [DONE]" > "/dev/stderr"
    if (!done) exit 1
  }')
# The server says whether it answered from its cache (when it runs with --cache-dir).
grep -i '^X-Owt-Cache:' "$HEADERS" | tr -d '\r' >&2 || true
