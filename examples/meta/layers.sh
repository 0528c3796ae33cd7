#!/usr/bin/env bash
# examples/meta/layers.sh
#
# Usage: ./examples/meta/layers.sh http://127.0.0.1:9876/owt [N_LAYERS]
# Layer k wraps the echo adaptor in k copies of bootstrap.py: the server on port P
# starts one on P+1, which starts one on P+2, ... and the innermost, on P+k, answers.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
URL="${1:-http://127.0.0.1:9876/owt}"
N_LAYERS="${2:-5}"

METACODE_B64=$(cat "$HERE/bootstrap.py" | base64 -w 0)
function wrapOwt() {
  CODE_B64="$1"
  KWARGS_B64="$2"
  METAKWARGS_B64=$(base64 -w 0 <<< "{\"payload_code_b64\":\"$CODE_B64\", \"payload_kwargs_b64\": \"$KWARGS_B64\"}")
  echo "$METAKWARGS_B64"
}

for layer in $(seq 1 $N_LAYERS); do
  CODE_B64=$(cat "$HERE/../echo/echo.py" | base64 -w 0)
  NAME="owt"
  for i in $(seq 1 $layer); do
      NAME="$NAME-inside-owt"
  done
  KWARGS_B64=$(echo "{\"name\": \"$NAME\"}" | base64 -w 0)
  METAKWARGS_B64=$(wrapOwt "$CODE_B64" "$KWARGS_B64")
  for i in $(seq 2 $layer); do
      METAKWARGS_B64=$(wrapOwt "$METACODE_B64" "$METAKWARGS_B64")
  done
  echo "layer: $NAME"
  CMD="curl -sS -G --data-urlencode code_b64=$METACODE_B64 --data-urlencode kwargs_b64=$METAKWARGS_B64 $URL"
  echo "Result: " $(bash -c "$CMD")
done
