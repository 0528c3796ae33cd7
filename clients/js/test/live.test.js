// Live tests against a running owt server (PROTOCOL.md).
// OWT_URL names a server without auth; OWT_AUTH_URL, OWT_AUTH_USER and OWT_AUTH_PASSWORD a
// server with auth. Without them these tests skip, unless CI is set: then they fail.
import assert from "node:assert/strict";
import { test } from "node:test";

import { OwtClient, OwtError } from "../dist/index.js";

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
