// @rollcall/client: permission checks in the host product's own process, from a replica of
// Rollcall's memberships and roles (docs/replica.md in the Rollcall repository). `ready()` reads
// the snapshot and follows the installation's event stream from its cursor; `can()` and
// `canInOrg()` answer from memory, synchronously.
//
// Not yet here (issue 16): the freshness protocol's leases and acknowledgements, verifySession,
// the Fastify and Express guards. Until then a removal reaches the replica when its event does
// (milliseconds on a healthy link), and nothing stops a replica cut off from acting on old roles.
import { EventSource } from "eventsource";
import { Catalogue, type CatalogueData, type Decision } from "./catalogue.js";
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
}

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
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: RollcallOptions) {
    this.#options = { ...options, url: options.url.replace(/\/+$/, "") };
  }

  /** Reads the snapshot and opens the stream; resolves once the stream is open. */
  async ready(): Promise<void> {
    await this.#load();
    await this.#follow();
  }

  /** May this person use a workspace permission there? Synchronous, from the replica. */
  can(input: { userId: string; workspaceId: string; permission: string }): Decision {
    const { replica, catalogue } = this.#state();
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
    return catalogue.inOrg(input.permission, replica.orgRole(input.orgId, input.userId));
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
    const snapshot = (await res.json()) as SnapshotData & { catalogue: CatalogueData; eventTypes: string[] };
    this.#catalogue = new Catalogue(snapshot.catalogue);
    this.#replica = new Replica(snapshot);
    this.#cursor = snapshot.cursor;
    this.#eventTypes = snapshot.eventTypes;
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
