// The data a crashed server runs on, and reading it while that server is dead. On the PGlite pass it
// is an embedded data directory; on the PostgreSQL pass a database of its own. Kept apart from the
// test because it is the one place that differs between the passes: the rest of the test sees only
// `server` (what `startServer` is given) and `inspect` (a read of the data as the crash left it).
import { existsSync } from "node:fs";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Db, openDatabase, openPglite } from "../../../src/db/index.js";
import { type TestDatabase, testDatabase } from "../../helpers/database.js";

export interface Store {
  server: { dataDir?: string; databaseUrl?: string | undefined };
  /** Reads the data as it is now (the server being dead: as the crash left it). */
  inspect<T>(read: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function pgliteStore(): Promise<Store> {
  const dir = await mkdtemp(path.join(tmpdir(), "rollcall-crash-"));
  const dataDir = path.join(dir, "data");
  // Start from the run's migrated snapshot when `npm test` made one: cheaper than the server's
  // first start creating and migrating an empty directory. Without it the server does that.
  const snapshot = process.env.PGLITE_SNAPSHOT;
  if (snapshot && existsSync(snapshot)) {
    const lite = await openPglite(dataDir, new Blob([await readFile(snapshot)]));
    await lite.close();
  }
  let copies = 0;
  return {
    server: { dataDir },
    async inspect(read) {
      // A copy, so that the server restarting on the original meets the crash itself.
      copies += 1;
      const copy = path.join(dir, `inspect-${copies}`);
      await cp(dataDir, copy, { recursive: true });
      const database = await openDatabase({ dataDir: copy });
      try {
        return await read(database.db);
      } finally {
        await database.close();
        await rm(copy, { recursive: true, force: true });
      }
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function postgresStore(): Promise<Store> {
  const database: TestDatabase = await testDatabase();
  return {
    server: { databaseUrl: database.url },
    inspect: (read) => read(database.database.db),
    close: () => database.drop(),
  };
}
