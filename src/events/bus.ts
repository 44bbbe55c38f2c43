// Tells this server's event readers (the streams, the webhook worker) that events may have been
// committed: at once for this server's own commits (transact → wake), through PostgreSQL's
// LISTEN/NOTIFY for every other server's (recordAudit sends the NOTIFY inside the transaction,
// so it is delivered at commit and never for a rollback), and by a poll as the floor — a lost
// connection is caught within one poll. An event held back behind a longer transaction (feed.ts)
// is read again soon after: after each wake the bus asks once whether one is, and if so wakes
// its readers again in 5 ms, doubling up to a second, until none is. The table is the truth: a
// wake only says "read again".
import pg from "pg";
import type { Database } from "../db/index.js";
import { ACKS_CHANNEL, AckSignal } from "../replica/leases.js";

export const EVENTS_CHANNEL = "rollcall_events";
const RECHECK_FIRST_MS = 5;
const RECHECK_MAX_MS = 1000;

type Listener = () => void;

export interface EventBusLogger {
  warn(obj: object, msg: string): void;
}

export class EventBus {
  /** Replica clients' acknowledgements, here or (NOTIFY) at any server: fencing changes wait on it. */
  readonly acks = new AckSignal();
  private readonly listeners = new Set<Listener>();
  private client: pg.Client | null = null;
  private poll: NodeJS.Timeout | null = null;
  private stopped = false;
  private reconnect: NodeJS.Timeout | null = null;

  private wakes = 0;
  private checking = false;
  private recheck: NodeJS.Timeout | null = null;
  private recheckMs = RECHECK_FIRST_MS;

  constructor(
    private readonly database: Pick<Database, "kind" | "pool">,
    private readonly pollMs: number,
    private readonly logger: EventBusLogger,
    /** Whether a committed event waits behind a running transaction (feed.ts heldBack). */
    private readonly heldBack: () => Promise<boolean> = async () => false,
  ) {}

  /** Calls `listener` at each wake; answers the function that stops it. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }

  /**
   * Counts the wakes: readers woken by the same wake may share one read (stream.ts), and a read
   * begun before a wake is never taken for one after it.
   */
  get generation(): number {
    return this.wakes;
  }

  /** Events may have committed: every listener reads again (on the next turn of the loop). */
  wake(): void {
    if (this.listeners.size === 0) return;
    setImmediate(() => {
      this.wakes++;
      for (const listener of this.listeners) listener();
      this.checkHeldBack();
    });
  }

  /** After a wake: if an event is held back, wake again soon (one check, one timer at a time). */
  private checkHeldBack(): void {
    if (this.checking || this.recheck || this.stopped) return;
    this.checking = true;
    this.heldBack().then(
      (held) => {
        this.checking = false;
        if (this.stopped) return;
        if (!held) {
          this.recheckMs = RECHECK_FIRST_MS;
          return;
        }
        this.recheck = setTimeout(() => {
          this.recheck = null;
          this.wake();
        }, this.recheckMs);
        this.recheck.unref();
        this.recheckMs = Math.min(this.recheckMs * 2, RECHECK_MAX_MS);
      },
      (err: Error) => {
        this.checking = false;
        this.logger.warn({ error: err.message }, "could not ask whether events are held back");
      },
    );
  }

  async start(): Promise<void> {
    this.poll = setInterval(() => this.wake(), this.pollMs);
    this.poll.unref();
    if (this.database.kind === "postgres") await this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    if (this.reconnect) clearTimeout(this.reconnect);
    if (this.recheck) clearTimeout(this.recheck);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /** One connection of its own, LISTENing; made again a second after it is lost. */
  private async listen(): Promise<void> {
    const { connectionString } = this.database.pool.options;
    const client = new pg.Client({ connectionString, keepAlive: true, application_name: "rollcall-events" });
    const retry = (err: Error) => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn(
        { error: err.message },
        "event notifications lost; listening again in 1 s (polling meanwhile)",
      );
      this.reconnect = setTimeout(() => {
        this.listen().catch(() => undefined);
      }, 1000);
      this.reconnect.unref();
    };
    client.on("error", retry);
    client.on("notification", (message) => {
      if (message.channel === ACKS_CHANNEL) this.acks.notify();
      else this.wake();
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      await client.query(`LISTEN ${ACKS_CHANNEL}`);
      // Whatever committed while there was no listener is read now (and waiters look again).
      this.wake();
      this.acks.notify();
    } catch (err) {
      retry(err as Error);
    }
  }
}
