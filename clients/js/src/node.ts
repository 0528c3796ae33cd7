/**
 * owt-client/node: what only Node can do. Signing code with an Ed25519 private key
 * (node:crypto), for servers run with `--require-signed`:
 *
 *   import { OwtClient } from "owt-client";
 *   import { ed25519Signer } from "owt-client/node";
 *   const owt = new OwtClient(url, { signer: ed25519Signer("key.pem") });
 *
 * The signatures are those `owt-fcgi --sign FILE --key PEM` and
 * `openssl pkeyutl -sign -rawin` give (Ed25519 is deterministic).
 */

import { createPrivateKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";

import type { Signer } from "./client.js";

/**
 * A signer for a PEM Ed25519 private key: the key's text, its bytes, or the path of its
 * file. Throws a TypeError for anything else (a public key, another algorithm).
 */
export function ed25519Signer(key: string | Uint8Array): Signer {
  const pem = typeof key === "string" && !key.includes("-----BEGIN") ? readFileSync(key) : key;
  let privateKey;
  try {
    privateKey = createPrivateKey(typeof pem === "string" ? pem : new TextDecoder().decode(pem));
  } catch (err) {
    throw new TypeError(`not a PEM private key: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new TypeError(`a ${privateKey.asymmetricKeyType} key, not Ed25519 (openssl genpkey -algorithm ed25519)`);
  }
  return (code: Uint8Array) => sign(null, code, privateKey).toString("base64");
}
