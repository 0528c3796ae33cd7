// Live tests against a running owt server (PROTOCOL.md).
// OWT_URL names a server without auth; OWT_AUTH_URL, OWT_AUTH_USER and OWT_AUTH_PASSWORD a
// server with auth. Without them these tests skip, unless CI is set: then they fail.
import assert from "node:assert/strict";
import { test } from "node:test";

import { OwtClient, OwtError, sha256Hex } from "../dist/index.js";
import { ed25519Signer } from "../dist/node.js";

const env = process.env;
const HELLO = 'def run(name):\n    return f"Hello, {name}!"\n';
const NON_ASCII = 'Gr\u00fc\u00dfe, \u4e16\u754c \u{1f30d} \u2014 "quoted" \\ <&>';
const TICKS = `import time

def run(n=3, pause=0.4):
    def ticks():
        for i in range(n):
            yield "data: %d\\n\\n" % i
            time.sleep(pause)
        yield "data: [DONE]\\n\\n"
    return ticks(), {"Content-Type": "text/event-stream"}
`;
const FAILING_STREAM = `def run():
    def events():
        yield "data: first\\n\\n"
        raise RuntimeError("late failure")
    return events(), {"Content-Type": "text/event-stream"}
`;

function needs(...names) {
  const missing = names.filter((n) => !env[n]);
  if (missing.length === 0) return {};
  if (env.CI) return {}; // the test body fails loudly instead
  return { skip: `live tests need ${missing.join(", ")}` };
}

function requireEnv(...names) {
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0) assert.fail(`live tests need ${missing.join(", ")} (required when CI is set)`);
  return names.map((n) => env[n]);
}

function liveTest(name, body) {
  for (const method of ["POST", "GET"]) {
    test(`live ${method}: ${name}`, needs("OWT_URL"), async () => {
      const [url] = requireEnv("OWT_URL");
      await body(new OwtClient(url, { method }), url);
    });
  }
}

liveTest("hello", async (owt) => {
  assert.equal(await owt.run(HELLO, { name: "owt" }), "Hello, owt!");
});

liveTest("hello on a path", async (owt) => {
  assert.equal(await owt.run("def run():\n    return request.path\n", undefined, { path: "hello" }), "/hello");
});

liveTest("non-ASCII kwargs", async (owt) => {
  assert.equal(await owt.run(HELLO, { name: NON_ASCII }), `Hello, ${NON_ASCII}!`);
  const kwargs = { text: NON_ASCII, nested: { "\u043a\u043b\u044e\u0447": [NON_ASCII, 1, null] } };
  assert.deepStrictEqual(await owt.run("def run(**kw):\n    return kw\n", kwargs), kwargs);
});

liveTest("binary result", async (owt) => {
  const bytes = await owt.run("def run(times):\n    return bytes(range(256)) * times\n", { times: 4 });
  assert.ok(bytes instanceof Uint8Array);
  assert.equal(bytes.length, 1024);
  bytes.forEach((b, i) => assert.equal(b, i % 256));
});

liveTest("SSE read event by event", async (owt) => {
  const arrivals = [];
  for await (const data of owt.stream(TICKS, { n: 3, pause: 0.4 })) arrivals.push([data, performance.now()]);
  assert.deepStrictEqual(arrivals.map(([d]) => d), ["0", "1", "2", "[DONE]"]);
  const spread = (arrivals[3][1] - arrivals[0][1]) / 1000;
  assert.ok(spread >= 0.6, `events arrived together (${spread.toFixed(2)}s apart): the response was buffered`);
});

liveTest("SSE error event", async (owt) => {
  const got = [];
  await assert.rejects(
    (async () => {
      for await (const data of owt.stream(FAILING_STREAM)) got.push(data);
    })(),
    (err) => err instanceof OwtError && err.message.includes("late failure"),
  );
  assert.deepStrictEqual(got, ["first"]);
});

liveTest("a 500 carries the server's message", async (owt) => {
  await assert.rejects(owt.run('def run(word):\n    raise ValueError("boom " + word)\n', { word: "\u00fc" }), (err) => {
    assert.ok(err instanceof OwtError);
    assert.equal(err.status, 500);
    assert.ok(err.message.startsWith("Error executing code: ValueError: boom \u00fc"), err.message);
    return true;
  });
});

liveTest("unknown adaptor is 404", async (owt) => {
  await assert.rejects(owt.adaptor("no_such_adaptor_owt_client_test"), { status: 404 });
});

test("live: 401 without auth", needs("OWT_AUTH_URL", "OWT_AUTH_USER", "OWT_AUTH_PASSWORD"), async () => {
  const [url, user, password] = requireEnv("OWT_AUTH_URL", "OWT_AUTH_USER", "OWT_AUTH_PASSWORD");
  await assert.rejects(new OwtClient(url).run(HELLO, { name: "owt" }), (err) => {
    assert.equal(err.status, 401);
    assert.match(err.headers.get("www-authenticate") ?? "", /^Basic/);
    return true;
  });
  await assert.rejects(new OwtClient(url, { auth: [user, password + "-wrong"] }).run(HELLO, { name: "owt" }), { status: 401 });
  assert.equal(await new OwtClient(url, { auth: { user, password } }).run(HELLO, { name: "owt" }), "Hello, owt!");
});

// ---- code by digest and signed code (OWT_URL's server keeps a small --code-store) --------

/** A fetch that records how each request carried the code. */
function recording() {
  const modes = [];
  const fetch = (url, init) => {
    const fields = init.body ? JSON.parse(init.body) : Object.fromEntries(new URL(url).searchParams);
    modes.push(fields.code_b64 !== undefined ? "full" : fields.code_sha256 !== undefined ? "digest" : null);
    return globalThis.fetch(url, init);
  };
  return { fetch, modes };
}

function unique(tag) {
  return `def run(x=1):\n    return "${tag} %d" % x  # ${Math.random().toString(36).slice(2)}${Date.now()}\n`;
}

/** Ask the server itself: does a bare code_sha256 for code run? */
async function serverHas(url, code) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code_sha256: await sha256Hex(code) }),
  });
  await response.arrayBuffer();
  assert.ok(response.status === 200 || response.status === 404, `HTTP ${response.status}`);
  return response.status === 200;
}

for (const method of ["POST", "GET"]) {
  test(`live ${method}: by digest after the first call`, needs("OWT_URL"), async () => {
    const [url] = requireEnv("OWT_URL");
    const rec = recording();
    const owt = new OwtClient(url, { method, fetch: rec.fetch });
    const code = unique("digest");
    assert.equal(await owt.run(code, { x: 1 }), "digest 1");
    assert.equal(await owt.run(code, { x: 2 }), "digest 2");
    const chunks = [];
    for await (const chunk of owt.stream(code, { x: 3 })) chunks.push(new TextDecoder().decode(chunk));
    assert.equal(chunks.join(""), "digest 3");
    assert.deepStrictEqual(rec.modes, ["full", "digest", "digest"]);
    assert.ok(await serverHas(url, code));
  });
}

test("live: evicted code is sent again", needs("OWT_URL"), async () => {
  const [url] = requireEnv("OWT_URL");
  const rec = recording();
  const owt = new OwtClient(url, { fetch: rec.fetch });
  const code = unique("evicted");
  assert.equal(await owt.run(code), "evicted 1");
  const filler = new OwtClient(url, { byDigest: false });
  for (let i = 0; i < 12 && (await serverHas(url, code)); i++) {
    assert.equal(await filler.run(unique("filler") + "#".repeat(30000) + "\n"), "filler 1");
  }
  assert.ok(!(await serverHas(url, code)), "the server kept the code: is its --code-store-max-bytes small?");
  assert.equal(await owt.run(code, { x: 2 }), "evicted 2");
  assert.deepStrictEqual(rec.modes, ["full", "digest", "full"]);
  assert.equal(await owt.run(code, { x: 3 }), "evicted 3");
  assert.equal(rec.modes.at(-1), "digest");
});

for (const method of ["POST", "GET"]) {
  test(`live ${method}: signed code on a --require-signed server`, needs("OWT_SIGNED_URL", "OWT_SIGN_KEY"), async () => {
    const [url, key] = requireEnv("OWT_SIGNED_URL", "OWT_SIGN_KEY");
    const rec = recording();
    const owt = new OwtClient(url, { method, fetch: rec.fetch, signer: ed25519Signer(key) });
    const code = unique("signed");
    assert.equal(await owt.run(code, { x: 1 }), "signed 1");
    assert.equal(await owt.run(code, { x: 2 }), "signed 2");
    assert.deepStrictEqual(rec.modes, ["full", "digest"]);
    await assert.rejects(new OwtClient(url, { method }).run(unique("unsigned")), (err) => {
      assert.equal(err.status, 403);
      assert.match(err.message, /--require-signed/);
      return true;
    });
  });
}
