/**
 * An incremental parser for text/event-stream, as the HTML living standard defines it.
 * Feed it decoded text in chunks of any size; it returns each event as soon as the blank
 * line that ends it has arrived.
 */

export interface SseEvent {
  /** The event type, "message" unless an `event:` field said otherwise. */
  event: string;
  data: string;
  /** The last event id seen so far, or null. */
  id: string | null;
}

const LINE_END = /\r\n|\r|\n/g;

export class SseParser {
  private buf = "";
  private data: string[] = [];
  private eventType = "";
  private lastId: string | null = null;
  private started = false;

  /** Consume text; return the events it completed. */
  feed(text: string): SseEvent[] {
    if (!this.started && text) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.buf += text;
    const events: SseEvent[] = [];
    let pos = 0;
    LINE_END.lastIndex = 0;
    for (;;) {
      const match = LINE_END.exec(this.buf);
      if (match === null) break;
      const end = match.index + match[0].length;
      if (match[0] === "\r" && end === this.buf.length) break; // maybe half of \r\n
      this.line(this.buf.slice(pos, match.index), events);
      pos = end;
    }
    this.buf = this.buf.slice(pos);
    return events;
  }

  /** End of stream: a trailing \r ends its line; an unterminated event is dropped. */
  finish(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.buf.endsWith("\r")) this.line(this.buf.slice(0, -1), events);
    this.buf = "";
    this.data = [];
    this.eventType = "";
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === "") {
      if (this.data.length > 0) {
        events.push({ event: this.eventType || "message", data: this.data.join("\n"), id: this.lastId });
      }
      this.data = [];
      this.eventType = "";
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "data") this.data.push(value);
    else if (name === "event") this.eventType = value;
    else if (name === "id" && !value.includes("\0")) this.lastId = value;
  }
}
