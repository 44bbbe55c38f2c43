import assert from "node:assert/strict";
import { test } from "node:test";
import { SingleFlight } from "./single-flight.js";

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
