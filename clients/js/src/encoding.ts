/**
 * The canonical request encoding shared by every owt client (clients/README.md).
 * Pure functions over Web APIs only (TextEncoder, btoa): the same code runs in Node and
 * in browsers, and the unit tests check it byte for byte against clients/vectors.json.
 */

/** What one call sends; absent, null, empty strings and false mean "not sent". */
export interface CallInputs {
  /** Python source to run. */
  code?: string | null;
  /**
   * The hex SHA-256 of the code's UTF-8 bytes (`sha256Hex(code)`): sent as `code_sha256`
   * instead of the code itself, for a server that has seen the code.
   */
  codeSha256?: string | null;
  /** The base64 Ed25519 signature of the code's UTF-8 bytes (`code_sig`), sent as it is. */
  codeSig?: string | null;
  /** Any JSON value; undefined, null and {} mean no kwargs. A non-object arrives as `__last__`. */
  kwargs?: unknown;
  /** The callable to run (server default `run`). */
  fnName?: string | null;
  /** A named adaptor on the server, `module` or `module.function`. */
  adaptor?: string | null;
  useCache?: boolean | null;
  cacheKwargs?: boolean | null;
}

export type FieldName =
  | "code_b64" | "code_sha256" | "code_sig" | "kwargs_b64" | "fn_name" | "adaptor" | "use_cache" | "cache_kwargs";
export type Field = [FieldName, string | true];

export const FIELD_ORDER: readonly FieldName[] = [
  "code_b64", "code_sha256", "code_sig", "kwargs_b64", "fn_name", "adaptor", "use_cache", "cache_kwargs",
];

const utf8 = new TextEncoder();

/** Standard base64 (padding kept, no line breaks) of bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

/** Whether this runtime has Web Crypto's SHA-256 (browsers in secure contexts, Node 19+). */
export function hasSha256(): boolean {
  return typeof globalThis.crypto?.subtle?.digest === "function";
}

/** The lower-case hex SHA-256 of text's UTF-8 bytes (or of bytes): a `code_sha256`. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  if (!hasSha256()) throw new TypeError("no Web Crypto here (crypto.subtle): cannot compute code_sha256");
  const bytes = typeof data === "string" ? utf8.encode(data) : new Uint8Array(data);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Standard base64 of the UTF-8 bytes of text. */
export function utf8ToBase64(text: string): string {
  return bytesToBase64(utf8.encode(text));
}

/**
 * The compact JSON text of a kwargs value (no spaces, non-ASCII as itself): what
 * Python's json.dumps(v, separators=(",", ":"), ensure_ascii=False) writes.
 * Throws a TypeError for NaN/Infinity, which Python refuses too.
 */
export function compactJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "number" && !Number.isFinite(v)) {
      throw new TypeError(`kwargs cannot hold ${v}: JSON has no such number`);
    }
    return v;
  });
  if (text === undefined) {
    throw new TypeError(`kwargs must be a JSON value, not ${typeof value}`);
  }
  return text;
}

/** Percent-encode the UTF-8 of text, keeping only RFC 3986 unreserved characters. */
export function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** The request fields of a call, in canonical order. */
export function encodeFields(inputs: CallInputs): Field[] {
  const fields: Field[] = [];
  if (inputs.codeSha256) {
    fields.push(["code_sha256", inputs.codeSha256]);
  } else if (inputs.code) {
    fields.push(["code_b64", utf8ToBase64(inputs.code)]);
  }
  if (inputs.codeSig) fields.push(["code_sig", inputs.codeSig]);
  if (inputs.kwargs !== undefined && inputs.kwargs !== null) {
    const text = compactJson(inputs.kwargs);
    if (text !== "{}") {
      fields.push(["kwargs_b64", utf8ToBase64(text)]);
    }
  }
  if (inputs.fnName) fields.push(["fn_name", inputs.fnName]);
  if (inputs.adaptor) fields.push(["adaptor", inputs.adaptor]);
  if (inputs.useCache) fields.push(["use_cache", true]);
  if (inputs.cacheKwargs) fields.push(["cache_kwargs", true]);
  return fields;
}

/** The query string (no leading "?") of fields. */
export function queryFromFields(fields: Field[]): string {
  return fields
    .map(([name, value]) => name + "=" + percentEncode(value === true ? "true" : value))
    .join("&");
}

/** The GET query string of a call. */
export function encodeQuery(inputs: CallInputs): string {
  return queryFromFields(encodeFields(inputs));
}

/** The POST JSON body of a call, as an object. */
export function encodeJson(inputs: CallInputs): Partial<Record<FieldName, string | boolean>> {
  const body: Partial<Record<FieldName, string | boolean>> = {};
  for (const [name, value] of encodeFields(inputs)) body[name] = value;
  return body;
}

/** url with query appended after "?" (or "&" when url already has a query). */
export function withQuery(url: string, query: string): string {
  if (!query) return url;
  return url + (url.includes("?") ? "&" : "?") + query;
}
