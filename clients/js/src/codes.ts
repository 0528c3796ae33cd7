/**
 * Which code the server already has: a client sends code in full once, then by digest.
 *
 * PROTOCOL.md §2: `code_sha256` names code the server has seen. A server that does not
 * have it (never sent, evicted, or keeping no code store) answers 404 with the JSON body
 * `{"error": "unknown code_sha256", ...}`; the client then sends the code in full again. A
 * server that forgets the same code twice in a row keeps none (or too little to matter):
 * for that code the client stops trying the digest.
 */

/** The `error` of the 404 that asks for the code in full. */
export const UNKNOWN_CODE = "unknown code_sha256";

const GIVE_UP_AFTER = 2;

/** Whether a response (status and body text) is the server's "unknown code_sha256" 404. */
export function isUnknownCode(status: number | null, body: string): boolean {
  if (status !== 404 || !body.trimStart().startsWith("{")) return false;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === "object" && value !== null && (value as { error?: unknown }).error === UNKNOWN_CODE;
  } catch {
    return false;
  }
}

/** Digests one server has, as far as the clients sharing this memory know. */
export class CodeMemory {
  private readonly known = new Set<string>();
  private readonly misses = new Map<string, number>();

  /** True when the next call of this code may go by digest. */
  has(digest: string): boolean {
    return this.known.has(digest);
  }

  /** The code went in full and the server answered 2xx: it has it now. */
  sent(digest: string): void {
    if ((this.misses.get(digest) ?? 0) < GIVE_UP_AFTER) this.known.add(digest);
  }

  /** A call by digest was answered: the server keeps this code. */
  worked(digest: string): void {
    this.misses.delete(digest);
  }

  /** The server answered "unknown code_sha256": send the code in full next. */
  unknown(digest: string): void {
    this.known.delete(digest);
    this.misses.set(digest, (this.misses.get(digest) ?? 0) + 1);
  }

  /** Forget everything (e.g. after pointing the client at another server). */
  forget(): void {
    this.known.clear();
    this.misses.clear();
  }
}
