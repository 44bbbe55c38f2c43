// A host product guarded by Rollcall: two routes, each declaring the permission it needs, checked
// in this process by @rollcall/client (no round trip per request; never acting on a removed role).
//
//   ROLLCALL_URL=http://127.0.0.1:3000 ROLLCALL_SERVICE_KEY=rsk_… npm run example:host
//
// then, with a person's session token from Rollcall (log-in answers it; the console's cookie holds it):
//   curl -H "authorization: Bearer $TOKEN" http://127.0.0.1:4000/workspaces/$WS/flows
import Fastify from "fastify";
import { type Guarded, Rollcall } from "../../packages/client/src/index.js";

declare module "fastify" {
  interface FastifyRequest {
    rollcall?: Guarded | null;
  }
}

const url = process.env.ROLLCALL_URL ?? "http://127.0.0.1:3000";
const serviceKey = process.env.ROLLCALL_SERVICE_KEY;
if (!serviceKey) {
  process.stderr.write("Set ROLLCALL_SERVICE_KEY (make one with: rollcall service-key create --name host)\n");
  process.exit(2);
}

const rc = new Rollcall({ url, serviceKey });
await rc.ready();

const app = Fastify({ logger: false });
await app.register(rc.fastify());
const workspace = (req: unknown) => (req as { params: { ws: string } }).params.ws;
const flows = new Map<string, string[]>();

// Anyone who may read flows in the workspace: viewers, agents' betters, editors, admins.
app.get(
  "/workspaces/:ws/flows",
  { config: { rollcall: { permission: "flows.read", workspace } } },
  (req) => ({
    flows: flows.get(workspace(req)) ?? [],
    as: req.rollcall?.ok ? req.rollcall.decision.role : null,
  }),
);

// Only those who may write them: editors and admins.
app.post(
  "/workspaces/:ws/flows",
  { config: { rollcall: { permission: "flows.write", workspace } } },
  (req, reply) => {
    const list = flows.get(workspace(req)) ?? [];
    list.push(`flow ${list.length + 1}`);
    flows.set(workspace(req), list);
    return reply.status(201).send({ flows: list });
  },
);

const address = await app.listen({
  port: Number(process.env.PORT ?? 4000),
  host: process.env.HOST ?? "127.0.0.1",
});
process.stdout.write(`host listening on ${address}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => rc.close())
      .then(() => process.exit(0));
  });
}
