import assert from "node:assert/strict";
import { test } from "node:test";
import { moment, SingleFlight } from "./single-flight.js";

test("the same key at the same time runs once; each answer is forgotten once given", async () => {
  const flight = new SingleFlight<number>();
  let runs = 0;
  let release: (n: number) => void = () => {};
  const ask = () => {
    runs++;
    return new Promise<number>((resolve) => {
      release = resolve;
    });
  };
  const first = flight.run("a", ask);
  const second = flight.run("a", ask);
  assert.equal(runs, 1);
  assert.equal(flight.size, 1);
  release(7);
  assert.deepEqual(await Promise.all([first, second]), [7, 7]);
  assert.equal(flight.size, 0);
  const again = flight.run("a", async () => {
    runs++;
    return 8;
  });
  assert.equal(await again, 8, "asked again once answered");
  assert.equal(runs, 2);
});

test("different keys run apart; a failure reaches every waiter and is not kept", async () => {
  const flight = new SingleFlight<string>();
  const [x, y] = await Promise.all([flight.run("x", async () => "X"), flight.run("y", async () => "Y")]);
  assert.deepEqual([x, y], ["X", "Y"]);
  const boom = () => Promise.reject(new Error("boom"));
  const both = [flight.run("z", boom), flight.run("z", boom)];
  for (const p of both) await assert.rejects(p, /boom/);
  assert.equal(await flight.run("z", async () => "fine"), "fine");
});

test("an answer begun before a mark is not shared with a caller that needs a newer one", async () => {
  const flight = new SingleFlight<number>();
  const releases: Array<(n: number) => void> = [];
  const ask = () => new Promise<number>((resolve) => releases.push(resolve));
  const old = flight.run("k", ask);
  const seen = moment();
  const fresh = flight.run("k", ask, seen);
  assert.equal(releases.length, 2, "the answer begun before the mark is not taken");
  const sharer = flight.run("k", ask, seen);
  assert.equal(releases.length, 2, "the one begun after it is shared");
  releases[0]?.(1);
  assert.equal(await old, 1);
  assert.equal(flight.size, 1, "the old answer's end leaves the newer one in place");
  releases[1]?.(2);
  assert.deepEqual(await Promise.all([fresh, sharer]), [2, 2]);
  assert.equal(flight.size, 0);
});
