// Where webhooks may go (docs/webhooks.md#targets, DESIGN §8): https only unless allowed, no
// credentials or fragment in the URL, and never a loopback, private, link-local or otherwise
// non-public address — checked on the URL's face at registration and on every address the name
// resolves to at delivery.
import assert from "node:assert/strict";
import type { LookupAddress } from "node:dns";
import { describe, test } from "node:test";
import { AppError } from "../core/errors.js";
import {
  checkWebhookUrl,
  classifyAddress,
  MAX_WEBHOOK_URL_LENGTH,
  resolveTarget,
  type TargetPolicy,
  TargetRefused,
  TargetUnresolved,
} from "./target.js";

const strict: TargetPolicy = { allowHttp: false, allowPrivate: false };
const httpOk: TargetPolicy = { allowHttp: true, allowPrivate: false };
const open: TargetPolicy = { allowHttp: true, allowPrivate: true };

// A lookup that answers from a table and counts its calls.
function fakeLookup(table: Record<string, string[]>) {
  const calls: string[] = [];
  const lookup = async (hostname: string, options: { all: true }): Promise<LookupAddress[]> => {
    assert.equal(options.all, true, "every address is asked for");
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { lookup, calls };
}

// Asserts a validation_failed on the field url whose message matches `pattern`.
function refusedUrl(raw: string, policy: TargetPolicy, pattern: RegExp) {
  assert.throws(
    () => checkWebhookUrl(raw, policy),
    (e: unknown) => {
      assert.ok(e instanceof AppError, String(e));
      assert.equal(e.code, "validation_failed");
      assert.equal(e.status, 400);
      assert.equal(e.errors?.length, 1);
      assert.equal(e.errors?.[0]?.field, "url");
      assert.equal(e.errors?.[0]?.message, e.message);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe("checkWebhookUrl: the URL's form", () => {
  test("an https URL with a path, a query and a port is accepted, normalised", () => {
    const url = checkWebhookUrl("HTTPS://Hooks.Example.COM:8443/rollcall/in?team=7", strict);
    assert.equal(url.href, "https://hooks.example.com:8443/rollcall/in?team=7");
  });

  test("http is refused unless WEBHOOK_ALLOW_HTTP, and other schemes always", () => {
    refusedUrl("http://hooks.example.com/", strict, /must start with https:\/\//);
    assert.equal(checkWebhookUrl("http://hooks.example.com/", httpOk).protocol, "http:");
    for (const raw of [
      "ftp://hooks.example.com/",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "ws://a.example/",
    ]) {
      refusedUrl(raw, httpOk, /must start with https:\/\/ or http:\/\//);
    }
  });

  test("a relative URL or garbage is refused", () => {
    for (const raw of [
      "hooks.example.com/in",
      "/in",
      "",
      "https://",
      "https://exa mple.com/",
      "https://[::1/",
    ]) {
      refusedUrl(raw, strict, /not a valid absolute URL/);
    }
  });

  test("a user name or password is refused", () => {
    refusedUrl("https://user:secret@hooks.example.com/", strict, /user name or password/);
    refusedUrl("https://user@hooks.example.com/", strict, /user name or password/);
    refusedUrl("https://:secret@hooks.example.com/", strict, /user name or password/);
  });

  test("a fragment is refused, even an empty one", () => {
    refusedUrl("https://hooks.example.com/in#part", strict, /#fragment/);
    refusedUrl("https://hooks.example.com/in#", strict, /#fragment/);
  });

  test("2048 characters are accepted, 2049 refused", () => {
    const base = "https://hooks.example.com/";
    const longest = base + "a".repeat(MAX_WEBHOOK_URL_LENGTH - base.length);
    assert.equal(checkWebhookUrl(longest, strict).href.length, 2048);
    refusedUrl(`${longest}a`, strict, /at most 2048 characters/);
  });

  test("one that grows past 2048 characters when normalised is refused", () => {
    const base = "https://hooks.example.com/";
    // Each space becomes %20 in the normalised URL.
    refusedUrl(`${base}${" x".repeat(700)}`, strict, /at most 2048 characters/);
  });

  test("localhost and *.localhost are refused without asking DNS, unless private targets are allowed", () => {
    refusedUrl("https://localhost/in", strict, /localhost is this server itself/);
    refusedUrl("https://LOCALHOST./in", strict, /this server itself/);
    refusedUrl("https://hooks.localhost/in", strict, /hooks\.localhost is this server itself/);
    assert.equal(checkWebhookUrl("http://localhost:3000/in", open).hostname, "localhost");
  });
});

// Each refused class: IP literals as a URL may spell them (checkWebhookUrl), then the same address
// behind a name (resolveTarget). `host` is the URL's host, `address` what a resolver would answer.
const REFUSED: { name: string; host: string; address: string; range: string }[] = [
  { name: "IPv4 loopback", host: "127.0.0.1", address: "127.0.0.1", range: "loopback" },
  { name: "IPv4 loopback beyond .1", host: "127.8.9.10", address: "127.8.9.10", range: "loopback" },
  {
    name: "IPv4 loopback as one decimal number",
    host: "2130706433",
    address: "127.0.0.1",
    range: "loopback",
  },
  { name: "IPv4 loopback in hex, short form", host: "0x7f.1", address: "127.0.0.1", range: "loopback" },
  { name: "IPv4 loopback in octal", host: "0177.0.0.01", address: "127.0.0.1", range: "loopback" },
  { name: "IPv4 loopback with a trailing dot", host: "127.0.0.1.", address: "127.0.0.1", range: "loopback" },
  { name: "IPv6 loopback", host: "[::1]", address: "::1", range: "loopback" },
  { name: "IPv6 loopback spelt out", host: "[0:0:0:0:0:0:0:1]", address: "::1", range: "loopback" },
  { name: "private 10/8", host: "10.0.0.1", address: "10.0.0.1", range: "private" },
  { name: "private 172.16/12", host: "172.31.255.254", address: "172.31.255.254", range: "private" },
  { name: "private 192.168/16", host: "192.168.1.10", address: "192.168.1.10", range: "private" },
  { name: "link-local 169.254/16", host: "169.254.10.20", address: "169.254.10.20", range: "linkLocal" },
  {
    name: "the cloud metadata address",
    host: "169.254.169.254",
    address: "169.254.169.254",
    range: "linkLocal",
  },
  { name: "IPv6 link-local fe80::/10", host: "[fe80::1]", address: "fe80::1", range: "linkLocal" },
  {
    name: "IPv6 unique local fc00::/7",
    host: "[fd12:3456::1]",
    address: "fd12:3456::1",
    range: "uniqueLocal",
  },
  {
    name: "the IPv6 cloud metadata address",
    host: "[fd00:ec2::254]",
    address: "fd00:ec2::254",
    range: "uniqueLocal",
  },
  {
    name: "carrier-grade NAT 100.64/10",
    host: "100.64.1.1",
    address: "100.64.1.1",
    range: "carrierGradeNat",
  },
  { name: "IPv4 unspecified 0.0.0.0", host: "0.0.0.0", address: "0.0.0.0", range: "unspecified" },
  { name: "IPv4 unspecified written 0", host: "0", address: "0.0.0.0", range: "unspecified" },
  { name: "IPv6 unspecified ::", host: "[::]", address: "::", range: "unspecified" },
  { name: "IPv4 multicast", host: "224.0.0.251", address: "224.0.0.251", range: "multicast" },
  { name: "IPv6 multicast", host: "[ff02::1]", address: "ff02::1", range: "multicast" },
  { name: "IPv4 broadcast", host: "255.255.255.255", address: "255.255.255.255", range: "broadcast" },
  { name: "IPv4 reserved 240/4", host: "240.0.0.1", address: "240.0.0.1", range: "reserved" },
  { name: "IPv4 documentation 192.0.2/24", host: "192.0.2.1", address: "192.0.2.1", range: "reserved" },
  {
    name: "IPv6 documentation 2001:db8::/32",
    host: "[2001:db8::1]",
    address: "2001:db8::1",
    range: "reserved",
  },
  {
    name: "IPv4-mapped loopback",
    host: "[::ffff:127.0.0.1]",
    address: "::ffff:127.0.0.1",
    range: "loopback",
  },
  { name: "IPv4-mapped private", host: "[::ffff:10.0.0.1]", address: "::ffff:a00:1", range: "private" },
  {
    name: "IPv4-mapped metadata address",
    host: "[0:0:0:0:0:ffff:169.254.169.254]",
    address: "::ffff:169.254.169.254",
    range: "linkLocal",
  },
  {
    name: "IPv4-translated (::ffff:0:a.b.c.d)",
    host: "[::ffff:0:10.1.2.3]",
    address: "::ffff:0:a01:203",
    range: "private",
  },
  { name: "IPv4-compatible (::a.b.c.d)", host: "[::127.0.0.1]", address: "::7f00:1", range: "loopback" },
  {
    name: "NAT64 64:ff9b::/96",
    host: "[64:ff9b::192.168.0.1]",
    address: "64:ff9b::c0a8:1",
    range: "private",
  },
  {
    name: "local-use NAT64 64:ff9b:1::/48",
    host: "[64:ff9b:1::a00:1]",
    address: "64:ff9b:1::a00:1",
    range: "rfc6052",
  },
  { name: "6to4 2002::/16", host: "[2002:7f00:1::1]", address: "2002:7f00:1::1", range: "loopback" },
  {
    // Server 65.54.227.120 is public; the client, stored inverted, is 10.0.0.1.
    name: "Teredo 2001::/32 with a private client",
    host: "[2001:0:4136:e378:8000:63bf:f5ff:fffe]",
    address: "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    range: "private",
  },
];

describe("refused address classes", () => {
  for (const c of REFUSED) {
    test(`${c.name}: refused as ${c.range}, as a URL's host and behind a name; allowed with allowPrivate`, async () => {
      // On the URL's face, at registration.
      const raw = `https://${c.host}:8443/in`;
      refusedUrl(raw, strict, /is (a|an|the) .*address.*; webhooks go to public addresses only\.$/);
      assert.equal(checkWebhookUrl(raw, open).pathname, "/in");

      // The same address behind a name, at delivery.
      const { lookup, calls } = fakeLookup({ "hooks.example.com": [c.address] });
      const url = new URL("https://hooks.example.com/in");
      await assert.rejects(resolveTarget(url, strict, lookup), (e: unknown) => {
        assert.ok(e instanceof TargetRefused, String(e));
        assert.equal(e.reason, c.range);
        assert.match(e.message, /^hooks\.example\.com resolves to (a|an|the) .*address/);
        // The message names the host the admin gave, not the addresses behind it.
        assert.ok(!e.message.includes(c.address), e.message);
        return true;
      });
      assert.deepEqual(calls, ["hooks.example.com"]);
      const allowed = await resolveTarget(url, open, lookup);
      assert.equal(allowed.address, c.address);

      // An IP literal given to resolveTarget is refused without asking DNS.
      const literal = fakeLookup({});
      await assert.rejects(resolveTarget(new URL(raw), strict, literal.lookup), TargetRefused);
      assert.equal(literal.calls.length, 0);
    });
  }

  test("the class names are the ones ipaddr.js gives, read through the IPv4 inside IPv6 forms", () => {
    assert.deepEqual(classifyAddress("::ffff:10.0.0.1"), { range: "private", carrier: "ipv4Mapped" });
    assert.deepEqual(classifyAddress("2002:a9fe:a9fe::"), { range: "linkLocal", carrier: "6to4" });
    assert.deepEqual(classifyAddress("169.254.169.254"), { range: "linkLocal", carrier: null });
    assert.deepEqual(classifyAddress("not an address"), { range: "invalid", carrier: null });
  });
});

describe("public addresses", () => {
  const PUBLIC = [
    { host: "93.184.216.34", address: "93.184.216.34", family: 4 },
    {
      host: "[2606:2800:220:1:248:1893:25c8:1946]",
      address: "2606:2800:220:1:248:1893:25c8:1946",
      family: 6,
    },
    { host: "[::ffff:93.184.216.34]", address: "::ffff:5db8:d822", family: 6 },
    { host: "[2002:5db8:d822::1]", address: "2002:5db8:d822::1", family: 6 },
    { host: "[64:ff9b::93.184.216.34]", address: "64:ff9b::5db8:d822", family: 6 },
    // 8.8.8.8 sits between the private and reserved ranges, 172.32.0.1 just past 172.16/12.
    { host: "8.8.8.8", address: "8.8.8.8", family: 4 },
    { host: "172.32.0.1", address: "172.32.0.1", family: 4 },
  ] as const;

  for (const p of PUBLIC) {
    test(`${p.host} passes, as a URL's host and behind a name`, async () => {
      assert.equal(checkWebhookUrl(`https://${p.host}/in`, strict).pathname, "/in");
      const { lookup } = fakeLookup({ "hooks.example.com": [p.address] });
      const target = await resolveTarget(new URL("https://hooks.example.com/in"), strict, lookup);
      assert.deepEqual(
        { address: target.address, family: target.family, href: target.url.href },
        { address: p.address, family: p.family, href: "https://hooks.example.com/in" },
      );
    });
  }
});

describe("resolveTarget", () => {
  const url = new URL("https://hooks.example.com/in");

  test("a name with a public and a private address is refused, in either order", async () => {
    for (const addresses of [
      ["93.184.216.34", "10.0.0.7"],
      ["10.0.0.7", "93.184.216.34"],
      ["2606:2800:220:1:248:1893:25c8:1946", "::1"],
    ]) {
      const { lookup } = fakeLookup({ "hooks.example.com": addresses });
      await assert.rejects(resolveTarget(url, strict, lookup), TargetRefused, addresses.join(", "));
    }
  });

  test("of several public addresses, the first is used; the host is asked once", async () => {
    const { lookup, calls } = fakeLookup({ "hooks.example.com": ["93.184.216.34", "93.184.216.35"] });
    const target = await resolveTarget(url, strict, lookup);
    assert.equal(target.address, "93.184.216.34");
    assert.equal(target.family, 4);
    assert.deepEqual(calls, ["hooks.example.com"]);
  });

  test("a name that does not resolve, or has no address, is TargetUnresolved", async () => {
    const { lookup } = fakeLookup({ "empty.example.com": [] });
    await assert.rejects(
      resolveTarget(new URL("https://gone.example.com/"), strict, lookup),
      (e: unknown) => {
        assert.ok(e instanceof TargetUnresolved);
        assert.equal(e.code, "ENOTFOUND");
        assert.match(e.message, /gone\.example\.com could not be resolved/);
        return true;
      },
    );
    await assert.rejects(
      resolveTarget(new URL("https://empty.example.com/"), strict, lookup),
      TargetUnresolved,
    );
  });

  test("the URL is checked again against the policy of the day", async () => {
    const { lookup, calls } = fakeLookup({ "hooks.example.com": ["93.184.216.34"] });
    await assert.rejects(
      resolveTarget(new URL("http://hooks.example.com/"), strict, lookup),
      (e: unknown) => {
        assert.ok(e instanceof TargetRefused);
        assert.equal(e.reason, "url");
        assert.match(e.message, /https:\/\//);
        return true;
      },
    );
    await assert.rejects(
      resolveTarget(new URL("https://u:p@hooks.example.com/"), strict, lookup),
      /user name or password/,
    );
    await assert.rejects(resolveTarget(new URL("https://localhost/"), strict, lookup), /this server itself/);
    assert.equal(calls.length, 0, "nothing refused on its face reaches DNS");
  });

  test("an unreadable answer from the resolver is refused even with allowPrivate", async () => {
    const { lookup } = fakeLookup({ "hooks.example.com": ["not-an-address"] });
    await assert.rejects(resolveTarget(url, open, lookup), (e: unknown) => {
      assert.ok(e instanceof TargetRefused);
      assert.equal(e.reason, "invalid");
      return true;
    });
  });
});
