// Browser tests: the real server (on a fresh embedded database, with a real SMTP listener)
// listening on loopback and serving the built console, driven by Debian's Chromium through
// playwright-core. No browser is ever downloaded: CHROMIUM_PATH (default /usr/bin/chromium).
//
//   const t = await consoleServer();            // server + SMTP + helpers
//   const page = await t.page("desktop");       // a fresh browser context (its own cookies)
//   await t.logIn(page, alice);                 // through the log-in form
//   await t.shot(page, "members-table");        // .tmp/screenshots/<file>/<name>.png
//   await t.checkA11y(page, "members");         // axe-core: no serious or critical violation
//
// Every page fails its test on a JavaScript error or a console error (a CSP refusal included).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { buildUser, type SignedUp, type TestApp, testApp } from "../helpers/app.js";
import { freePort } from "../helpers/cli.js";
import type { CapturedMail } from "../helpers/smtp.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

export interface ConsoleServer {
  /** The server's origin, e.g. http://127.0.0.1:41234 (also its PUBLIC_URL). */
  url: string;
  /** The in-process app: t.request() for quick set-up through the API, t.smtp for mail. */
  t: TestApp;
  browser: Browser;
  /** A fresh browser context (own cookies and storage) with one page. */
  page(viewport?: ViewportName): Promise<Page>;
  /** A new account made through the API (with its own organisation unless told otherwise). */
  user(overrides?: Parameters<typeof buildUser>[1]): Promise<SignedUp>;
  /** Logs in through the log-in form and waits to leave it. */
  logIn(page: Page, who: { email: string; password: string }): Promise<void>;
  /** The next mail to `address` whose subject matches. */
  mailTo(address: string, subject?: RegExp): Promise<CapturedMail>;
  shot(page: Page, name: string): Promise<string>;
  checkA11y(page: Page, label: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Clicks a CopyField's Copy button, waits for it to say "Copied", then for the clipboard to hold
 * `expected`. The page is brought to the front first: Chromium lets only a focused document use
 * the clipboard, and the component falls back to execCommand (which may not reach the
 * clipboard) when writeText is refused. The "Copied" label shows for 2.5 s, so its wait starts
 * before the click; and the clipboard is polled, because writeText settles after the click.
 */
export async function copyFrom(page: Page, scope: Locator, expected: string): Promise<void> {
  await page.bringToFront();
  const copied = scope.getByRole("button", { name: "Copied" }).waitFor();
  await scope.getByRole("button", { name: "Copy" }).click();
  await copied;
  const end = Date.now() + 5_000;
  let held = "";
  while (Date.now() < end) {
    held = await page
      .evaluate<string>("navigator.clipboard.readText()")
      .catch((err: Error) => `(${err.message})`);
    if (held === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`the clipboard holds ${JSON.stringify(held)}, not ${JSON.stringify(expected)}`);
}

/** Where a test file's screenshots go: .tmp/screenshots/<file name>/. */
export function screenshotDir(testFile: string): string {
  const dir = path.join(root, ".tmp", "screenshots", path.basename(testFile, ".test.ts"));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function consoleServer(
  testFile: string,
  env: Record<string, string> = {},
): Promise<ConsoleServer> {
  const consoleDir = process.env.CONSOLE_DIR ?? path.join(root, ".tmp", "console");
  assert.ok(
    existsSync(path.join(consoleDir, "index.html")),
    `no built console in ${consoleDir}: run the browser tests through npm test (it builds it)`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t = await testApp({
    PUBLIC_URL: url,
    CONSOLE_DIR: consoleDir,
    // Every test logs in from 127.0.0.1: the per-IP limits are not what these tests are about.
    RATE_LIMIT_LOGIN_IP: "10000/15m",
    RATE_LIMIT_SIGNUP_IP: "10000/1h",
    RATE_LIMIT_INVITATION_LOOKUP_IP: "10000/10m",
    RATE_LIMIT_INVITATION_MAILS_RECIPIENT: "10000/1d",
    RATE_LIMIT_ORGS_USER: "10000/1d",
    RATE_LIMIT_SEARCH_USER: "10000/1m",
    LOG_LEVEL: "warn",
    ...env,
  });
  await t.app.fastify.listen({ port, host: "127.0.0.1" });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI: Chromium's sandbox needs user namespaces it may not have there.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const contexts: BrowserContext[] = [];
  const shots = screenshotDir(testFile);
  const problems: string[] = [];

  return {
    url,
    t,
    browser,
    async page(viewport = "desktop") {
      const context = await browser.newContext({ ...VIEWPORTS[viewport], baseURL: url, locale: "en-GB" });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
      page.on("console", (msg) => {
        // A 4xx answer the page expects (a failed log-in) is logged by Chromium as a resource
        // error; it is the page's business to show it. Anything else is a defect.
        if (
          msg.type() === "error" &&
          !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())
        ) {
          problems.push(`console error: ${msg.text()}`);
        }
      });
      return page;
    },
    user: (overrides = {}) => buildUser(t, overrides),
    async logIn(page, who) {
      await page.goto("/login");
      await page.getByLabel("E-mail").fill(who.email);
      await page.getByLabel("Password", { exact: true }).fill(who.password);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL((u) => !u.pathname.startsWith("/login"));
    },
    mailTo: (address, subject) =>
      t.smtp.waitFor((m) => m.to.includes(address) && (!subject || subject.test(m.subject)), 15_000),
    async shot(page, name) {
      const file = path.join(shots, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async checkA11y(page, label) {
      await page.evaluate(AXE_SOURCE);
      const violations = await page.evaluate(async () => {
        // biome-ignore lint/suspicious/noExplicitAny: axe is injected above; the page's globals are untyped here
        const page = globalThis as any;
        const result = await page.axe.run(page.document, {
          runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] },
        });
        return result.violations.map(
          (v: { id: string; impact: string; help: string; nodes: { target: string[] }[] }) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
          }),
        );
      });
      const serious = violations.filter(
        (v: { impact: string }) => v.impact === "serious" || v.impact === "critical",
      );
      assert.deepEqual(
        serious,
        [],
        `accessibility violations on ${label}:\n${JSON.stringify(serious, null, 2)}`,
      );
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
      await t.close();
      assert.deepEqual(problems, [], "the console logged errors");
    },
  };
}
