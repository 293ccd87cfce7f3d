import { describe, expect, it } from "vitest";
import { readEvents, SSEParser } from "./sse";

/** Every event of a whole stream given in chunks (its end decides a trailing CR). */
function all(parser: SSEParser, chunks: string[]) {
  return [...chunks.flatMap((chunk) => parser.push(chunk)), ...parser.end()];
}

describe("SSEParser", () => {
  it("parses events with names, ids and multi-line data", () => {
    const events = all(new SSEParser(), ['event: job_progress\nid: 1\ndata: {"a":\ndata: 1}\n\n: keep-alive\n\ndata: x\n\n']);
    expect(events).toEqual([
      { event: "job_progress", data: '{"a":\n1}', id: "1" },
      { event: "message", data: "x", id: "1" },
    ]);
  });

  it("assembles an event split at every possible place", () => {
    const text = 'event: snapshot\r\nid: 7\r\ndata: {"jobs": []}\r\n\r\nevent: job_ended\rdata: {"job": 1}\r\r';
    const whole = all(new SSEParser(), [text]);
    expect(whole).toHaveLength(2);
    for (let cut = 1; cut < text.length; cut++) {
      expect(all(new SSEParser(), [text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    }
    expect(all(new SSEParser(), text.split(""))).toEqual(whole);
  });

  it("waits for the LF after a CR that ends a chunk", () => {
    const parser = new SSEParser();
    expect(parser.push("data: a\r")).toEqual([]);
    expect(parser.push("\n")).toEqual([]);
    expect(parser.push("\r")).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "message", data: "a", id: null }]);
  });

  it("drops an event the stream cut before its blank line", () => {
    const parser = new SSEParser();
    expect(parser.push("data: partial\n")).toEqual([]);
    expect(parser.end()).toEqual([]);
  });

  it("ignores a byte-order mark and fields it does not know", () => {
    expect(all(new SSEParser(), ["\ufeffretry: 10\nfoo\ndata:no-space\n\n"])).toEqual([
      { event: "message", data: "no-space", id: null },
    ]);
  });
});

describe("readEvents", () => {
  it("decodes a multi-byte character split between two chunks", async () => {
    const bytes = new TextEncoder().encode('event: job_progress\ndata: {"name": "café ✓"}\n\n');
    const cut = bytes.indexOf(0xc3) + 1; // inside the "é"
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, cut));
        controller.enqueue(bytes.slice(cut));
        controller.close();
      },
    });
    const seen: string[] = [];
    await readEvents(body, (message) => seen.push(message.data));
    expect(seen).toEqual(['{"name": "café ✓"}']);
  });
});
