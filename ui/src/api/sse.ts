// Server-sent events read from a fetch() body (EventSource cannot send the Authorization header),
// parsed as the HTML standard says: lines end in CRLF, LF or CR, and a chunk may end anywhere, even
// between the CR and the LF or inside a multi-byte character.

export interface SSEMessage {
  event: string;
  data: string;
  id: string | null;
}

export class SSEParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private lastId: string | null = null;
  private started = false;

  /** Feed decoded text; returns the events completed by it. */
  push(text: string): SSEMessage[] {
    this.buffer += text;
    if (!this.started && this.buffer.length) {
      if (this.buffer.charCodeAt(0) === 0xfeff) this.buffer = this.buffer.slice(1);
      this.started = true;
    }
    const out: SSEMessage[] = [];
    let start = 0;
    for (;;) {
      let end = -1;
      for (let i = start; i < this.buffer.length; i++) {
        const c = this.buffer[i];
        if (c === "\n" || c === "\r") {
          end = i;
          break;
        }
      }
      if (end < 0) break;
      let next = end + 1;
      if (this.buffer[end] === "\r") {
        if (next === this.buffer.length) break; // a CR at the end: wait to see whether an LF follows
        if (this.buffer[next] === "\n") next += 1;
      }
      const message = this.line(this.buffer.slice(start, end));
      if (message) out.push(message);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** The stream ended: a trailing lone CR ends its line; an event without its blank line is dropped. */
  end(): SSEMessage[] {
    const out: SSEMessage[] = [];
    if (this.buffer.endsWith("\r")) {
      const message = this.line(this.buffer.slice(0, -1));
      if (message) out.push(message);
    }
    this.buffer = "";
    this.data = [];
    this.event = "";
    return out;
  }

  private line(line: string): SSEMessage | null {
    if (line === "") {
      const data = this.data;
      const event = this.event || "message";
      this.data = [];
      this.event = "";
      if (!data.length) return null;
      return { event, data: data.join("\n"), id: this.lastId };
    }
    if (line.startsWith(":")) return null; // a comment: the keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
    return null;
  }
}

/** Read a response body to its end, calling onMessage for each event. */
export async function readEvents(body: ReadableStream<Uint8Array>, onMessage: (message: SSEMessage) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8");
  const parser = new SSEParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const message of parser.push(decoder.decode(value, { stream: true }))) onMessage(message);
    }
    for (const message of parser.push(decoder.decode())) onMessage(message);
    for (const message of parser.end()) onMessage(message);
  } finally {
    reader.releaseLock();
  }
}
