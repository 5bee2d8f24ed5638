/**
 * A small EventSource over fetch, for runtimes without one (Bun, Node, React Native) and for
 * clients that authenticate with a header: the browser's EventSource cannot set headers. It
 * follows the parts of the server-sent events spec that tRPC's subscription link uses: named
 * events, `data`, `id` (sent back as Last-Event-ID), `retry`, reconnecting after a dropped stream,
 * and giving up (CLOSED) on an answer that is not a 200 event stream.
 */

export interface FetchEventSourceInit {
  withCredentials?: boolean;
  /** Headers for every (re)connection, e.g. `authorization`; a function is called each time. */
  headers?: Record<string, string> | (() => Record<string, string>);
  fetch?: typeof fetch;
}

interface StreamEvent {
  type: string;
  data: string;
  lastEventId: string;
}

type Listener = (event: StreamEvent) => void;

export class FetchEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSED = 2;
  readyState = 0;
  readonly withCredentials: boolean;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #abort = new AbortController();
  #lastEventId = "";
  #retryMs = 1_000;

  constructor(
    readonly url: string,
    private readonly init: FetchEventSourceInit = {},
  ) {
    this.withCredentials = init.withCredentials ?? false;
    void this.#run();
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.get(type)?.delete(listener);
  }

  close(): void {
    this.readyState = this.CLOSED;
    this.#abort.abort();
  }

  #dispatch(event: StreamEvent): void {
    for (const listener of [...(this.#listeners.get(event.type) ?? [])]) listener(event);
  }

  async #run(): Promise<void> {
    const fetchImpl = this.init.fetch ?? fetch;
    while (this.readyState !== this.CLOSED) {
      try {
        const headers = typeof this.init.headers === "function" ? this.init.headers() : (this.init.headers ?? {});
        const response = await fetchImpl(this.url, {
          headers: { accept: "text/event-stream", ...headers, ...(this.#lastEventId ? { "last-event-id": this.#lastEventId } : {}) },
          credentials: this.withCredentials ? "include" : "same-origin",
          signal: this.#abort.signal,
        });
        if (!response.ok || !response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
          // The spec's "fail the connection": no retry for an answer that is not a stream.
          await response.body?.cancel().catch(() => {});
          this.readyState = this.CLOSED;
          this.#dispatch({ type: "error", data: `${response.status}`, lastEventId: this.#lastEventId });
          return;
        }
        this.readyState = this.OPEN;
        this.#dispatch({ type: "open", data: "", lastEventId: this.#lastEventId });
        await this.#read(response.body);
      } catch {
        // A network error or the abort from close(): reconnect unless closed.
      }
      if (this.readyState === this.CLOSED) return;
      this.readyState = this.CONNECTING;
      this.#dispatch({ type: "error", data: "", lastEventId: this.#lastEventId });
      await new Promise((resolve) => setTimeout(resolve, this.#retryMs));
    }
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    let type = "";
    let data: string[] = [];
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (data.length > 0) this.#dispatch({ type: type || "message", data: data.join("\n"), lastEventId: this.#lastEventId });
          type = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
        else if (field === "id" && !value.includes("\0")) this.#lastEventId = value;
        else if (field === "retry" && /^\d+$/.test(value)) this.#retryMs = Number(value);
      }
      if (this.readyState === this.CLOSED) return;
    }
  }
}
