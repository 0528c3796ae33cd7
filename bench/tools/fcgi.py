"""A minimal FastCGI client (standard library only), for the rows that talk to a worker
without a web server in front: the callgrind count of instructions per warm request.

    fcgi.py SOCKET URL-PATH-AND-QUERY [N]   send N GETs (default 1), print status and body

One request per connection, as lighttpd and nginx (without fastcgi_keep_conn) send them.
Every wait is bounded by the socket timeout.
"""
import socket
import struct
import sys

VERSION = 1
BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER = 1
MAX_CONTENT = 65535


def _record(rtype, request_id, content=b""):
    padding = -len(content) % 8
    return (struct.pack(">BBHHBx", VERSION, rtype, request_id, len(content), padding)
            + content + b"\0" * padding)


def _length(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def _stream(rtype, data):
    out = bytearray()
    for i in range(0, len(data), MAX_CONTENT):
        out += _record(rtype, 1, data[i:i + MAX_CONTENT])
    return bytes(out + _record(rtype, 1))


def params_for(method, path_and_query, body=b"", content_type=None):
    """The params nginx sends with bench/conf/nginx-fastcgi.inc for this request."""
    path, _, query = path_and_query.partition("?")
    params = {
        "QUERY_STRING": query, "REQUEST_METHOD": method,
        "CONTENT_TYPE": content_type or "", "CONTENT_LENGTH": str(len(body)) if body else "",
        "SCRIPT_NAME": "", "PATH_INFO": path, "REQUEST_URI": path_and_query,
        "DOCUMENT_URI": path, "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_SCHEME": "http",
        "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "nginx",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000", "SERVER_ADDR": "127.0.0.1",
        "SERVER_PORT": "8080", "SERVER_NAME": "", "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_USER_AGENT": "wrk", "HTTP_CONNECTION": "keep-alive",
    }
    out = bytearray()
    for name, value in params.items():
        n, v = name.encode("latin-1"), value.encode("latin-1")
        out += _length(len(n)) + _length(len(v)) + n + v
    return bytes(out)


def request(sock_path, encoded_params, body=b"", timeout=30.0):
    """One request on a fresh connection to a unix socket: (HTTP status, body bytes)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(_record(BEGIN_REQUEST, 1, struct.pack(">HB5x", RESPONDER, 0))
                  + _stream(PARAMS, encoded_params) + _stream(STDIN, body))
        out = bytearray()
        buf = b""
        while True:
            while len(buf) < 8 or len(buf) < 8 + struct.unpack(">H", buf[4:6])[0] + buf[6]:
                piece = s.recv(65536)
                if not piece:
                    raise ConnectionError(f"connection closed before END_REQUEST ({len(out)} bytes)")
                buf += piece
            _v, rtype, _rid, clen, plen = struct.unpack(">BBHHBx", buf[:8])
            content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
            if rtype == STDOUT:
                out += content
            elif rtype == END_REQUEST:
                break
    head, _, payload = bytes(out).partition(b"\r\n\r\n")
    status = 200
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"status:"):
            status = int(line.split(b":", 1)[1].split()[0])
    return status, payload


def _main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    n = int(argv[2]) if len(argv) > 2 else 1
    p = params_for("GET", argv[1])
    for _ in range(n):
        status, body = request(argv[0], p)
    print(status, body[:500])
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
