#!/usr/bin/env bash
# examples/tts/bark.sh - speak.sh with the seed's bark adaptor (needs bark on the server).
#
# Usage:
# ./examples/tts/bark.sh http://127.0.0.1:9876/file.wav "Hello world! This is a test." /tmp/output_dir
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ADAPTOR="$HERE/../../adaptors/bark.py" exec "$HERE/speak.sh" "$@"
