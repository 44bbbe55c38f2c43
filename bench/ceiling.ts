// W0, the ceiling: a bare Fastify route answering a small JSON object, in a process of its own,
// as the production server runs. `node --import tsx bench/ceiling.ts <port>`
import Fastify from "fastify";

const port = Number(process.argv[2]);
const app = Fastify({ logger: false });
app.get("/ceiling", async () => ({ user: { id: "usr_1", name: "Ceiling" }, ok: true }));
await app.listen({ port, host: "127.0.0.1" });
process.send?.("ready");
