/**
 * owt-client: call Python code on an owt server over HTTP, from Node 18+ and browsers.
 *
 *   const owt = new OwtClient("http://localhost:8080/hello");
 *   await owt.run('def run(name):\n    return f"Hello, {name}!"\n', { name: "owt" });
 */

export {
  OwtClient,
  OwtError,
  decodeResponse,
  type Auth,
  type CallOptions,
  type ClientOptions,
  type Method,
  type OwtResult,
  type Signer,
} from "./client.js";
export { CodeMemory, UNKNOWN_CODE, isUnknownCode } from "./codes.js";
export {
  FIELD_ORDER,
  bytesToBase64,
  compactJson,
  encodeFields,
  encodeJson,
  encodeQuery,
  hasSha256,
  percentEncode,
  queryFromFields,
  sha256Hex,
  utf8ToBase64,
  withQuery,
  type CallInputs,
  type Field,
  type FieldName,
} from "./encoding.js";
export { SseParser, type SseEvent } from "./sse.js";
