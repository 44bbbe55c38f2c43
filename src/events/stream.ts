// One Server-Sent Events stream of the feed (docs/events.md#streams). It reads from the table
// whenever the bus wakes it and writes what it found; it is the only reader of its own cursor.
//
// A slow or stuck reader never holds anything up: the stream reads the next batch only when the
// socket has taken the last one (write() answered true, or 'drain'), so at most one batch waits
// in memory; writers never wait for readers (the bus only sets a flag); and a reader that has not
// taken a batch for `stallMs` is disconnected — it resumes from its Last-Event-ID, which is the
// cursor of the last event it did receive.
import type { ServerResponse } from "node:http";
import { moment, type SingleFlight } from "../core/single-flight.js";
import type { Queryable } from "../db/index.js";
import type { EventBus } from "./bus.js";
import { type Cursor, encodeCursor, type FeedPage, type FeedScope, readFeed } from "./feed.js";

export interface StreamOptions {
  db: Queryable;
  bus: EventBus;
  scope: FeedScope;
  /** Where to start: just after this event. */
  start: Cursor;
  retentionDays: number;
  heartbeatMs: number;
  /**
   * Asked after each batch is read and before it is sent: whether the caller may still read
   * (rule 9). Asked after the read, so that a batch holding the caller's own removal is never sent.
   */
  stillAllowed(): Promise<boolean>;
  /**
   * Where the streams of one server share their questions: streams woken by the same wake that
   * read the same scope from the same cursor make one read between them, and those of one caller
   * one check begun after that read (`callerKey` names the caller, the place and, for a person, the
   * session: whatever `stillAllowed` depends on). Without it, each stream asks alone.
   */
  shared?: { reads: SingleFlight<Batch>; checks: SingleFlight<boolean>; callerKey: string };
  batchSize?: number;
  stallMs?: number;
  onError(err: unknown): void;
}

/** A page of the feed and the moment its read ended: a check must begin after it. */
export interface Batch {
  page: FeedPage;
  readAt: number;
}

export class EventStream {
  private cursor: Cursor;
  private wanted = true;
  private reading = false;
  private closed = false;
  private unsubscribe: (() => void) | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private stall: NodeJS.Timeout | null = null;
  private readonly done: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: StreamOptions,
  ) {
    this.cursor = options.start;
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
  }

  /** Sends the headers, then events as they come; resolves when the stream has ended. */
  run(): Promise<void> {
    const { res } = this;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      // Proxies such as nginx would otherwise hold the events back.
      "x-accel-buffering": "no",
      "x-content-type-options": "nosniff",
    });
    res.write("retry: 2000\n: connected\n\n");
    res.on("close", () => this.close());
    this.unsubscribe = this.options.bus.subscribe(() => {
      this.wanted = true;
      void this.pump();
    });
    this.heartbeat = setInterval(() => {
      // Only into an empty buffer: a reader that is not reading gets nothing more.
      if (!res.writableNeedDrain) res.write(": heartbeat\n\n");
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
    void this.pump();
    return this.done;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.stall) clearTimeout(this.stall);
    if (!this.res.destroyed) this.res.end();
    this.finish();
  }

  /** Reads and sends until nothing new is left; one pump at a time. */
  private async pump(): Promise<void> {
    if (this.reading || this.closed) return;
    this.reading = true;
    try {
      const size = this.options.batchSize ?? 100;
      while (this.wanted && !this.closed) {
        this.wanted = false;
        const { page, readAt } = await this.read(size);
        if (!(await this.ask(readAt))) {
          this.close();
          return;
        }
        const { items, next } = page;
        if (items.length === 0) break;
        let text = "";
        for (const e of items) {
          const { cursor, ...event } = e;
          text += `id: ${cursor}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
        }
        if (next) this.cursor = next;
        // A full batch: there may be more behind it.
        if (items.length === size) this.wanted = true;
        if (!this.res.write(text)) await this.drained();
      }
    } catch (err) {
      this.options.onError(err);
      this.close();
    } finally {
      this.reading = false;
    }
  }

  /** Whether the caller may still read, asked after `readAt`: once for all of its streams. */
  private ask(readAt: number): Promise<boolean> {
    const { shared, stillAllowed } = this.options;
    if (!shared) return stillAllowed();
    return shared.checks.run(shared.callerKey, stillAllowed, readAt);
  }

  /** The next batch from the cursor: read once per wake for every stream at the same place. */
  private read(size: number): Promise<Batch> {
    const { db, scope, retentionDays, shared } = this.options;
    const cursor = this.cursor;
    const read = async () => {
      const page = await readFeed(db, scope, cursor, size, retentionDays);
      return { page, readAt: moment() };
    };
    if (!shared) return read();
    const key = [
      scope.orgId ?? "*",
      scope.types.join(","),
      encodeCursor(cursor),
      size,
      this.options.bus.generation,
    ];
    return shared.reads.run(key.join(" "), read);
  }

  /** Waits for the socket to take what it holds; a reader that does not within stallMs is cut off. */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const onDrain = () => {
        if (this.stall) clearTimeout(this.stall);
        resolve();
      };
      this.res.once("drain", onDrain);
      this.stall = setTimeout(() => {
        this.res.off("drain", onDrain);
        this.res.destroy();
        this.close();
        resolve();
      }, this.options.stallMs ?? 30_000);
      this.stall.unref();
    });
  }
}
