// @rollcall/client: permission checks in the host product's own process, from a replica of
// Rollcall's memberships and roles (docs/replica.md in the Rollcall repository). `ready()` reads
// the snapshot, follows the installation's event stream from its cursor and takes a lease;
// `can()` and `canInOrg()` answer from memory, synchronously, while the lease is live (lease.ts),
// and refuse once it has run out; `check()` asks the server then instead.
//
// `verifySession()` asks the server once per session and keeps the answer (sessions.ts).
// `fastify()` and `express()` guard a host's routes with them (guard.ts).
import { hostname } from "node:os";
import { EventSource } from "eventsource";
import { Catalogue, type CatalogueData, type Decision } from "./catalogue.js";
import {
  type Checker,
  type ExpressLikeRequest,
  expressGuard,
  fastifyGuard,
  type RouteRule,
} from "./guard.js";
import { Lease } from "./lease.js";
import { Replica, type SnapshotData, type StreamEvent, sequenceOf } from "./replica.js";
import { SessionCache, tokenHash, type VerifiedSession } from "./sessions.js";

export type { Decision } from "./catalogue.js";
export type { Guarded, Problem, Requirement, RouteRule } from "./guard.js";
export { guard, SESSION_COOKIE, tokenFrom } from "./guard.js";
export type { StreamEvent } from "./replica.js";
export type { VerifiedSession } from "./sessions.js";

export interface RollcallOptions {
  /** Rollcall's address, e.g. https://rollcall.example.com */
  url: string;
  /** An installation service key (rsk_…), made with `rollcall service-key create`. */
  serviceKey: string;
  /** Only these organisations (default: all of them). */
  organizations?: string[];
  /** How long to wait before reading the snapshot again after the stream failed (default 1 s). */
  retryMs?: number;
  /** This process in the server's list of leases (default: host name and process id). */
  name?: string;
  /** Told of what goes wrong in the background (a failed renewal); the client carries on. */
  onError?: (err: Error) => void;
  /**
   * How long a verified session is answered from memory before the server is asked again
   * (default 5 minutes): asking counts as the person's activity for Rollcall's idle timeout.
   * A session's end reaches the client as an event, whatever this is.
   */
  sessionCacheMs?: number;
  /** At most this many sessions kept (default 100,000; the oldest go first). */
  sessionCacheSize?: number;
}

/** A kept session as the replica holds its organisations at `version`, as a settled answer. */
interface Current {
  version: number;
  replica: Replica;
  answer: Promise<VerifiedSession>;
}

const NO_SESSION: Promise<null> = Promise.resolve(null);

/** What can() answers while the lease has run out: it never answers from a replica that may be stale. */
export const STALE: Decision = Object.freeze({
  allowed: false,
  role: null,
  reason: "the replica may be stale (its lease ran out): ask the server",
});

type Listener = (event: StreamEvent) => void;

export class Rollcall implements Checker {
  readonly #options: RollcallOptions;
  readonly #listeners = new Set<Listener>();
  #catalogue: Catalogue | null = null;
  #replica: Replica | null = null;
  #source: EventSource | null = null;
  #cursor = "";
  /** The event types the server's stream carries (from the snapshot): SSE listens by name. */
  #eventTypes: string[] = [];
  /** Those that take access away: applied, they are acknowledged at once. */
  #fencingTypes = new Set<string>();
  #lease: Lease | null = null;
  readonly #sessions: SessionCache;
  readonly #currentSessions = new WeakMap<VerifiedSession, Current>();
  /** Counts the session-ending events applied: an answer asked before one is not kept. */
  #sessionEnds = 0;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: RollcallOptions) {
    this.#options = { ...options, url: options.url.replace(/\/+$/, "") };
    this.#sessions = new SessionCache(options.sessionCacheMs ?? 300_000, options.sessionCacheSize ?? 100_000);
  }

  /** Reads the snapshot, opens the stream and takes the lease; resolves once the lease is live. */
  async ready(): Promise<void> {
    await this.#load();
    await this.#follow();
    if (!this.#lease) {
      const { url, serviceKey } = this.#options;
      this.#lease = new Lease({
        url,
        serviceKey,
        name: this.#options.name ?? `${hostname()} ${process.pid}`,
        applied: () => this.#cursor,
        onError: (err) => this.#options.onError?.(err),
      });
      await this.#lease.open();
    } else {
      await this.#lease.acknowledge();
    }
    await this.#lease.whenLive();
  }

  /** Whether can() answers from the replica now: the lease is live. */
  get live(): boolean {
    return this.#lease?.live ?? false;
  }

  /**
   * May this person use a workspace permission there? Synchronous, from the replica; while the
   * lease has run out, STALE (not allowed) whatever the replica holds.
   */
  can(input: { userId: string; workspaceId: string; permission: string }): Decision {
    const { replica, catalogue } = this.#state();
    if (!this.live) return STALE;
    const orgId = replica.workspaceOrg(input.workspaceId);
    if (orgId === null) return { allowed: false, role: null, reason: "no such workspace" };
    return catalogue.inWorkspace(
      input.permission,
      replica.orgRole(orgId, input.userId),
      replica.workspaceRole(input.workspaceId, input.userId),
    );
  }

  /** May this person use an organisation permission there? Synchronous, from the replica. */
  canInOrg(input: { userId: string; orgId: string; permission: string }): Decision {
    const { replica, catalogue } = this.#state();
    if (!this.live) return STALE;
    return catalogue.inOrg(input.permission, replica.orgRole(input.orgId, input.userId));
  }

  /** What an org role may do, by the server's catalogue (whoever holds it). */
  decideInOrg(permission: string, orgRole: string | null): Decision {
    return this.#state().catalogue.inOrg(permission, orgRole);
  }

  /** A Fastify plugin guarding the routes that declare `config: { rollcall: { permission, workspace?, org? } }`. */
  fastify() {
    return fastifyGuard(this);
  }

  /** An Express middleware guarding one route: `rc.express({ permission, workspace: (req) => req.params.ws })`. */
  express<Req extends ExpressLikeRequest>(rule: RouteRule<Req>) {
    return expressGuard<Req>(this, rule);
  }

  /** can(), or — while the lease has run out — the server's answer (POST …/workspaces/{ws}/authorize). */
  check(input: { userId: string; workspaceId: string; permission: string }): Promise<Decision> {
    if (this.live) return Promise.resolve(this.can(input));
    // A permission the server does not know needs no question: no role holds it.
    const { catalogue } = this.#state();
    if (!catalogue.knows(input.permission, "workspace")) {
      return Promise.resolve(catalogue.inWorkspace(input.permission, null, null));
    }
    return this.#authorize(`workspaces/${encodeURIComponent(input.workspaceId)}`, input, "no such workspace");
  }

  /** canInOrg(), or — while the lease has run out — the server's answer (POST …/orgs/{org}/authorize). */
  checkInOrg(input: { userId: string; orgId: string; permission: string }): Promise<Decision> {
    if (this.live) return Promise.resolve(this.canInOrg(input));
    const { catalogue } = this.#state();
    if (!catalogue.knows(input.permission, "org"))
      return Promise.resolve(catalogue.inOrg(input.permission, null));
    // An organisation that does not exist has no members: the answer the replica would give.
    return this.#authorize(
      `orgs/${encodeURIComponent(input.orgId)}`,
      input,
      "not a member of this organisation",
    );
  }

  /** The server's answer to the authorize question about someone in a place. */
  async #authorize(
    place: string,
    input: { userId: string; permission: string },
    unknownPlace: string,
  ): Promise<Decision> {
    const { url, serviceKey } = this.#options;
    const res = await fetch(`${url}/api/v1/${place}/authorize`, {
      method: "POST",
      headers: { authorization: `Bearer ${serviceKey}`, "content-type": "application/json" },
      body: JSON.stringify({ permission: input.permission, userId: input.userId }),
    });
    if (res.status === 404) return { allowed: false, role: null, reason: unknownPlace };
    if (!res.ok) throw new Error(`Rollcall: authorize answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Decision;
  }

  /**
   * Whose is this session token (the value of Rollcall's session cookie, or a bearer token)?
   * Null when it is no session. The server is asked the first time; then, while the lease is
   * live, the answer comes from memory (with the person's organisations as the replica holds
   * them now) until the session ends — by its expiry, or by its end's event.
   */
  verifySession(token: string): Promise<VerifiedSession | null> {
    if (typeof token !== "string" || token.length === 0 || token.length > 200) return NO_SESSION;
    const hash = tokenHash(token);
    if (this.live) {
      const kept = this.#sessions.get(hash);
      // The same settled promise each time while nothing changed: a cached answer allocates nothing.
      if (kept) return this.#current(kept).answer;
    }
    return this.#askServer(token, hash);
  }

  async #askServer(token: string, hash: string): Promise<VerifiedSession | null> {
    const ends = this.#sessionEnds;
    const { url, serviceKey } = this.#options;
    const res = await fetch(`${url}/api/v1/sessions/verify`, {
      method: "POST",
      headers: { authorization: `Bearer ${serviceKey}`, "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    if (res.status === 401) {
      const problem = (await res.json().catch(() => ({}))) as { code?: string };
      if (problem.code === "invalid_session") return null;
      throw new Error(`Rollcall: the service key was refused (${problem.code ?? res.status})`);
    }
    if (!res.ok) throw new Error(`Rollcall: sessions/verify answered ${res.status}: ${await res.text()}`);
    const answer = (await res.json()) as VerifiedSession;
    // A session's end applied while the question was on its way: this answer may be older.
    if (ends === this.#sessionEnds) this.#sessions.set(hash, answer);
    return answer;
  }

  /**
   * A kept session with its person's organisations as the replica holds them now (in the server's
   * order first), worked out again only when the replica has changed since.
   */
  #current(kept: VerifiedSession): Current {
    const { replica } = this.#state();
    const known = this.#currentSessions.get(kept);
    if (known && known.version === replica.version && known.replica === replica) return known;
    const order = new Map(kept.organizations.map((o, i) => [o.id, i]));
    const organizations = replica
      .organizationsOf(kept.user.id)
      .sort((a, b) => (order.get(a.id) ?? order.size) - (order.get(b.id) ?? order.size));
    const session = { ...kept, organizations };
    const current = { version: replica.version, replica, answer: Promise.resolve(session) };
    this.#currentSessions.set(kept, current);
    return current;
  }

  /** Every event of the installation stream, after the replica has applied it. */
  on(what: "event", listener: Listener): () => void {
    if (what !== "event") throw new TypeError(`unknown event "${what}"`);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Memberships held, for a host's metrics. */
  get size() {
    return this.#state().replica.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#source?.close();
    this.#source = null;
    await this.#lease?.close();
  }

  #state(): { replica: Replica; catalogue: Catalogue } {
    if (!this.#replica || !this.#catalogue) throw new Error("Rollcall: await ready() first");
    return { replica: this.#replica, catalogue: this.#catalogue };
  }

  async #load(): Promise<void> {
    const orgs = this.#options.organizations;
    const query = orgs ? `?orgs=${encodeURIComponent(orgs.join(","))}` : "";
    const res = await fetch(`${this.#options.url}/api/v1/replica/snapshot${query}`, {
      headers: { authorization: `Bearer ${this.#options.serviceKey}` },
    });
    if (!res.ok) throw new Error(`Rollcall: the snapshot answered ${res.status}: ${await res.text()}`);
    const snapshot = (await res.json()) as SnapshotData & {
      catalogue: CatalogueData;
      eventTypes: string[];
      fencingTypes: string[];
    };
    this.#catalogue = new Catalogue(snapshot.catalogue);
    this.#replica = new Replica(snapshot);
    // Events may have been missed (a new snapshot after the stream could not resume).
    this.#sessions.clear();
    this.#cursor = snapshot.cursor;
    this.#eventTypes = snapshot.eventTypes;
    this.#fencingTypes = new Set(snapshot.fencingTypes);
  }

  #follow(): Promise<void> {
    const { url, serviceKey } = this.#options;
    const source = new EventSource(`${url}/api/v1/events/stream?after=${encodeURIComponent(this.#cursor)}`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...init.headers, authorization: `Bearer ${serviceKey}` } }),
    });
    this.#source = source;
    const receive = (message: MessageEvent) => {
      const event = JSON.parse(String(message.data)) as StreamEvent;
      this.#cursor = message.lastEventId;
      this.#replica?.apply(event, sequenceOf(message.lastEventId));
      if (event.type === "session.revoked" || event.type === "user.sessions_revoked") this.#sessionEnds++;
      this.#sessions.apply(event.type, event.data);
      // A change that takes access away waits for this: say at once that it is applied.
      if (this.#fencingTypes.has(event.type)) void this.#lease?.acknowledge();
      for (const listener of this.#listeners) listener(event);
    };
    for (const type of this.#eventTypes) source.addEventListener(type, receive);
    return new Promise((resolve, reject) => {
      source.onopen = () => resolve();
      source.onerror = (err) => {
        // The library reconnects by itself (with Last-Event-ID) unless the answer was not a
        // stream: then read a snapshot again (410 cursor_expired, a restart) and follow anew.
        if (source.readyState !== EventSource.CLOSED || this.#closed) return;
        reject(new Error(`Rollcall: the event stream failed (${err.code ?? err.message ?? "closed"})`));
        this.#retry = setTimeout(
          () => void this.ready().catch(() => undefined),
          this.#options.retryMs ?? 1000,
        );
      };
    });
  }
}
