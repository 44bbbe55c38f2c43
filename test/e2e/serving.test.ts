// The console as the server serves it, in a real browser: deep links reach the console's router,
// the Content-Security-Policy lets the bundle run (no refusals in the console), and a signed-out
// visit to a page inside lands on the log-in page, which comes back after logging in.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ConsoleServer, consoleServer } from "./harness.js";

let s: ConsoleServer;
before(async () => {
  s = await consoleServer(import.meta.filename);
});
after(() => s.close());

test("a deep link, signed out, opens the log-in page and returns to it after logging in", async () => {
  const alice = await s.user({ name: "Alice Example", organizationName: "Acme" });
  const page = await s.page();
  const answer = await page.goto("/devices");
  assert.equal(answer?.status(), 200);
  assert.match(answer?.headers()["content-security-policy"] ?? "", /script-src 'self'/);
  await page.waitForURL(/\/login\?next=%2Fdevices$/);
  await page.getByLabel("E-mail").fill(alice.email);
  await page.getByLabel("Password", { exact: true }).fill(alice.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/devices$/);
  await page.getByRole("heading", { name: "My devices" }).waitFor();
});
