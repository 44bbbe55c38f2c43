// The client's side of the freshness protocol (docs/replica.md#freshness in the Rollcall
// repository). The client holds a lease and tells the server how far into the event stream it
// has applied; a change that takes access away answers only once every live lease has said it
// applied that change, or run out. So the client answers from its replica only while its lease
// is live — until the moment it *sent* its last renewal plus the time the server said the lease
// had left, by this process's monotonic clock — and a client that stops (a blocked stream, a
// paused process, a lost network) stops answering before the server stops waiting for it.

export interface LeaseAnswer {
  id: string;
  live: boolean;
  remainingMs: number;
  renewMs: number;
  acknowledged: string;
}

export interface LeaseOptions {
  url: string;
  serviceKey: string;
  /** This client, in the server's list of leases. */
  name: string;
  /** The cursor of the last event applied (the snapshot's, before any). */
  applied(): string;
  /** Told of a failed renewal; the lease runs out on its own. */
  onError(err: Error): void;
}

export class Lease {
  readonly #options: LeaseOptions;
  #id: string | null = null;
  /** Until when (performance.now()) the replica may answer. */
  #liveUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The requests on their way, with the cursor each says. */
  readonly #sending = new Map<Promise<void>, string>();
  #again = false;
  #opening: Promise<void> | null = null;
  #closed = false;
  readonly #liveWaiters = new Set<() => void>();

  constructor(options: LeaseOptions) {
    this.#options = options;
  }

  /** Whether the replica may answer now. */
  get live(): boolean {
    return performance.now() < this.#liveUntil;
  }

  /** Takes the lease and renews it every `renewMs` from then on (one taking at a time). */
  open(): Promise<void> {
    this.#opening ??= this.#take().finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #take(): Promise<void> {
    const sent = performance.now();
    const answer = await this.#call("POST", "/api/v1/replica/leases", {
      name: this.#options.name,
      applied: this.#options.applied(),
    });
    if (!answer) throw new Error("Rollcall: the lease could not be taken");
    this.#id = answer.id;
    this.#granted(sent, answer);
    clearInterval(this.#timer);
    this.#timer = setInterval(() => void this.acknowledge(), answer.renewMs);
    this.#timer.unref();
  }

  /** Resolves once the lease is live (at once if it is). */
  whenLive(): Promise<void> {
    if (this.live) return Promise.resolve();
    return new Promise((resolve) => this.#liveWaiters.add(resolve));
  }

  /**
   * Says how far the client has applied, and renews the lease: at each tick, and at once after
   * an event that takes access away. What a request on its way already says is not sent again;
   * news is sent at once even then (a change waits for it), with at most two requests on their
   * way — a third call waits for one to return and sends what has been applied by then.
   * Answers may come back in any order: each counts only from when it was sent, so none lets the
   * replica answer longer than the server granted it.
   */
  acknowledge(): Promise<void> {
    if (this.#closed || this.#id === null) return Promise.resolve();
    const applied = this.#options.applied();
    for (const [request, says] of this.#sending) if (says === applied) return request;
    if (this.#sending.size >= 2) {
      this.#again = true;
      return Promise.race(this.#sending.keys()).then(() => undefined);
    }
    const sent = this.#renew(applied).finally(() => {
      this.#sending.delete(sent);
      if (this.#again) {
        this.#again = false;
        void this.acknowledge();
      }
    });
    this.#sending.set(sent, applied);
    return sent;
  }

  /** Ends the lease: no change waits for this client any more. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#liveUntil = 0;
    const id = this.#id;
    this.#id = null;
    if (id) await this.#call("DELETE", `/api/v1/replica/leases/${id}`).catch(() => undefined);
  }

  async #renew(applied: string): Promise<void> {
    const id = this.#id;
    if (!id) return;
    const sent = performance.now();
    try {
      const answer = await this.#call("PUT", `/api/v1/replica/leases/${id}`, { applied });
      if (answer) this.#granted(sent, answer);
      // The server no longer knows it (ended, or cleared long after it ran out): take a new one.
      else if (!this.#closed) await this.open();
    } catch (err) {
      this.#options.onError(err as Error);
    }
  }

  #granted(sent: number, answer: LeaseAnswer): void {
    // An answer that arrives after close() grants nothing: the lease is being ended.
    if (this.#closed) return;
    // Never beyond what the server granted, counted from before it was asked.
    this.#liveUntil = answer.live ? sent + answer.remainingMs : 0;
    if (this.live) {
      for (const resolve of this.#liveWaiters) resolve();
      this.#liveWaiters.clear();
    }
  }

  /** A lease request's answer; null for 404 (no such lease). */
  async #call(method: string, path: string, body?: unknown): Promise<LeaseAnswer | null> {
    const res = await fetch(`${this.#options.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#options.serviceKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status === 404) return null;
    if (res.status === 204) return null;
    if (!res.ok) throw new Error(`Rollcall: ${method} ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as LeaseAnswer;
  }
}
