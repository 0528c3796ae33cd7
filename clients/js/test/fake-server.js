// A local fake owt for the unit tests: answers by path and records every request.
import http from "node:http";

export const USER = "ada";
export const PASSWORD = "s3cr\u00eat";
const GATE_TIMEOUT_MS = 5000;


export async function startFake() {
  let openGate;
  const state = {
    seen: [],
    gateTimedOut: false,
    gate: new Promise((resolve) => { openGate = resolve; }),
    open: () => openGate(),
  };

  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString("utf8");
    const u = new URL(req.url, "http://x");
    const seen = { method: req.method, path: u.pathname, query: u.search.slice(1), headers: req.headers, body };
    state.seen.push(seen);

    const send = (status, data, ctype, extra = {}) => {
      const headers = { ...extra, "Content-Length": Buffer.byteLength(data) };
      if (ctype) headers["Content-Type"] = ctype;
      res.writeHead(status, headers);
      res.end(data);
    };
    const stream = async (ctype, pieces) => {
      res.writeHead(200, { "Content-Type": ctype });
      for (const piece of pieces) {
        if (piece === "GATE") {
          let timer;
          const timeout = new Promise((r) => { timer = setTimeout(() => r("timeout"), GATE_TIMEOUT_MS); });
          if ((await Promise.race([state.gate, timeout])) === "timeout") state.gateTimedOut = true;
          clearTimeout(timer);
          continue;
        }
        res.write(Buffer.from(piece));
      }
      res.end();
    };

    let path = u.pathname;
    if (path.startsWith("/auth")) {
      const want = "Basic " + Buffer.from(`${USER}:${PASSWORD}`, "utf8").toString("base64");
      if (req.headers.authorization !== want) {
        return send(401, "Unauthorized\n", "text/plain; charset=utf-8", { "WWW-Authenticate": 'Basic realm="owt"' });
      }
      path = path.slice("/auth".length) || "/";
    }
    switch (path) {
      case "/":
      case "/echo":
        return send(200, JSON.stringify(seen), "application/json");
      case "/text":
        return send(200, "h\u00e9llo \u{1f30d}", "text/plain; charset=utf-8");
      case "/latin1":
        return send(200, Buffer.from([0x63, 0x61, 0x66, 0xe9]), "text/plain; charset=ISO-8859-1");
      case "/html":
        return send(200, "<p>hi</p>", "text/html; charset=utf-8");
      case "/json":
        return send(200, '{"a":[1,2],"\u00fc":null}', "application/json");
      case "/bytes":
        return send(200, Buffer.from(Array.from({ length: 256 }, (_, i) => i)), "application/octet-stream");
      case "/empty":
        return send(200, "");
      case "/500":
        return send(500, "Error executing code: ValueError: boom \u00fc\n", "text/plain; charset=utf-8");
      case "/404-empty":
        return send(404, "");
      case "/sse":
        return stream("text/event-stream", [
          ": comment\n\ndata: one\n\n", "GATE",
          "event: tick\r\nid: 7\r\ndata: two\r\ndata: lines\r\n\r\n",
          [0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xc3], [0xbc, 0x0a, 0x0a], "data: [DONE]\n\n",
        ]);
      case "/sse-error":
        return stream("text/event-stream", [
          "data: before\n\n",
          "event: error\ndata: Error executing code: RuntimeError: late\n\n",
          "data: after\n\n",
        ]);
      case "/chunks":
        return stream("application/octet-stream", [[0, 1], "GATE", [2], [255, 255, 255]]);
      default:
        return send(404, "no such fake route: " + path, "text/plain");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${server.address().port}`;
  state.close = () => {
    state.open();
    server.closeAllConnections?.();
    return new Promise((resolve) => server.close(resolve));
  };
  return state;
}

