// Code by digest against the local fake server: the first call of a code sends it, later
// calls its SHA-256; the 404 "unknown code_sha256" brings one resend in full; a server that
// keeps nothing stops the digests; other errors are not resent.
import assert from "node:assert/strict";
import { after, beforeEach, test } from "node:test";

import { CodeMemory, OwtClient, OwtError, isUnknownCode, sha256Hex } from "../dist/index.js";
import { fieldsOf, modes, startFake } from "./fake-server.js";

let fake;
beforeEach(async () => {
  if (fake) await fake.close();
  fake = await startFake();
});
after(async () => fake && fake.close());

const CODE = "def run(n):\n    return n * 2\n";

for (const method of ["POST", "GET"]) {
  test(`${method}: the first call in full, then by digest`, async () => {
    const client = new OwtClient(fake.url + "/store", { method });
    assert.deepStrictEqual(await client.run(CODE, { n: 1 }), { mode: "full", fields: ["code_b64", "kwargs_b64"] });
    assert.deepStrictEqual(await client.run(CODE, { n: 2 }), { mode: "digest", fields: ["code_sha256", "kwargs_b64"] });
    assert.equal((await client.run(CODE, { n: 3 })).mode, "digest");
    assert.equal(fieldsOf(fake.seen[1]).code_sha256, await sha256Hex(CODE));
    assert.deepStrictEqual(modes(fake.seen), ["full", "digest", "digest"]);
    assert.equal((await client.run(CODE + "\n", { n: 1 })).mode, "full");
  });
}

test("an unknown code is sent again, once", async () => {
  const client = new OwtClient(fake.url + "/store");
  await client.run(CODE, { n: 1 });
  fake.codes.clear(); // the server forgot it
  assert.equal((await client.run(CODE, { n: 2 })).mode, "full");
  assert.deepStrictEqual(modes(fake.seen), ["full", "digest", "full"]);
  assert.equal((await client.run(CODE, { n: 3 })).mode, "digest");
});

test("a server that keeps nothing stops the digests", async () => {
  const client = new OwtClient(fake.url + "/nostore");
  for (let n = 0; n < 5; n++) assert.equal((await client.run(CODE, { n })).mode, "full");
  assert.deepStrictEqual(modes(fake.seen), ["full", "digest", "full", "digest", "full", "full", "full"]);
});

for (const route of ["/404-empty", "/500"]) {
  test(`other errors are not resent (${route})`, async () => {
    const codes = new CodeMemory();
    codes.sent(await sha256Hex("1")); // as if "1" had been sent before
    await assert.rejects(new OwtClient(fake.url + route, { codes }).run("1"), (err) => {
      assert.ok(err instanceof OwtError && !isUnknownCode(err.status, err.body));
      return true;
    });
    assert.deepStrictEqual(modes(fake.seen), ["digest"]);
  });
}

test("byDigest false always sends the code", async () => {
  const client = new OwtClient(fake.url + "/store", { byDigest: false });
  for (let n = 0; n < 3; n++) assert.equal((await client.run(CODE, { n })).mode, "full");
});

test("one memory shared by two clients", async () => {
  const codes = new CodeMemory();
  await new OwtClient(fake.url + "/store", { codes }).run(CODE, { n: 1 });
  const other = new OwtClient(fake.url + "/store?x=1", { codes, method: "GET" });
  assert.equal((await other.run(CODE, { n: 2 })).mode, "digest");
});

test("streams go by digest too", async () => {
  const client = new OwtClient(fake.url + "/store/stream");
  const first = [];
  for await (const d of client.stream(CODE)) first.push(d);
  const second = [];
  for await (const d of client.stream(CODE)) second.push(d);
  assert.deepStrictEqual([first, second], [["full"], ["digest"]]);
});

test("isUnknownCode", () => {
  const body = JSON.stringify({ error: "unknown code_sha256", code_sha256: "00" });
  assert.ok(isUnknownCode(404, body));
  assert.ok(!isUnknownCode(400, body));
  assert.ok(!isUnknownCode(404, "no such adaptor"));
  assert.ok(!isUnknownCode(404, '{"error": "other"}'));
  assert.ok(!isUnknownCode(404, "{not json"));
});
