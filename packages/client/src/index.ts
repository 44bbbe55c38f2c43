// @rollcall/client: permission checks in the host product's own process, from a replica of
// Rollcall's memberships and roles (docs/replica.md in the Rollcall repository). `ready()` reads
// the snapshot, follows the installation's event stream from its cursor and takes a lease;
// `can()` and `canInOrg()` answer from memory, synchronously, while the lease is live (lease.ts),
// and refuse once it has run out; `check()` asks the server then instead.
//
// Not yet here (issue 16): verifySession, the Fastify and Express guards.
import { hostname } from "node:os";
import { EventSource } from "eventsource";
import { Catalogue, type CatalogueData, type Decision } from "./catalogue.js";
import { Lease } from "./lease.js";
import { Replica, type SnapshotData, type StreamEvent, sequenceOf } from "./replica.js";

export type { Decision } from "./catalogue.js";
export type { StreamEvent } from "./replica.js";

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
}

/** What can() answers while the lease has run out: it never answers from a replica that may be stale. */
export const STALE: Decision = Object.freeze({
  allowed: false,
  role: null,
  reason: "the replica may be stale (its lease ran out): ask the server",
});

type Listener = (event: StreamEvent) => void;

export class Rollcall {
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
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: RollcallOptions) {
    this.#options = { ...options, url: options.url.replace(/\/+$/, "") };
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

  /** can(), or — while the lease has run out — the server's answer (POST …/authorize). */
  async check(input: { userId: string; workspaceId: string; permission: string }): Promise<Decision> {
    if (this.live) return this.can(input);
    const { url, serviceKey } = this.#options;
    const res = await fetch(`${url}/api/v1/workspaces/${encodeURIComponent(input.workspaceId)}/authorize`, {
      method: "POST",
      headers: { authorization: `Bearer ${serviceKey}`, "content-type": "application/json" },
      body: JSON.stringify({ permission: input.permission, userId: input.userId }),
    });
    if (res.status === 404) return { allowed: false, role: null, reason: "no such workspace" };
    if (!res.ok) throw new Error(`Rollcall: authorize answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Decision;
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
