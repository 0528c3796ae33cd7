// A local fake owt for the unit tests: answers by path and records every request.
import { createHash } from "node:crypto";
import http from "node:http";

export const USER = "ada";
export const PASSWORD = "s3cr\u00eat";
const GATE_TIMEOUT_MS = 5000;


/** The owt fields of a recorded request: its JSON body, or its query string. */
export function fieldsOf(seen) {
  if (seen.body) return JSON.parse(seen.body);
  return Object.fromEntries(new URLSearchParams(seen.query));
}

/** How each recorded request carried the code: "full", "digest" or null. */
export function modes(seen) {
  return seen.map((s) => {
    const f = fieldsOf(s);
    return f.code_b64 !== undefined ? "full" : f.code_sha256 !== undefined ? "digest" : null;
  });
}

export async function startFake() {
  let openGate;
  const state = {
    codes: new Set(),
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
    // Like an owt server with a code store: code sent is kept by its SHA-256, a known
    // code_sha256 runs, an unknown one is the 404 with the JSON body. Under /nostore
    // nothing is kept. The answer says how the code arrived.
    const codeStore = (path, seen) => {
      const fields = fieldsOf(seen);
      let mode;
      if (fields.code_b64 !== undefined) {
        const digest = createHash("sha256").update(Buffer.from(fields.code_b64, "base64")).digest("hex");
        if (path.startsWith("/store")) state.codes.add(digest);
        mode = "full";
      } else if (state.codes.has(fields.code_sha256)) {
        mode = "digest";
      } else {
        const body = { error: "unknown code_sha256", code_sha256: fields.code_sha256, message: "send it again" };
        return send(404, JSON.stringify(body), "application/json");
      }
      if (path.endsWith("/stream")) return stream("text/event-stream", [`data: ${mode}\n\n`]);
      return send(200, JSON.stringify({ mode, fields: Object.keys(fields).sort() }), "application/json");
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
    if (path.startsWith("/store") || path.startsWith("/nostore")) return codeStore(path, seen);
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

