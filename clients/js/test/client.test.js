import assert from "node:assert/strict";
import { after, beforeEach, test } from "node:test";

import { OwtClient, OwtError } from "../dist/index.js";
import { PASSWORD, USER, startFake } from "./fake-server.js";
import { inputsOf, vectors } from "./vectors.js";

let fake;
beforeEach(async () => {
  if (fake) await fake.close();
  fake = await startFake();
});
after(async () => fake && fake.close());

const hello = vectors.find((c) => c.name === "hello-kwargs");

test("POST sends the vector body", async () => {
  const seen = await new OwtClient(fake.url + "/echo").run(hello.code, hello.kwargs);
  assert.equal(seen.method, "POST");
  assert.equal(seen.headers["content-type"], "application/json");
  assert.deepStrictEqual(JSON.parse(seen.body), hello.expected.json);
  assert.equal(seen.query, "");
});

test("GET sends the vector query", async () => {
  const seen = await new OwtClient(fake.url + "/echo", { method: "GET" }).run(hello.code, hello.kwargs);
  assert.equal(seen.method, "GET");
  assert.equal(seen.query, hello.expected.query);
  assert.equal(seen.body, "");
});

test("every vector over the wire", async () => {
  const client = new OwtClient(fake.url + "/echo", { byDigest: false }); // each call sends the code itself
  for (const c of vectors) {
    const got = await client.call(await inputsOf(c), { method: "GET" });
    assert.equal(got.query, c.expected.query, c.name);
    const posted = await client.call(await inputsOf(c));
    assert.deepStrictEqual(JSON.parse(posted.body), c.expected.json, c.name);
  }
});

test("eventSourceUrl and paths", async () => {
  const client = new OwtClient(fake.url + "/?x=1");
  assert.equal(client.eventSourceUrl("1"), fake.url + "/?x=1&code_b64=MQ%3D%3D");
  assert.equal(client.eventSourceUrl("1", undefined, { path: "/echo" }), fake.url + "/echo?x=1&code_b64=MQ%3D%3D");
  const seen = await client.run("1", undefined, { path: "echo", method: "GET" });
  assert.equal(seen.path, "/echo");
  assert.equal(seen.query, "x=1&code_b64=MQ%3D%3D");
});

test("adaptor, bare kwargs and options", async () => {
  const client = new OwtClient(fake.url + "/echo");
  const seen = await client.adaptor("sota.hard_task", "solve AGI", { useCache: true, fnName: "f" });
  assert.deepStrictEqual(JSON.parse(seen.body), {
    kwargs_b64: "InNvbHZlIEFHSSI=", fn_name: "f", adaptor: "sota.hard_task", use_cache: true,
  });
});

test("results by content type", async () => {
  const client = new OwtClient(fake.url);
  assert.equal(await client.run("x", undefined, { path: "text" }), "h\u00e9llo \u{1f30d}");
  assert.equal(await client.run("x", undefined, { path: "latin1" }), "caf\u00e9");
  assert.equal(await client.run("x", undefined, { path: "html" }), "<p>hi</p>");
  assert.deepStrictEqual(await client.run("x", undefined, { path: "json" }), { a: [1, 2], "\u00fc": null });
  const bytes = await client.run("x", undefined, { path: "bytes" });
  assert.ok(bytes instanceof Uint8Array);
  assert.deepStrictEqual([...bytes], Array.from({ length: 256 }, (_, i) => i));
  assert.equal(await client.run("x", undefined, { path: "empty" }), null);
});

test("a 500 carries the server's message", async () => {
  await assert.rejects(new OwtClient(fake.url + "/500").run("x"), (err) => {
    assert.ok(err instanceof OwtError);
    assert.equal(err.status, 500);
    assert.equal(err.message, "Error executing code: ValueError: boom \u00fc");
    return true;
  });
});

test("an error without a body uses the status text", async () => {
  await assert.rejects(new OwtClient(fake.url + "/404-empty").run("x"), { status: 404, message: "Not Found" });
});

test("auth", async () => {
  await assert.rejects(new OwtClient(fake.url + "/auth/text").run("x"), (err) => {
    assert.equal(err.status, 401);
    assert.equal(err.headers.get("www-authenticate"), 'Basic realm="owt"');
    return true;
  });
  assert.equal(await new OwtClient(fake.url + "/auth/text", { auth: [USER, PASSWORD] }).run("x"), "h\u00e9llo \u{1f30d}");
  assert.equal(await new OwtClient(fake.url + "/auth/text", { auth: { user: USER, password: PASSWORD } }).run("x"), "h\u00e9llo \u{1f30d}");
  await assert.rejects(new OwtClient(fake.url + "/auth/text", { auth: [USER, "wrong"] }).run("x"), { status: 401 });
});

test("an unreachable server", async () => {
  await assert.rejects(new OwtClient("http://127.0.0.1:9/").run("x"), (err) => {
    assert.ok(err instanceof OwtError);
    assert.equal(err.status, null);
    assert.match(err.message, /cannot reach/);
    return true;
  });
});

test("SSE is read event by event", async () => {
  const it = new OwtClient(fake.url + "/sse").stream("x");
  assert.deepStrictEqual(await it.next(), { value: "one", done: false });
  fake.open();
  const rest = [];
  for await (const data of it) rest.push(data);
  assert.deepStrictEqual(rest, ["two\nlines", "\u00fc", "[DONE]"]);
  assert.equal(fake.gateTimedOut, false, "the client waited for the whole body");
});

test("events carry type and id", async () => {
  fake.open();
  const events = [];
  for await (const e of new OwtClient(fake.url + "/sse").events("x")) events.push(e);
  assert.deepStrictEqual(events, [
    { event: "message", data: "one", id: null },
    { event: "tick", data: "two\nlines", id: "7" },
    { event: "message", data: "\u00fc", id: "7" },
    { event: "message", data: "[DONE]", id: "7" },
  ]);
});

test("an error event throws", async () => {
  const got = [];
  await assert.rejects(
    (async () => {
      for await (const data of new OwtClient(fake.url + "/sse-error").stream("x")) got.push(data);
    })(),
    (err) => {
      assert.ok(err instanceof OwtError);
      assert.equal(err.status, 200);
      assert.equal(err.message, "Error executing code: RuntimeError: late");
      return true;
    },
  );
  assert.deepStrictEqual(got, ["before"]);
});

test("raw chunks arrive incrementally", async () => {
  const it = new OwtClient(fake.url + "/chunks").stream("x");
  const first = await it.next();
  assert.deepStrictEqual([...first.value], [0, 1]);
  fake.open();
  const rest = [];
  for await (const chunk of it) rest.push(...chunk);
  assert.deepStrictEqual(rest, [2, 255, 255, 255]);
  assert.equal(fake.gateTimedOut, false);
});

test("breaking out of a stream closes it", async () => {
  for await (const data of new OwtClient(fake.url + "/sse").stream("x")) {
    assert.equal(data, "one");
    break;
  }
});

test("stream errors are thrown before any item", async () => {
  await assert.rejects(new OwtClient(fake.url + "/500").stream("x").next(), { status: 500 });
});
