// Signing (code_sig) against clients/signing.json with owt-client/node's ed25519Signer,
// and a client with a signer signing every code it sends, by digest too.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, test } from "node:test";

import { OwtClient } from "../dist/index.js";
import { ed25519Signer } from "../dist/node.js";
import { fieldsOf, startFake } from "./fake-server.js";
import { signing } from "./vectors.js";

let fake;
beforeEach(async () => {
  if (fake) await fake.close();
  fake = await startFake();
});
after(async () => fake && fake.close());

const utf8 = new TextEncoder();

for (const c of signing.cases) {
  test(`signature: ${c.name}`, () => {
    assert.equal(ed25519Signer(signing.private_key_pem)(utf8.encode(c.code)), c.code_sig);
  });
}

test("the key from a file, or as bytes", () => {
  const dir = mkdtempSync(join(tmpdir(), "owt-sign-"));
  const path = join(dir, "key.pem");
  writeFileSync(path, signing.private_key_pem);
  const c = signing.cases[1];
  assert.equal(ed25519Signer(path)(utf8.encode(c.code)), c.code_sig);
  assert.equal(ed25519Signer(utf8.encode(signing.private_key_pem))(utf8.encode(c.code)), c.code_sig);
});

test("a public key is refused", () => {
  assert.throws(() => ed25519Signer(signing.public_key_pem), TypeError);
});

test("a client signs full and digest calls", async () => {
  const c = signing.cases[1];
  const client = new OwtClient(fake.url + "/store", { signer: ed25519Signer(signing.private_key_pem) });
  await client.run(c.code);
  await client.run(c.code);
  const [first, second] = fake.seen.map(fieldsOf);
  assert.equal(first.code_sig, c.code_sig);
  assert.ok(first.code_b64);
  assert.equal(second.code_sig, c.code_sig);
  assert.ok(second.code_sha256);
});
