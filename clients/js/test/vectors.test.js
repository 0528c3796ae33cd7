import assert from "node:assert/strict";
import { test } from "node:test";

import { FIELD_ORDER, compactJson, encodeJson, encodeQuery, sha256Hex, utf8ToBase64 } from "../dist/index.js";
import { inputsOf, vectors } from "./vectors.js";

test("vectors are well formed", () => {
  const names = vectors.map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.length >= 20);
});

for (const c of vectors) {
  test(`query: ${c.name}`, async () => {
    assert.equal(encodeQuery(await inputsOf(c)), c.expected.query);
  });
  test(`json: ${c.name}`, async () => {
    const body = encodeJson(await inputsOf(c));
    assert.deepStrictEqual(body, c.expected.json);
    assert.deepStrictEqual(Object.keys(body), FIELD_ORDER.filter((k) => k in body));
  });
}

test("base64 does not depend on Buffer", () => {
  const saved = globalThis.Buffer;
  globalThis.Buffer = undefined;
  try {
    assert.equal(utf8ToBase64("Gr\u00fc\u00dfe \u{1f30d}"), "R3LDvMOfZSDwn4yN");
    assert.equal(utf8ToBase64("x".repeat(100000)).length, 133336);
  } finally {
    globalThis.Buffer = saved;
  }
});

test("non-JSON kwargs are refused", () => {
  assert.throws(() => compactJson({ v: NaN }), TypeError);
  assert.throws(() => compactJson(() => 1), TypeError);
  assert.equal(encodeQuery({ code: "x", kwargs: undefined }), "code_b64=eA%3D%3D");
});

test("the built library uses Web APIs only", async () => {
  const { readdirSync, readFileSync } = await import("node:fs");
  const dist = new URL("../dist/", import.meta.url);
  // node.js is the owt-client/node entry point: Node's crypto, on purpose.
  for (const name of readdirSync(dist).filter((n) => n.endsWith(".js") && n !== "node.js")) {
    const text = readFileSync(new URL(name, dist), "utf8");
    assert.doesNotMatch(text, /\bBuffer\b|\bprocess\.|from "node:|require\(/, name);
  }
});

test("sha256Hex is the hex SHA-256 of the UTF-8 bytes", async () => {
  assert.equal(await sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(await sha256Hex(new Uint8Array([0x61, 0x62, 0x63])), await sha256Hex("abc"));
  assert.equal(await sha256Hex("\u00fc"), "607474ca475a9724d7360aba71a56d5df77e61350e3f724cfa1f46e857e2d85f");
});
