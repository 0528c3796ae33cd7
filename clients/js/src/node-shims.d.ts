// The few node: declarations src/node.ts uses, so the package needs no @types/node (and the
// rest of src/ keeps seeing Web APIs only).
declare module "node:crypto" {
  interface KeyObject {
    readonly asymmetricKeyType?: string;
  }
  function createPrivateKey(key: string): KeyObject;
  function sign(algorithm: null, data: Uint8Array, key: KeyObject): { toString(encoding: "base64"): string };
}

declare module "node:fs" {
  function readFileSync(path: string): Uint8Array;
}
