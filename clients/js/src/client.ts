/**
 * The HTTP side of the JS client: send one encoded call with fetch, decode its response.
 * Web APIs only (fetch, ReadableStream, TextDecoder), so it runs in Node 18+ and browsers.
 */

import { CodeMemory, isUnknownCode } from "./codes.js";
import {
  CallInputs,
  Field,
  encodeFields,
  hasSha256,
  queryFromFields,
  sha256Hex,
  utf8ToBase64,
  withQuery,
} from "./encoding.js";
import { SseEvent, SseParser } from "./sse.js";

export type Method = "GET" | "POST" | "PUT";
export type Auth = { user: string; password: string } | [user: string, password: string];
/** Signs a code's UTF-8 bytes: the base64 Ed25519 signature (`code_sig`). See owt-client/node. */
export type Signer = (code: Uint8Array) => string | Promise<string>;

export interface ClientOptions {
  /** Basic auth credentials. */
  auth?: Auth;
  /** Default method: "POST" sends a JSON body (default), "GET" a query string. */
  method?: Method;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /**
   * Send a code in full on its first call and by its SHA-256 (`code_sha256`) afterwards,
   * resending it in full, once, when the server answers that it does not have it
   * (default true; needs Web Crypto, else the code always goes in full).
   */
  byDigest?: boolean;
  /** What the server has, as far as this client knows; share one between clients of a server. */
  codes?: CodeMemory;
  /** Signs every code sent (`code_sig`), for servers run with --require-signed. */
  signer?: Signer;
}

export interface CallOptions {
  fnName?: string;
  useCache?: boolean;
  cacheKwargs?: boolean;
  method?: Method;
  /** Appended to the client's URL path (the adaptor sees it as request.path). */
  path?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** Anything a call can return: text, parsed JSON, or bytes. */
export type OwtResult = unknown;

/**
 * A call that did not succeed. `status` is the HTTP status (null when no response
 * arrived; the stream's own status, usually 200, for an `event: error` frame) and
 * `message` the server's text, e.g. `Error executing code: ValueError: boom`.
 */
export class OwtError extends Error {
  readonly status: number | null;
  readonly body: string;
  readonly headers: Headers | null;

  constructor(status: number | null, message: string, body = "", headers: Headers | null = null) {
    super(message);
    this.name = "OwtError";
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

interface MediaType {
  media: string | null;
  charset: string;
}

function mediaType(headers: Headers): MediaType {
  const raw = headers.get("content-type");
  if (!raw) return { media: null, charset: "utf-8" };
  const [media, ...params] = raw.split(";");
  let charset = "utf-8";
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq > 0 && param.slice(0, eq).trim().toLowerCase() === "charset") {
      charset = param.slice(eq + 1).trim().replace(/^"|"$/g, "") || "utf-8";
    }
  }
  return { media: media.trim().toLowerCase(), charset };
}

function decoder(charset: string): TextDecoder {
  try {
    return new TextDecoder(charset);
  } catch {
    return new TextDecoder("utf-8");
  }
}

function isJson(media: string | null): boolean {
  return media !== null && (media === "application/json" || media.endsWith("+json"));
}

/**
 * A response body as a value: string for text/*, parsed JSON for JSON, Uint8Array
 * otherwise; null for an empty body without a Content-Type.
 */
export async function decodeResponse(response: Response): Promise<OwtResult> {
  const { media, charset } = mediaType(response.headers);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (media === null) return bytes.length === 0 ? null : bytes;
  if (media.startsWith("text/")) return decoder(charset).decode(bytes);
  if (isJson(media)) return bytes.length === 0 ? null : JSON.parse(decoder(charset).decode(bytes));
  return bytes;
}

async function errorFrom(response: Response): Promise<OwtError> {
  const { charset } = mediaType(response.headers);
  let body = "";
  try {
    body = decoder(charset).decode(new Uint8Array(await response.arrayBuffer()));
  } catch {
    body = "";
  }
  const message = body.trim() || response.statusText || `HTTP ${response.status}`;
  return new OwtError(response.status, message, body, response.headers);
}

async function* byteChunks(response: Response): AsyncGenerator<Uint8Array, void, undefined> {
  if (response.body === null) return;
  const reader = response.body.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      if (next.value.length > 0) yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

function checked(event: SseEvent, status: number, headers: Headers): SseEvent {
  if (event.event === "error") throw new OwtError(status, event.data, event.data, headers);
  return event;
}

async function* parseEvents(response: Response): AsyncGenerator<SseEvent, void, undefined> {
  const text = decoder(mediaType(response.headers).charset);
  const parser = new SseParser();
  for await (const chunk of byteChunks(response)) {
    for (const event of parser.feed(text.decode(chunk, { stream: true }))) {
      yield checked(event, response.status, response.headers);
    }
  }
  for (const event of [...parser.feed(text.decode()), ...parser.finish()]) {
    yield checked(event, response.status, response.headers);
  }
}

const utf8 = new TextEncoder();

/** A client for one owt endpoint URL (its path is what the adaptor sees as request.path). */
export class OwtClient {
  readonly url: string;
  private readonly options: ClientOptions;

  constructor(url: string, options: ClientOptions = {}) {
    this.url = url;
    this.options = { ...options };
  }

  /** Run code with kwargs (any JSON value); resolves to a string, parsed JSON or bytes. */
  run(code: string, kwargs?: unknown, options: CallOptions = {}): Promise<OwtResult> {
    return this.call({ code, kwargs, ...options }, options);
  }

  /** Call a named adaptor on the server (`module` or `module.function`). */
  adaptor(name: string, kwargs?: unknown, options: CallOptions = {}): Promise<OwtResult> {
    return this.call({ adaptor: name, kwargs, ...options }, options);
  }

  /**
   * Run code and iterate its response as it arrives: each event's data (a string) for
   * text/event-stream, raw Uint8Array chunks otherwise. An `event: error` frame throws an
   * OwtError; breaking out of the loop closes the connection.
   */
  async *stream(
    code: string,
    kwargs?: unknown,
    options: CallOptions = {},
  ): AsyncGenerator<string | Uint8Array, void, undefined> {
    const response = await this.open({ code, kwargs, ...options }, options);
    if (mediaType(response.headers).media === "text/event-stream") {
      for await (const event of parseEvents(response)) yield event.data;
    } else {
      yield* byteChunks(response);
    }
  }

  /** Run code and iterate its event stream as whole events: type, data and id. */
  async *events(code: string, kwargs?: unknown, options: CallOptions = {}): AsyncGenerator<SseEvent, void, undefined> {
    const response = await this.open({ code, kwargs, ...options }, options);
    yield* parseEvents(response);
  }

  /**
   * The GET URL of a call, for `new EventSource(url)`, a link or an <img>. The code goes in
   * full (a signature only when given as `codeSig`: a signer may be asynchronous).
   */
  eventSourceUrl(code: string, kwargs?: unknown, options: CallOptions & { codeSig?: string } = {}): string {
    return withQuery(this.urlFor(options.path), queryFromFields(encodeFields({ code, kwargs, ...options })));
  }

  /** One call with every input; resolves to a string, parsed JSON or bytes. */
  async call(inputs: CallInputs, options: CallOptions = {}): Promise<OwtResult> {
    return decodeResponse(await this.open(inputs, options));
  }

  /**
   * Send one call; resolves to the response once its headers are in (2xx only). Code goes
   * by digest when the server has it (see ClientOptions.byDigest), signed with the signer.
   */
  async open(inputs: CallInputs, options: CallOptions = {}): Promise<Response> {
    if (!inputs.code || inputs.codeSha256) return this.send(inputs, options);
    const bytes = utf8.encode(inputs.code);
    const signer = this.options.signer;
    const codeSig = inputs.codeSig ?? (signer ? await signer(bytes) : undefined);
    const digest = (this.options.byDigest ?? true) && hasSha256() ? await sha256Hex(bytes) : null;
    if (digest !== null && this.codes.has(digest)) {
      try {
        const response = await this.send({ ...inputs, codeSha256: digest, codeSig }, options);
        this.codes.worked(digest);
        return response;
      } catch (err) {
        if (!(err instanceof OwtError && isUnknownCode(err.status, err.body))) throw err;
        this.codes.unknown(digest);
      }
    }
    const response = await this.send({ ...inputs, codeSig }, options);
    if (digest !== null) this.codes.sent(digest);
    return response;
  }

  /** What this client knows the server has (ClientOptions.codes, or its own). */
  get codes(): CodeMemory {
    this.options.codes ??= new CodeMemory();
    return this.options.codes;
  }

  /** Send the fields of inputs as they are. */
  private async send(inputs: CallInputs, options: CallOptions): Promise<Response> {
    const fields = encodeFields(inputs);
    const { url, init } = this.request(fields, options);
    const doFetch = this.options.fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await doFetch(url, init);
    } catch (err) {
      if (err instanceof Error && err.name === "AbortError") throw err;
      const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      throw new OwtError(null, `cannot reach ${url}: ${reason}`);
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  private urlFor(path?: string): string {
    if (!path) return this.url;
    const q = this.url.indexOf("?");
    const base = q < 0 ? this.url : this.url.slice(0, q);
    const query = q < 0 ? "" : this.url.slice(q);
    return base.replace(/\/+$/, "") + "/" + path.replace(/^\/+/, "") + query;
  }

  private request(fields: Field[], options: CallOptions): { url: string; init: RequestInit } {
    const method = (options.method ?? this.options.method ?? "POST").toUpperCase();
    const headers: Record<string, string> = { Accept: "*/*", ...this.options.headers, ...options.headers };
    const auth = this.options.auth;
    if (auth) {
      const [user, password] = Array.isArray(auth) ? auth : [auth.user, auth.password];
      headers["Authorization"] = "Basic " + utf8ToBase64(`${user}:${password}`);
    }
    let url = this.urlFor(options.path);
    const init: RequestInit = { method, headers, signal: options.signal };
    if (method === "GET") {
      url = withQuery(url, queryFromFields(fields));
    } else {
      const body: Record<string, string | boolean> = {};
      for (const [name, value] of fields) body[name] = value;
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return { url, init };
  }
}
