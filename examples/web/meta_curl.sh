#!/usr/bin/env bash
# examples/web/meta_curl.sh
#
# Usage: ./examples/web/meta_curl.sh http://127.0.0.1:9876/
# Prints a curl command (and on stderr the URL to open in a browser) whose adaptor runs
# construct_curl.sh on the server and fetches the app from owt itself, so every reload
# serves the app as it is on disk now. The server needs two workers (owt-serve
# --workers 2): one runs this adaptor while the other answers its request.

URL="$1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONSTRUCT=$(/usr/bin/python3 -c 'import sys; print(repr(sys.argv[1]))' "$HERE/construct_curl.sh")
read -r -d '' CODE << EOF
def run(base_url):
  import os
  import shlex
  construct = $CONSTRUCT
  html = os.popen(f'bash -c "\$({shlex.quote(construct)} {shlex.quote(base_url)} 2>/dev/null)"').read()
  return html
EOF

KWARGS="{\"base_url\": \"$URL\"}"
CODE_B64=$(base64 -w 0 <<< "$CODE")
KWARGS_B64=$(base64 -w 0 <<< "$KWARGS")
echo "Open in a browser: $URL?code_b64=$(jq -rn --arg v "$CODE_B64" '$v|@uri')&kwargs_b64=$(jq -rn --arg v "$KWARGS_B64" '$v|@uri')" >&2
echo "curl -sS -G --data-urlencode code_b64=$CODE_B64 --data-urlencode kwargs_b64=$KWARGS_B64 $URL"
