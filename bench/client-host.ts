// A host product's guarded route for the client benchmark (bench/client.ts), in a process of its
// own: `GET /w/:ws/flows` needs flows.write there.
//   MODE=replica — checked in this process by @rollcall/client (the Fastify plugin);
//   MODE=http    — checked by calling Rollcall's POST /api/v1/workspaces/{ws}/authorize with the
//                  person's own bearer token (one round trip: the session and the permission).
// `node --import tsx bench/client-host.ts <port>`; env ROLLCALL_URL, ROLLCALL_SERVICE_KEY, MODE.
import Fastify from "fastify";
import { Rollcall } from "../packages/client/src/index.js";

const port = Number(process.argv[2]);
const url = process.env.ROLLCALL_URL ?? "";
const mode = process.env.MODE ?? "replica";
const app = Fastify({ logger: false });
const workspace = (req: unknown) => (req as { params: { ws: string } }).params.ws;
let rc: Rollcall | null = null;

if (mode === "replica") {
  rc = new Rollcall({ url, serviceKey: process.env.ROLLCALL_SERVICE_KEY ?? "", name: `bench host ${port}` });
  await rc.ready();
  await app.register(rc.fastify());
  app.get("/w/:ws/flows", { config: { rollcall: { permission: "flows.write", workspace } } }, () => ({
    flows: [],
  }));
} else {
  app.get("/w/:ws/flows", async (req, reply) => {
    const res = await fetch(`${url}/api/v1/workspaces/${workspace(req)}/authorize`, {
      method: "POST",
      headers: { authorization: req.headers.authorization ?? "", "content-type": "application/json" },
      body: JSON.stringify({ permission: "flows.write" }),
    });
    const answer = (await res.json()) as { allowed?: boolean };
    if (!res.ok || !answer.allowed) return reply.status(res.ok ? 403 : res.status).send(answer);
    return { flows: [] };
  });
}
app.get("/ready", () => ({ ok: true }));
await app.listen({ port, host: "127.0.0.1" });
process.send?.("ready");
process.on("disconnect", () => {
  void app
    .close()
    .then(() => rc?.close())
    .then(() => process.exit(0));
});
