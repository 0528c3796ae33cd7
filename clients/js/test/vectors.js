import { readFileSync } from "node:fs";

import { sha256Hex } from "../dist/index.js";

export const vectors = JSON.parse(
  readFileSync(new URL("../../vectors.json", import.meta.url), "utf8"),
);

export const signing = JSON.parse(
  readFileSync(new URL("../../signing.json", import.meta.url), "utf8"),
);

/** The encoder's inputs for a case (by_digest: the code's SHA-256 in codeSha256). */
export async function inputsOf(c) {
  return {
    code: c.code,
    codeSha256: c.by_digest ? await sha256Hex(c.code) : undefined,
    codeSig: c.code_sig,
    kwargs: c.kwargs,
    fnName: c.fn_name,
    adaptor: c.adaptor,
    useCache: c.use_cache,
    cacheKwargs: c.cache_kwargs,
  };
}
