// The console's User-Agent reader (web/src/lib/user-agent.ts) on real User-Agent strings, as
// browsers and tools send them: what "My devices" shows for each session.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseUserAgent } from "../../web/src/lib/user-agent.js";

const cases: { what: string; ua: string | null; label: string; device: string }[] = [
  {
    what: "Chrome on Windows",
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    label: "Chrome 131 on Windows",
    device: "desktop",
  },
  {
    what: "Safari on an iPhone",
    ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
    label: "Safari 17 on iPhone",
    device: "phone",
  },
  {
    what: "Firefox on Ubuntu",
    ua: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    label: "Firefox 133 on Ubuntu",
    device: "desktop",
  },
  {
    what: "Firefox on another Linux",
    ua: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    label: "Firefox 128 on Linux",
    device: "desktop",
  },
  {
    what: "Edge on macOS (it also says Chrome and Safari)",
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
    label: "Edge 131 on macOS",
    device: "desktop",
  },
  {
    what: "Safari on macOS",
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    label: "Safari 18 on macOS",
    device: "desktop",
  },
  {
    what: "Chrome on an Android phone",
    ua: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
    label: "Chrome 131 on Android 14",
    device: "phone",
  },
  {
    what: "Chrome on an Android tablet (no 'Mobile')",
    ua: "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    label: "Chrome 130 on Android 13",
    device: "tablet",
  },
  {
    what: "Safari on an iPad",
    ua: "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    label: "Safari 16 on iPad",
    device: "tablet",
  },
  {
    what: "Chrome on an iPhone (CriOS)",
    ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    label: "Chrome 131 on iPhone",
    device: "phone",
  },
  {
    what: "Samsung Internet",
    ua: "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
    label: "Samsung Internet 25 on Android 14",
    device: "phone",
  },
  {
    what: "Opera on Windows",
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
    label: "Opera 115 on Windows",
    device: "desktop",
  },
  {
    what: "Chrome on a Chromebook",
    ua: "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    label: "Chrome 131 on ChromeOS",
    device: "desktop",
  },
  {
    what: "headless Chrome (the browser tests)",
    ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36",
    label: "Chrome 131 on Linux",
    device: "desktop",
  },
  { what: "curl", ua: "curl/8.5.0", label: "curl 8.5.0", device: "other" },
  { what: "Python requests", ua: "python-requests/2.32.3", label: "Python requests 2.32.3", device: "other" },
  { what: "Postman", ua: "PostmanRuntime/7.42.0", label: "Postman 7.42.0", device: "other" },
  { what: "an unknown tool without a version", ua: "rollcall-sync", label: "rollcall-sync", device: "other" },
  { what: "an empty header", ua: "", label: "Unknown browser", device: "other" },
  { what: "no header at all", ua: null, label: "Unknown browser", device: "other" },
  {
    what: "a Mozilla string with no known browser",
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    label: "Unknown browser on Windows",
    device: "desktop",
  },
];

for (const c of cases) {
  test(`user agent: ${c.what} → ${c.label}`, () => {
    const info = parseUserAgent(c.ua);
    assert.equal(info.label, c.label);
    assert.equal(info.device, c.device);
  });
}

test("user agent: the parts are given apart as well as in the label", () => {
  assert.deepEqual(
    parseUserAgent(
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    { browser: "Chrome", version: "131", os: "Windows", device: "desktop", label: "Chrome 131 on Windows" },
  );
  assert.deepEqual(parseUserAgent("curl/8.5.0"), {
    browser: "curl",
    version: "8.5.0",
    os: null,
    device: "other",
    label: "curl 8.5.0",
  });
});
