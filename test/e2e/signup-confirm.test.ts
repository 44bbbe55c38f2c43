// Review 13.2 in a real browser: with SIGNUP_CONFIRM=email, sign-up says "check your inbox" for
// every address, and the mailed link's page makes the account and opens its organisation.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { linkIn, uniqueEmail } from "../helpers/app.js";
import { type ConsoleServer, consoleServer } from "./harness.js";

let s: ConsoleServer;
before(async () => {
  s = await consoleServer(import.meta.filename, { SIGNUP_CONFIRM: "email" });
});
after(() => s.close());

test("review 13.2: sign up, check the inbox, confirm from the mailed link, and the organisation opens", async () => {
  const page = await s.page("desktop");
  await page.goto("/signup");
  const email = uniqueEmail("cora");
  await page.getByLabel("Your name").fill("Cora Confirm");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("a quiet lake at dawn");
  await page.getByLabel("Organisation name").fill("Confirmed Co");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Check your inbox" }).waitFor();

  const mail = await s.mailTo(email, /Confirm your Rollcall account/);
  const link = linkIn(mail.text, `${s.url}/confirm-signup?token=`);
  await page.goto(link);
  await page.getByRole("heading", { name: "Confirm your account" }).waitFor();
  await s.shot(page, "confirm-signup");
  await s.checkA11y(page, "confirm sign-up page");
  await page.getByRole("button", { name: "Confirm and open my account" }).click();
  await page.waitForURL(/\/orgs\/[^/]+$/);
  await page.getByText("Confirmed Co").first().waitFor();

  // The link works once.
  const other = await s.page("desktop");
  await other.goto(link);
  await other.getByRole("button", { name: "Confirm and open my account" }).click();
  await other.getByRole("heading", { name: "This link no longer works" }).waitFor();
  assert.equal(
    (await s.t.db.selectFrom("users").select("id").where("email", "=", email).execute()).length,
    1,
  );
});
