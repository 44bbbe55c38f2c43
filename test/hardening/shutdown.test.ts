// Issue 7, deliverable 4: `rollcall serve` stops gracefully on SIGTERM. A real server process —
// on an embedded data directory (PGlite pass) or a PostgreSQL database (PostgreSQL pass) — is
// signalled while log-ins are in flight and a mail is being sent: it stops accepting, answers
// every request it holds in full, lets the mail worker finish and record its send, and exits 0.
// A client that never finishes its request cannot hold it for ever: a second signal, or the
// shutdown deadline, ends it, saying so in the log.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { openPglite } from "../../src/db/index.js";
import { buildUser, PASSWORD, type SignedUp, uniqueEmail } from "../helpers/app.js";
import { TEST_TARGET, type TestDatabase, testDatabase } from "../helpers/database.js";
import { type ServerOptions, type ServerProcess, startServer } from "../helpers/server.js";
import { startSmtpCapture } from "../helpers/smtp.js";

const IN_FLIGHT = 20;
/** `serve`'s deadline (SHUTDOWN_DEADLINE_MS in src/cli/commands.ts). */
const DEADLINE_MS = 8000;
/** How long the SMTP listener holds its answer to the mail under way, counted from the SIGTERM. */
const SMTP_HOLD_MS = 1000;

// ---- an SMTP listener that holds its answer to the first mail until told ---------------------

interface HoldingSmtp {
  url: string;
  /** Envelope recipients of every mail received. */
  accepted: string[][];
  /** Resolves when the first mail's data is in and its answer is being held. */
  holding: Promise<void>;
  /** Answers the held mail (250); later mails are answered at once. */
  release(): void;
  close(): Promise<void>;
}

async function startHoldingSmtp(): Promise<HoldingSmtp> {
  let held = false;
  let nowHolding: () => void = () => {};
  const holding = new Promise<void>((resolve) => {
    nowHolding = resolve;
  });
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const capture = await startSmtpCapture({
    async beforeReply() {
      if (held) return;
      held = true;
      nowHolding();
      await released;
    },
  });
  return {
    url: capture.url,
    get accepted() {
      return capture.messages.map((m) => m.envelopeTo);
    },
    holding,
    release,
    close: () => capture.close(),
  };
}

// ---- requests that the server has received but cannot finish until the test says so ---------

interface HeldRequest {
  /** Sends the rest of the body. */
  finish(): void;
  answer: Promise<{ status: number; body: string; connection: string | undefined }>;
}

/** A log-in whose body is half sent: the server has the request and waits for the rest. */
function halfSentLogin(server: ServerProcess, agent: http.Agent, user: SignedUp): HeldRequest {
  const body = JSON.stringify({ email: user.email, password: PASSWORD });
  const request = http.request({
    host: "127.0.0.1",
    port: server.port,
    method: "POST",
    path: "/api/v1/auth/login",
    agent,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
  });
  const answer = new Promise<{ status: number; body: string; connection: string | undefined }>(
    (resolve, reject) => {
      request.on("error", reject);
      request.on("response", (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }),
        );
      });
    },
  );
  const half = Math.floor(body.length / 2);
  request.write(body.slice(0, half));
  return { finish: () => request.end(body.slice(half)), answer };
}

/** A request whose body never comes: a stalled (or hostile) client. */
async function stalledRequest(server: ServerProcess): Promise<net.Socket> {
  const socket = net.connect(server.port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => {});
  socket.write(
    "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
  );
  return socket;
}

/**
 * The log line of the stalled request's arrival. Not any "incoming request": the line of the
 * /readyz that `serve` waited for can reach the output after the test took its `from`.
 */
const STALLED_LINE = '"url":"/api/v1/auth/login"';

/** Times `line` appears in the server's output after character `from`. */
function countIn(server: ServerProcess, line: string, from = 0): number {
  return server.output().slice(from).split(line).length - 1;
}

async function waitForOutput(server: ServerProcess, what: () => boolean, label: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!what()) {
    assert.ok(
      Date.now() < deadline,
      `${label}: not within ${timeoutMs} ms:\n${server.output().slice(-2000)}`,
    );
    await sleep(10);
  }
}

/** Resolves to "refused" once a new connection is refused; "accepted" if it never is. */
async function refusedWithin(port: number, timeoutMs: number): Promise<"refused" | "accepted"> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outcome = await new Promise<"refused" | "accepted">((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve("accepted");
      });
      socket.once("error", (err: NodeJS.ErrnoException) =>
        resolve(err.code === "ECONNREFUSED" ? "refused" : "accepted"),
      );
    });
    if (outcome === "refused" || Date.now() > deadline) return outcome;
    await sleep(20);
  }
}

/** The exit, or a failure once `timeoutMs` has passed (the process is then killed in `after`). */
async function exitWithin(server: ServerProcess, timeoutMs: number) {
  const timer = sleep(timeoutMs).then(() => "timeout" as const);
  const exit = await Promise.race([server.exited, timer]);
  assert.notEqual(
    exit,
    "timeout",
    `the server did not exit within ${timeoutMs} ms:\n${server.output().slice(-2000)}`,
  );
  return exit as Awaited<ServerProcess["exited"]>;
}

// ---- the data the servers run on ---------------------------------------------------------------

let where: Pick<ServerOptions, "dataDir" | "databaseUrl">;
let cleanUp: () => Promise<void> = async () => {};
let smtp: HoldingSmtp;
const servers: ServerProcess[] = [];

async function serve(): Promise<ServerProcess> {
  // Twenty log-ins to one account at once are counted before they succeed: lift its limit.
  const env = { SMTP_URL: smtp.url, RATE_LIMIT_LOGIN_ACCOUNT: "100000/15m" };
  const server = await startServer({ ...where, env });
  servers.push(server);
  return server;
}

describe("graceful shutdown on SIGTERM", { concurrency: false }, () => {
  before(async () => {
    smtp = await startHoldingSmtp();
    if (TEST_TARGET === "postgres") {
      const database: TestDatabase = await testDatabase();
      where = { databaseUrl: database.url };
      cleanUp = () => database.drop();
    } else {
      const dir = await mkdtemp(path.join(tmpdir(), "rollcall-shutdown-"));
      const dataDir = path.join(dir, "data");
      where = { dataDir };
      cleanUp = () => rm(dir, { recursive: true, force: true });
      // `npm test` has a migrated data directory at hand: starting from it saves the server the
      // initdb and the migrations (half a minute on a loaded machine). Run alone, serve does both.
      if (process.env.PGLITE_SNAPSHOT) {
        const lite = await openPglite(dataDir, new Blob([await readFile(process.env.PGLITE_SNAPSHOT)]));
        await lite.close();
      }
    }
  });

  after(async () => {
    for (const server of servers) await server.kill("SIGKILL");
    await smtp?.close();
    await cleanUp();
  });

  let restarted: ServerProcess | undefined;

  test("SIGTERM: refuses new connections, answers every request in flight in full, records the mail under way, exits 0 (defect: keep-alive connections held it for 72 s)", async (t) => {
    // Promise: after SIGTERM no new connection is accepted; each of the log-ins the server holds
    // gets its full answer (a working session); the mail being sent is finished and recorded as
    // sent, so that it is not sent again after a restart; the process exits 0, well before the
    // deadline, although the clients keep their connections alive.
    // Defect found: closing the server closed the keep-alive connections idle at that moment,
    // but not those that fell idle as the requests in flight were answered; a client that kept
    // its connection open held the exit for the keep-alive timeout (72 s). Fixed in
    // src/cli/commands.ts: during the shutdown idle connections are closed as they fall idle.
    const server = await serve();
    const owner = await buildUser(server);
    const me = await server.request("GET", "/api/v1/me", { token: owner.token });
    const orgId: string = me.json.organizations[0].id;
    const invitee = uniqueEmail("shutdown");
    const invited = await server.request("POST", `/api/v1/orgs/${orgId}/invitations`, {
      token: owner.token,
      body: { delivery: "email", email: invitee, role: "member" },
    });
    assert.equal(invited.status, 201, invited.text);
    await Promise.race([
      smtp.holding,
      sleep(15_000).then(() => assert.fail("the worker did not start sending the invitation")),
    ]);

    // Keep-alive, as browsers and proxies connect: the sockets stay open after the answers.
    const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const from = server.output().length;
    const held = Array.from({ length: IN_FLIGHT }, () => halfSentLogin(server, agent, owner));
    await waitForOutput(
      server,
      () => countIn(server, "incoming request", from) === IN_FLIGHT,
      `the server received ${IN_FLIGHT} log-ins`,
    );

    const signalledAt = Date.now();
    server.child.kill("SIGTERM");
    await waitForOutput(server, () => server.output().includes("shutting down"), "shutting down");
    assert.equal(await refusedWithin(server.port, 3000), "refused", "a new connection after SIGTERM");
    const refusedMs = Date.now() - signalledAt;

    for (const request of held) request.finish();
    setTimeout(() => smtp.release(), SMTP_HOLD_MS);
    const answers = await Promise.all(held.map((h) => h.answer));
    const answeredMs = Date.now() - signalledAt;
    const tokens: string[] = [];
    for (const answer of answers) {
      assert.equal(answer.status, 200, answer.body);
      const json = JSON.parse(answer.body);
      assert.equal(json.user.email, owner.email);
      tokens.push(json.session.token);
    }

    const exit = await exitWithin(server, DEADLINE_MS + 10_000);
    const exitMs = Date.now() - signalledAt;
    agent.destroy();
    assert.deepEqual(exit, { code: 0, signal: null }, server.output().slice(-2000));
    assert.ok(exitMs < DEADLINE_MS, `exit took ${exitMs} ms`);
    const output = server.output();
    const sentAt = output.indexOf('"msg":"mail sent"');
    assert.ok(sentAt > 0, "the mail under way was recorded as sent");
    assert.ok(sentAt < output.indexOf('"msg":"stopped"'), "…before the process stopped");
    assert.equal(smtp.accepted.filter((to) => to.includes(invitee)).length, 1);

    // The same data, a new process: the sessions those answers carried are real, and the mail is
    // sent — the worker of the new process does not send it again.
    const startedAt = Date.now();
    restarted = await serve();
    const restartMs = Date.now() - startedAt;
    for (const token of tokens) {
      const mine = await restarted.request("GET", "/api/v1/me", { token });
      assert.equal(mine.status, 200, mine.text);
    }
    const list = await restarted.request("GET", `/api/v1/orgs/${orgId}/invitations`, { token: owner.token });
    const invitation = list.json.items.find((i: { id: string }) => i.id === invited.json.invitation.id);
    assert.deepEqual(invitation.mail, { status: "sent", lastError: null });
    await sleep(1000); // twenty polls of the new worker
    assert.equal(smtp.accepted.filter((to) => to.includes(invitee)).length, 1, "the mail was sent again");
    t.diagnostic(
      `refusing ${refusedMs} ms after SIGTERM; ${IN_FLIGHT} log-ins answered by ${answeredMs} ms; exit 0 at ${exitMs} ms; restart ${restartMs} ms`,
    );
  });

  test("a second signal during the shutdown exits at once, saying so", async (t) => {
    // Promise: a stalled request holds the graceful shutdown (it waits for requests in flight),
    // and the operator's second signal (SIGINT here: Ctrl-C twice) ends it at once, with a log
    // line, and a non-zero exit code since work was abandoned.
    const server = restarted ?? (await serve());
    const from = server.output().length;
    const socket = await stalledRequest(server);
    await waitForOutput(server, () => countIn(server, STALLED_LINE, from) === 1, "the stalled request");
    server.child.kill("SIGTERM");
    await waitForOutput(server, () => server.output().includes("shutting down"), "shutting down");
    await sleep(500);
    assert.equal(server.child.exitCode, null, "the shutdown waits for the request in flight");
    const signalledAt = Date.now();
    server.child.kill("SIGINT");
    const exit = await exitWithin(server, 10_000);
    const exitMs = Date.now() - signalledAt;
    socket.destroy();
    assert.deepEqual(exit, { code: 1, signal: null }, server.output().slice(-2000));
    assert.match(server.output(), /"signal":"SIGINT".*"msg":"second signal: exiting now"/);
    t.diagnostic(`exit 1 ${exitMs} ms after the second signal`);
  });

  test("a request that never finishes cannot hold the shutdown past its deadline (defect: it held it for ever)", async (t) => {
    // Promise: a client that stops sending in the middle of its request does not keep the
    // process alive: at the deadline the process logs that it gave up and exits 1.
    // Defect found: Fastify sets no request timeout, so the graceful close waited for the
    // stalled request for ever. Fixed in src/cli/commands.ts: SHUTDOWN_DEADLINE_MS.
    const server = await serve();
    const from = server.output().length;
    const socket = await stalledRequest(server);
    await waitForOutput(server, () => countIn(server, STALLED_LINE, from) === 1, "the stalled request");
    const signalledAt = Date.now();
    server.child.kill("SIGTERM");
    const exit = await exitWithin(server, DEADLINE_MS + 15_000);
    const exitMs = Date.now() - signalledAt;
    socket.destroy();
    assert.deepEqual(exit, { code: 1, signal: null }, server.output().slice(-2000));
    assert.match(server.output(), /"msg":"shutdown did not finish in time; exiting now"/);
    assert.ok(exitMs >= DEADLINE_MS - 500, `exited after ${exitMs} ms, before the deadline`);
    t.diagnostic(`exit 1 ${exitMs} ms after SIGTERM (deadline ${DEADLINE_MS} ms)`);
  });
});
