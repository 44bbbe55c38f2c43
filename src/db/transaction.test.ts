import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestDatabase, testDatabase } from "../../test/helpers/database.js";
import { enqueueMail } from "../mail/outbox.js";
import { transact } from "./transaction.js";

let t: TestDatabase;
before(async () => {
  t = await testDatabase();
});
after(() => t.drop());

function services() {
  const woken: number[] = [];
  return {
    woken,
    services: {
      db: t.database.db,
      wakeMail: (): void => {
        woken.push(Date.now());
      },
    },
  };
}

const mail = {
  to: "ann@example.org",
  template: { kind: "password_reset", name: "Ann", url: "http://localhost/reset#x", expiresInMinutes: 60 },
} as const;

async function outboxSize(): Promise<number> {
  const row = await t.database.db
    .selectFrom("mail_outbox")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

test("a transaction that queued mail wakes the worker once, after it committed", async () => {
  const { woken, services: s } = services();
  let seenByWorkerAtWake = -1;
  s.wakeMail = () => {
    woken.push(Date.now());
    // What the worker would see: the row is committed by the time it is woken.
    void outboxSize().then((n) => {
      seenByWorkerAtWake = n;
    });
  };
  const before = await outboxSize();
  const answer = await transact(s, async (tx) => {
    await enqueueMail(tx, mail, "http://localhost:3000");
    await enqueueMail(tx, mail, "http://localhost:3000");
    assert.equal(woken.length, 0, "not woken before the commit");
    return "done";
  });
  assert.equal(answer, "done");
  assert.equal(woken.length, 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(seenByWorkerAtWake, before + 2);
});

test("a transaction without mail, or one rolled back, does not wake the worker", async () => {
  const { woken, services: s } = services();
  await transact(s, (tx) => tx.selectFrom("users").select("id").execute());
  const before = await outboxSize();
  await assert.rejects(
    transact(s, async (tx) => {
      await enqueueMail(tx, mail, "http://localhost:3000");
      throw new Error("changed my mind");
    }),
    /changed my mind/,
  );
  assert.equal(woken.length, 0);
  assert.equal(await outboxSize(), before, "the mail went with the rollback");
});
