# examples/meta/bootstrap.sh
#
# Source it, then `owtInOwt URL PAYLOAD_CODE_B64 PAYLOAD_KWARGS_B64` prints a curl
# command. Run that command and the owt server at URL starts a nested owt on the next
# port (owt.server.main), waits until it answers, sends it the payload code and kwargs,
# stops it again and answers with what the nested server said.

function owtInOwt() {
  URL_PORT="$1"
  PAYLOAD_CODE_B64="$2"
  PAYLOAD_KWARGS_B64="$3"
  read -r -d '' CODE << EOF
def run(**kwargs):
  payload_code_b64 = kwargs['payload_code_b64']
  payload_kwargs_b64 = kwargs['payload_kwargs_b64']
  global _SERVER
  new_port = _SERVER.port + 1
  _globals = {'__name__': __name__+'_new',
              'new_port': new_port}
  _locals = {}
  print('going one level down to port %s' % new_port)

  exec('''
print('One level deeper, importing owt')
from owt import server
from multiprocessing import Event, Process
ready = Event()
server_thread = Process(target=server.main, kwargs={"port": new_port, "ready": ready})
''', _globals, _locals)

  def kill():
    print('Killing server on %s' % new_port)
    _locals['server_thread'].terminate()
    _locals['server_thread'].join()
    print('Killed server on %d' % new_port)

  def wait_until_serving():
    # main() sets ready once owt-serve says "Owt serving on": the server answers
    # and is idle (a request sent to it now gets a free worker).
    import time
    deadline = time.monotonic() + 30
    while not _locals['ready'].wait(0.1):
      if not _locals['server_thread'].is_alive() or time.monotonic() > deadline:
        raise RuntimeError('the nested server on port %d did not start' % new_port)

  from multiprocessing import Process
  from owt import request
  import requests
  import urllib

  _locals['server_thread'].start()
  try:
    port = urllib.parse.urlparse("$URL_PORT").port
    new_url = "$URL_PORT".replace(str(port), str(new_port))
    wait_until_serving()
    bootstrapped_url = f"{new_url}?code_b64={urllib.parse.quote_plus(payload_code_b64)}&kwargs_b64={urllib.parse.quote_plus(payload_kwargs_b64)}"
    resp = requests.get(bootstrapped_url).content
  finally:
    kill()
  return resp
EOF

  CODE_B64=$(base64 -w 0 <<< "$CODE")
  KWARGS_B64=$(base64 -w 0 <<< "{\"payload_code_b64\":\"$PAYLOAD_CODE_B64\", \"payload_kwargs_b64\": \"$PAYLOAD_KWARGS_B64\"}")
  CMD="curl -sS -G --data-urlencode code_b64=$CODE_B64 --data-urlencode kwargs_b64=$KWARGS_B64 $URL_PORT"
  echo $CMD
}
