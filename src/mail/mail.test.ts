import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Kysely, sql } from "kysely";
import { pino } from "pino";
import { Registry } from "prom-client";
import { type TestDatabase, testDatabase } from "../../test/helpers/database.js";
import { type CapturedMail, type SmtpCapture, startSmtpCapture, urlsIn } from "../../test/helpers/smtp.js";
import { type Database, openDatabase } from "../db/index.js";
import type { DB, MailRow } from "../db/schema.js";
import { registerMailMetrics } from "./metrics.js";
import { enqueueMail } from "./outbox.js";
import type { MailTemplate } from "./templates.js";
import { createMailTransport, type MailTransport } from "./transport.js";
import { MailWorker, type MailWorkerConfig, type MailWorkerOptions, retryDelayMs } from "./worker.js";

const PUBLIC_URL = "https://rollcall.example:8443";
const FROM = "Rollcall <no-reply@rollcall.example>";
const FAST: MailWorkerConfig = { maxAttempts: 3, retryBaseMs: 20, retryMaxMs: 100, pollMs: 20, worker: true };

interface LogEntry {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real pino logger whose lines are kept for the test to read. */
function captureLogger() {
  const entries: LogEntry[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void entries.push(JSON.parse(line)) });
  return { logger, entries };
}

let testDb: TestDatabase;
let db: Kysely<DB>;
let smtp: SmtpCapture;
let counter = 0;
const workers: MailWorker[] = [];

const nextAddress = () => `person${++counter}@example.test`;

function resetTemplate(url = `${PUBLIC_URL}/reset/${"t".repeat(43)}`): MailTemplate {
  return { kind: "password_reset", name: "Ada Lovelace", url, expiresInMinutes: 60 };
}

async function enqueue(to: string, template: MailTemplate = resetTemplate()) {
  return db.transaction().execute((tx) => enqueueMail(tx, { to, template }, PUBLIC_URL));
}

function newWorker(overrides: Partial<MailWorkerOptions> = {}): MailWorker {
  const worker = new MailWorker({
    db,
    transport: createMailTransport({ smtpUrl: smtp.url, mailFrom: FROM }, pino({ level: "silent" })),
    config: FAST,
    from: FROM,
    logger: pino({ level: "silent" }),
    ...overrides,
  });
  workers.push(worker);
  return worker;
}

const rowOf = (id: string): Promise<MailRow> =>
  db.selectFrom("mail_outbox").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

const mailsTo = (address: string): CapturedMail[] =>
  smtp.messages.filter((m) => m.envelopeTo.includes(address));

/** Retries `check` until it stops throwing (for the outcome of a worker running on its own). */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(10);
    }
  }
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address && typeof address === "object");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

before(async () => {
  testDb = await testDatabase();
  db = testDb.database.db;
  smtp = await startSmtpCapture();
});

beforeEach(async () => {
  smtp.setFailure(null);
  await db.deleteFrom("mail_outbox").execute();
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await smtp.close();
  await testDb.drop();
});

describe("mail delivery", () => {
  test("delivers a queued mail once, with both bodies and its stable Message-ID, then clears the bodies", async () => {
    const to = nextAddress();
    const url = `${PUBLIC_URL}/reset/${"x".repeat(120)}?a=1&b=2`;
    const { id, messageId } = await enqueue(to, {
      kind: "password_reset",
      name: "Zoë <Admin>",
      url,
      expiresInMinutes: 60,
    });
    assert.equal(messageId, `<${id}@rollcall.example>`);

    const worker = newWorker();
    assert.equal(await worker.runUntilIdle(), 1);
    assert.equal(await worker.runUntilIdle(), 0, "nothing left to send");

    const received = mailsTo(to);
    assert.equal(received.length, 1);
    const mail = received[0]!;
    assert.equal(mail.messageId, messageId);
    assert.equal(mail.subject, "Reset your Rollcall password");
    assert.equal(mail.from, FROM);
    // The long URL went through quoted-printable soft line breaks and comes out whole.
    assert.ok(urlsIn(mail.text ?? "").includes(url));
    assert.ok(mail.html?.includes(`href="${url.replace("&", "&amp;")}"`));
    assert.ok(mail.html?.includes("Zoë &lt;Admin&gt;"));

    const row = await rowOf(id);
    assert.equal(row.status, "sent");
    assert.equal(row.attempts, 1);
    assert.ok(row.sent_at instanceof Date);
    assert.equal(row.last_error, null);
    assert.equal(row.text_body, null);
    assert.equal(row.html_body, null);
  });

  test("an SMTP refusal leaves the mail queued with the error and a later attempt; lifted, it is delivered once", async () => {
    const to = nextAddress();
    const { id, messageId } = await enqueue(to);
    smtp.setFailure({ code: 451, message: "Greylisted, try again later" });
    // A first retry 2 s later (±20%): long enough that a loaded machine neither blurs the
    // measurement nor reaches the retry before the "not before its time" check.
    const worker = newWorker({ config: { ...FAST, retryBaseMs: 2000, retryMaxMs: 5000 } });

    const before = Date.now();
    assert.equal(await worker.runOnce(), 1);
    const after = Date.now();
    let row = await rowOf(id);
    assert.equal(row.status, "queued");
    assert.equal(row.attempts, 1);
    assert.match(row.last_error ?? "", /451.*Greylisted/);
    assert.ok(row.text_body, "bodies are kept for the retry");
    const { rows } = await sql<{ at_ms: number }>`
      SELECT extract(epoch FROM next_attempt_at) * 1000 AS at_ms FROM mail_outbox WHERE id = ${id}
    `.execute(db);
    // The failure was recorded between `before` and `after`: the retry is 1.6–2.4 s after that.
    const atMs = Number(rows[0]?.at_ms);
    assert.ok(
      atMs - before >= 1600 - 5 && atMs - after <= 2400,
      `retry ${atMs - before}–${atMs - after} ms after the failure, expected 2000 ms ±20%`,
    );
    assert.equal(await worker.runOnce(), 0, "not retried before its time");
    assert.equal(mailsTo(to).length, 0);

    smtp.setFailure(null);
    worker.start();
    await smtp.waitFor((m) => m.messageId === messageId, 6000);
    row = await eventually(async () => {
      const r = await rowOf(id);
      assert.equal(r.status, "sent");
      return r;
    });
    await worker.stop();
    assert.equal(row.attempts, 2);
    assert.equal(row.last_error, null);
    assert.equal(row.text_body, null);
    assert.equal(mailsTo(to).length, 1);
  });

  test("a refusal at RCPT TO counts as a failed attempt too", async () => {
    const to = nextAddress();
    const { id } = await enqueue(to);
    smtp.setFailure({ code: 550, message: "No such user here", stage: "rcpt" });
    await newWorker().runOnce();
    const row = await rowOf(id);
    assert.equal(row.status, "queued");
    assert.match(row.last_error ?? "", /550.*No such user/);
  });

  test("after maxAttempts the mail is failed, with the error and without its bodies", async () => {
    const to = nextAddress();
    const { id } = await enqueue(to);
    smtp.setFailure({ code: 554, message: "Transaction failed" });
    const failures: boolean[] = [];
    const worker = newWorker({
      config: { ...FAST, retryBaseMs: 10, retryMaxMs: 20 },
      onFailure: (_mail, _err, final) => failures.push(final),
    });

    const row = await eventually(async () => {
      await worker.runOnce();
      const r = await rowOf(id);
      assert.equal(r.status, "failed");
      return r;
    });
    assert.equal(row.attempts, FAST.maxAttempts);
    assert.match(row.last_error ?? "", /554.*Transaction failed/);
    assert.equal(row.text_body, null);
    assert.equal(row.html_body, null);
    assert.deepEqual(failures, [false, false, true]);
    assert.equal(await worker.runOnce(), 0, "a failed mail is not tried again");
    assert.equal(mailsTo(to).length, 0);
  });

  test("an unreachable SMTP server is recorded as the mail's error", async () => {
    const port = await closedPort();
    const { id } = await enqueue(nextAddress());
    const worker = newWorker({
      transport: createMailTransport(
        { smtpUrl: `smtp://127.0.0.1:${port}`, mailFrom: FROM },
        pino({ level: "silent" }),
      ),
    });
    const started = Date.now();
    assert.equal(await worker.runOnce(), 1);
    assert.ok(Date.now() - started < 5000, "fails fast");
    const row = await rowOf(id);
    assert.equal(row.status, "queued");
    assert.equal(row.attempts, 1);
    assert.match(row.last_error ?? "", /ECONNREFUSED|connect/i);
  });

  test("two workers on one database deliver each of 20 mails exactly once", async () => {
    const addresses = Array.from({ length: 20 }, nextAddress);
    await db.transaction().execute(async (tx) => {
      for (const to of addresses) await enqueueMail(tx, { to, template: resetTemplate() }, PUBLIC_URL);
    });
    const sentBy = { a: 0, b: 0 };
    const a = newWorker({ batchSize: 3, onSent: () => sentBy.a++ });
    const b = newWorker({ batchSize: 3, onSent: () => sentBy.b++ });

    await Promise.all([a.runUntilIdle(), b.runUntilIdle()]);

    for (const to of addresses) assert.equal(mailsTo(to).length, 1, `${to} got one mail`);
    const ids = new Set(addresses.flatMap((to) => mailsTo(to).map((m) => m.messageId)));
    assert.equal(ids.size, 20);
    assert.equal(sentBy.a + sentBy.b, 20);
    assert.ok(sentBy.a > 0 && sentBy.b > 0, `both workers took part (${sentBy.a} + ${sentBy.b})`);
    const rows = await db.selectFrom("mail_outbox").select(["status", "attempts"]).execute();
    assert.ok(rows.every((r) => r.status === "sent" && r.attempts === 1));
  });

  test("a worker that dies after sending: once its lease runs out the mail is sent again, same Message-ID", async () => {
    const to = nextAddress();
    const { id, messageId } = await enqueue(to);
    const real = createMailTransport({ smtpUrl: smtp.url, mailFrom: FROM }, pino({ level: "silent" }));
    // Sends, then never returns: the process "died" before it could record the send.
    const dying: MailTransport = {
      send: async (mail) => {
        await real.send(mail);
        await new Promise<never>(() => {});
      },
      close: () => real.close(),
    };
    const first = new MailWorker({
      db,
      transport: dying,
      config: FAST,
      from: FROM,
      logger: pino({ level: "silent" }),
      leaseMs: 1000,
    });
    void first.runOnce();
    await smtp.waitFor((m) => m.messageId === messageId);
    assert.equal((await rowOf(id)).status, "queued");

    const second = newWorker();
    assert.equal(await second.runOnce(), 0, "the lease keeps other workers away");
    await eventually(async () => assert.equal(await second.runOnce(), 1), 2000);

    const received = mailsTo(to);
    assert.equal(received.length, 2);
    assert.deepEqual(
      received.map((m) => m.messageId),
      [messageId, messageId],
    );
    const row = await rowOf(id);
    assert.equal(row.status, "sent");
    assert.equal(row.attempts, 2);
  });

  test("a mail enqueued in a transaction that rolls back is never sent (rule 14)", async () => {
    const to = nextAddress();
    await assert.rejects(
      db.transaction().execute(async (tx) => {
        await enqueueMail(tx, { to, template: resetTemplate() }, PUBLIC_URL);
        throw new Error("the change failed");
      }),
      /the change failed/,
    );
    const committed = nextAddress();
    await enqueue(committed);

    assert.equal(await newWorker().runUntilIdle(), 1);
    assert.equal(mailsTo(committed).length, 1);
    assert.equal(mailsTo(to).length, 0);
    const rows = await db.selectFrom("mail_outbox").select("id").where("to_address", "=", to).execute();
    assert.equal(rows.length, 0);
  });

  test("wake() sends at once instead of at the next poll", async () => {
    const worker = newWorker({ config: { ...FAST, pollMs: 60_000 } });
    worker.start();
    await sleep(20); // the first pass at start-up finds nothing
    const to = nextAddress();
    const { messageId } = await enqueue(to);
    worker.wake();
    await smtp.waitFor((m) => m.messageId === messageId, 2000);
    await worker.stop();
  });

  test("stop() waits for the sends under way and their recording", async () => {
    const real = createMailTransport({ smtpUrl: smtp.url, mailFrom: FROM }, pino({ level: "silent" }));
    let sending = false;
    const slow: MailTransport = {
      send: async (mail) => {
        sending = true;
        await sleep(150);
        await real.send(mail);
      },
      close: () => real.close(),
    };
    const { id } = await enqueue(nextAddress());
    const worker = newWorker({ transport: slow });
    worker.start();
    await eventually(async () => assert.ok(sending));
    await worker.stop();
    assert.equal((await rowOf(id)).status, "sent");
  });

  test("the log transport writes the mail to the logger, and the worker sends through it", async () => {
    const { logger, entries } = captureLogger();
    const transport = createMailTransport({ smtpUrl: undefined, mailFrom: FROM }, logger);
    const url = `${PUBLIC_URL}/reset/secret-token`;
    const to = nextAddress();
    const { id, messageId } = await enqueue(to, resetTemplate(url));

    assert.equal(await newWorker({ transport }).runUntilIdle(), 1);

    const entry = entries.find((e) => e.msg === "mail (no SMTP_URL set)");
    assert.ok(entry, "logged");
    assert.equal(entry.level, 30, "at info");
    const mail = entry.mail as { to: string; subject: string; text: string; messageId: string };
    assert.equal(mail.to, to);
    assert.equal(mail.subject, "Reset your Rollcall password");
    assert.equal(mail.messageId, messageId);
    assert.ok(mail.text.includes(url));
    assert.equal((await rowOf(id)).status, "sent");
    assert.equal(mailsTo(to).length, 0);
  });
});

describe("retry backoff", () => {
  const config = { retryBaseMs: 1000, retryMaxMs: 60_000 };
  const middle = () => 0.5; // no jitter

  test("doubles with each failed attempt", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, config, middle)),
      [1000, 2000, 4000, 8000, 16_000],
    );
  });

  test("is capped at retryMaxMs, even with jitter and absurd attempt counts", () => {
    assert.equal(retryDelayMs(7, config, middle), 60_000);
    assert.equal(
      retryDelayMs(20, config, () => 0.999),
      60_000,
    );
    assert.equal(retryDelayMs(5000, config, middle), 60_000);
  });

  test("jitters by at most 20% either way", () => {
    assert.equal(
      retryDelayMs(3, config, () => 0),
      3200,
    );
    assert.equal(
      retryDelayMs(3, config, () => 1),
      4800,
    );
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(2, config);
      assert.ok(d >= 1600 && d <= 2400, String(d));
    }
  });
});

describe("when the database is down", () => {
  // A PostgreSQL server that is not there: every query fails to connect, as in an outage.
  let down: Database;
  before(async () => {
    down = await openDatabase({
      url: `postgres://rollcall:x@127.0.0.1:${await closedPort()}/rollcall`,
      poolSize: 2,
    });
  });
  after(() => down.close());

  test("the worker loop logs the error once, keeps polling, and stop() still returns", async () => {
    const { logger, entries } = captureLogger();
    const worker = new MailWorker({
      db: down.db,
      transport: createMailTransport({ smtpUrl: smtp.url, mailFrom: FROM }, logger),
      config: FAST,
      from: FROM,
      logger,
    });
    worker.start();
    await eventually(async () => {
      const polls = entries.filter((e) => e.msg === "mail worker: still cannot claim mail");
      assert.ok(polls.length >= 2, "polling went on");
    });
    const errors = entries.filter((e) => e.msg.startsWith("mail worker: could not claim mail"));
    assert.equal(errors.length, 1, "one error for the outage, not one per poll");
    await worker.stop();
  });

  test("metrics answer a scrape without the outbox gauges failing it", async () => {
    const registry = new Registry();
    const problems: unknown[] = [];
    registerMailMetrics(registry, down.db, { onCollectError: (err) => problems.push(err) });
    const text = await registry.metrics();
    assert.match(text, /rollcall_mail_sent_total 0/);
    assert.ok(problems.length >= 1);
  });
});

describe("mail metrics", () => {
  test("count sends and failures, and read the outbox depth and failed mail on scrape", async () => {
    const registry = new Registry();
    const metrics = registerMailMetrics(registry, db);
    const worker = newWorker({
      config: { ...FAST, maxAttempts: 1 },
      onSent: () => metrics.sent.inc(),
      onFailure: () => metrics.failures.inc(),
    });

    await enqueue(nextAddress());
    await enqueue(nextAddress());
    let text = await registry.metrics();
    assert.match(text, /^rollcall_mail_outbox_depth 2$/m);
    assert.match(text, /^rollcall_mail_outbox_failed 0$/m);

    await worker.runUntilIdle();
    smtp.setFailure({ code: 554, message: "No" });
    await enqueue(nextAddress());
    await worker.runUntilIdle();
    await enqueue(nextAddress());

    text = await registry.metrics();
    assert.match(text, /^rollcall_mail_sent_total 2$/m);
    assert.match(text, /^rollcall_mail_send_failures_total 1$/m);
    assert.match(text, /^rollcall_mail_outbox_depth 1$/m);
    assert.match(text, /^rollcall_mail_outbox_failed 1$/m);
  });
});
