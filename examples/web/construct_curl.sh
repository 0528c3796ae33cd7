#!/usr/bin/env bash
# examples/web/construct_curl.sh
#
# Usage: ./examples/web/construct_curl.sh http://127.0.0.1:9876/
# Prints a curl command that fetches the speech app (speak.html with speak.js and
# adaptors/speak.py inlined) from owt, and on stderr the same URL to open in a browser.

URL="$1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CODE=$(HERE="$HERE" /usr/bin/python3 <<'EOF'
import os
here = os.environ['HERE']
with open(f'{here}/speak.html', 'r') as html_f:
  html = html_f.read()
  with open(f'{here}/../../adaptors/speak.py', 'r') as code_f:
    code = code_f.read()
    with open(f'{here}/speak.js', 'r') as js_f:
      template = (html.replace('{% include "speak.py" %}', code)
                  .replace('<script src="/web/speak.js"></script>',
                           '<script>\n'+js_f.read()+'\n</script>'))
      # lighttpd hands FastCGI a query string of up to about 21 KB: the page travels
      # compressed, well inside that.
      import base64, zlib
      page = base64.b64encode(zlib.compress(template.encode('utf-8'), 9)).decode('ascii')
      print('''
def run():
  import base64, zlib
  return zlib.decompress(base64.b64decode('''+repr(page)+''')).decode('utf-8')''')
EOF
)
CODE_B64=$(base64 -w 0 <<< "$CODE")
echo "Open in a browser: $URL?code_b64=$(jq -rn --arg v "$CODE_B64" '$v|@uri')" >&2
echo "curl -sS -G --data-urlencode \"code_b64=$CODE_B64\" $URL"
