// What operations need from the running server, passed explicitly rather than imported.

import type pg from "pg";
import type { Catalogue } from "./access/catalogue.js";
import type { Config } from "./config.js";
import type { RateLimiter } from "./core/rate-limit.js";
import type { Db } from "./db/index.js";
import type { EventBus } from "./events/bus.js";
import type { Cursor } from "./events/feed.js";

export interface Services {
  config: Config;
  catalogue: Catalogue;
  db: Db;
  /** The pool under `db`, for the few hot reads run as named prepared statements (db/prepared.ts). */
  pool: pg.Pool;
  limiter: RateLimiter;
  /** Tells this server's mail worker that a transaction has just committed mail. */
  wakeMail(): void;
  /** This server's event readers' wake-up (events/bus.ts). */
  events: EventBus;
  wakeEvents(): void;
  /** Waits until the replica clients have acknowledged a change that takes access away (transact). */
  awaitAcks(fence: Cursor, lockedMs: number): Promise<void>;
}
