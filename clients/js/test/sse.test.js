import assert from "node:assert/strict";
import { test } from "node:test";

import { SseParser } from "../dist/index.js";

const STREAM =
  "\ufeff: a comment\r\n" +
  "data: one\n\n" +
  "event: tick\r\nid: 7\r\ndata: two\r\ndata:  lines\r\n\r\n" +
  "retry: 100\rdata\r\r" +
  "id\nevent: ignored-without-data\n\n" +
  "data: x\n" +
  "unknown: field\n" +
  "data:y\n\n" +
  "data: unterminated";

const EXPECTED = [
  { event: "message", data: "one", id: null },
  { event: "tick", data: "two\n lines", id: "7" },
  { event: "message", data: "", id: "7" },
  { event: "message", data: "x\ny", id: "" },
];

function feedAll(pieces) {
  const parser = new SseParser();
  const events = [];
  for (const piece of pieces) events.push(...parser.feed(piece));
  return [...events, ...parser.finish()];
}

test("whole stream", () => assert.deepStrictEqual(feedAll([STREAM]), EXPECTED));

test("every two-way split", () => {
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepStrictEqual(feedAll([STREAM.slice(0, i), STREAM.slice(i)]), EXPECTED, `split at ${i}`);
  }
});

test("one character at a time", () => assert.deepStrictEqual(feedAll([...STREAM]), EXPECTED));

test("a trailing \\r ends its line at the end of the stream", () => {
  const parser = new SseParser();
  assert.deepStrictEqual(parser.feed("data: a\n\r"), []);
  assert.deepStrictEqual(parser.finish(), [{ event: "message", data: "a", id: null }]);
});

test("an event is returned as soon as it is complete", () => {
  const parser = new SseParser();
  assert.deepStrictEqual(parser.feed("data: a\n"), []);
  assert.deepStrictEqual(parser.feed("\n"), [{ event: "message", data: "a", id: null }]);
});
