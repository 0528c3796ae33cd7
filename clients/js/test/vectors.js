import { readFileSync } from "node:fs";

export const vectors = JSON.parse(
  readFileSync(new URL("../../vectors.json", import.meta.url), "utf8"),
);

export function inputsOf(c) {
  return {
    code: c.code,
    kwargs: c.kwargs,
    fnName: c.fn_name,
    adaptor: c.adaptor,
    useCache: c.use_cache,
    cacheKwargs: c.cache_kwargs,
  };
}
