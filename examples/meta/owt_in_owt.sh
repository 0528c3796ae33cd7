#!/usr/bin/env bash
# examples/meta/owt_in_owt.sh
#
# Usage: ./examples/meta/owt_in_owt.sh http://127.0.0.1:9876/owt
# The answer comes from the nested server on the next port.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
URL="${1:-http://127.0.0.1:9876/owt}"
source "$HERE/bootstrap.sh"

# Load up t' simple echo example from earlier
CODE_B64=$(cat "$HERE/../echo/echo.py" | base64 -w 0)
KWARGS_B64=$(echo "{'name': 'owt-inside-owt'}" | base64 -w 0)

# Send a request that starts a full copy of owt an' calls it wi' the payload code+kwargs
CMD=$(owtInOwt "$URL" "$CODE_B64" "$KWARGS_B64")
echo "Running: $CMD"
echo "Result:"
bash -c "$CMD"
echo
