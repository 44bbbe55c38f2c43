// Sessions verified once and kept (by the token's SHA-256, never the token): a person's session
// token, as the host receives it in Rollcall's cookie or a bearer header, asked of the server the
// first time (POST /api/v1/sessions/verify), then answered from memory until the session expires,
// its end arrives on the event stream (session.revoked: log-out or a device ended;
// user.sessions_revoked: every session, a password change), or `maxAgeMs` passes — asked again
// then, which also counts as the person's activity for the server's idle timeout.
import { hash } from "node:crypto";

export interface VerifiedSession {
  user: { id: string; email: string; name: string };
  session: { id: string; expiresAt: string };
  organizations: { id: string; role: string }[];
}

interface Entry {
  answer: VerifiedSession;
  /** The clock's time (performance.now()) after which the server is asked again. */
  until: number;
}

export function tokenHash(token: string): string {
  return hash("sha256", token, "base64url");
}

export class SessionCache {
  readonly #entries = new Map<string, Entry>();
  /** session id → token hash; user id → the hashes of their sessions */
  readonly #bySession = new Map<string, string>();
  readonly #byUser = new Map<string, Set<string>>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries: number,
    /** The monotonic clock in ms (a test passes its own). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The answer kept for this token hash, if it is still good. */
  get(hash: string): VerifiedSession | null {
    const entry = this.#entries.get(hash);
    if (!entry) return null;
    if (this.now() >= entry.until) {
      this.#drop(hash);
      return null;
    }
    return entry.answer;
  }

  set(hash: string, answer: VerifiedSession): void {
    const expiresIn = Date.parse(answer.session.expiresAt) - Date.now();
    if (!(expiresIn > 0)) return;
    this.#drop(hash);
    // The oldest goes first when full (a Map keeps its insertion order).
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#drop(oldest);
    }
    this.#entries.set(hash, { answer, until: this.now() + Math.min(expiresIn, this.maxAgeMs) });
    this.#bySession.set(answer.session.id, hash);
    let hashes = this.#byUser.get(answer.user.id);
    if (!hashes) {
      hashes = new Set();
      this.#byUser.set(answer.user.id, hashes);
    }
    hashes.add(hash);
  }

  /** An event of the stream that ends sessions or changes whose they are. */
  apply(type: string, data: Record<string, unknown>): void {
    if (type === "session.revoked" && typeof data.sessionId === "string") {
      const hash = this.#bySession.get(data.sessionId);
      if (hash) this.#drop(hash);
    } else if (
      (type === "user.sessions_revoked" || type === "user.updated") &&
      typeof data.userId === "string"
    ) {
      const except = type === "user.sessions_revoked" ? data.exceptSessionId : null;
      for (const hash of [...(this.#byUser.get(data.userId) ?? [])]) {
        if (except && this.#entries.get(hash)?.answer.session.id === except) continue;
        this.#drop(hash);
      }
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#bySession.clear();
    this.#byUser.clear();
  }

  #drop(hash: string): void {
    const entry = this.#entries.get(hash);
    if (!entry) return;
    this.#entries.delete(hash);
    this.#bySession.delete(entry.answer.session.id);
    const hashes = this.#byUser.get(entry.answer.user.id);
    hashes?.delete(hash);
    if (hashes?.size === 0) this.#byUser.delete(entry.answer.user.id);
  }
}
