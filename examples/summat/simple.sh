#!/usr/bin/env bash
# examples/summat/simple.sh
#
# Usage: ./examples/summat/simple.sh http://127.0.0.1:9876/owt
# The server reads this very file from examples/summat/ and answers it upper-cased.

URL="$1"
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
read -r -d '' CODE << EOF
run = (pipe()
       .kwarg('path')
       .open(root_dir='$ROOT_DIR')
       .bytes()
       .f(lambda ab: ab.decode('utf-8').upper())
       .done())
EOF

curl --json $(jo \
  code_b64=$(echo "$CODE" | base64 -w 0) \
  kwargs_b64=$(echo "{'path': 'simple.sh'}" | base64 -w 0) \
) $URL
