// The Better Auth server the benchmark measures, in a process of its own as a production
// deployment runs it: Better Auth's documented Node integration (`toNodeHandler` on node:http)
// on 127.0.0.1:PORT, a `pg` pool on DATABASE_URL. Tells the parent "ready" once listening.
// `DATABASE_URL=… PORT=… node --import tsx bench/better-auth/server.ts`
import { createServer } from "node:http";
import { toNodeHandler } from "better-auth/node";
import { createAuth, createPool } from "./auth.js";

const databaseUrl = process.env.DATABASE_URL;
const port = Number(process.env.PORT);
if (!databaseUrl || !Number.isInteger(port) || port <= 0) {
  throw new Error("DATABASE_URL and PORT must be set");
}

const pool = createPool(databaseUrl);
const auth = createAuth(pool, `http://127.0.0.1:${port}`);
const server = createServer(toNodeHandler(auth));

server.listen(port, "127.0.0.1", () => process.send?.("ready"));

process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
});
