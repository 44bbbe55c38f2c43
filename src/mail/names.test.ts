// Which names carry a web address (refused where typed), and how mails show any name.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inertName, linkInName, refuseLinkInName, unlinked } from "./names.js";

describe("review 13.4: linkInName", () => {
  test("review 13.4: finds schemes, www., hosts with a path or port, and bare hosts on linked TLDs", () => {
    const cases: [string, string][] = [
      ["Billing suspended — verify your card at https://evil.example/pay", "https://evil.example/pay"],
      ["HTTP://EVIL", "HTTP://EVIL"],
      ["ftp://files.example", "ftp://files.example"],
      ["Support: www.evil.example", "www.evil.example"],
      ["evil.example/path", "evil.example/path"],
      ["see evil.example:8443 now", "evil.example:8443"],
      ["paypal-verify.com", "paypal-verify.com"],
      ["Visit evil.com.", "evil.com"],
      ["billing.evil.co.uk team", "billing.evil.co.uk"],
      ["Booking.com", "Booking.com"],
    ];
    for (const [name, link] of cases) assert.equal(linkInName(name), link, name);
  });

  test("review 13.4: ordinary names are not web addresses", () => {
    for (const name of [
      "Acme Inc.",
      "St. John's",
      "GmbH & Co. KG",
      "A.B. Dick Company",
      "J.R.R. Tolkien",
      "U.S. Steel",
      "Node.js Guild",
      "Dr.Oetker",
      "v2.0/beta",
      "Sales/Ops",
      "Wei.Wu",
      "olive@acme.com",
      "O'Brien & Sons",
      "Field Ops — North",
    ])
      assert.equal(linkInName(name), undefined, name);
  });

  test("review 13.4: refuseLinkInName answers 400 validation_failed naming the field", () => {
    assert.throws(
      () => refuseLinkInName("organizationName", "www.evil.example"),
      (e: { code?: string; status?: number; errors?: { field: string }[] }) =>
        e.code === "validation_failed" && e.status === 400 && e.errors?.[0]?.field === "organizationName",
    );
    assert.doesNotThrow(() => refuseLinkInName("name", "Acme Inc."));
  });
});

describe("review 13.4: inertName", () => {
  test("review 13.4: quotes the name and puts a word joiner before each . : / @ inside a token", () => {
    assert.equal(inertName("Acme Inc."), "“Acme Inc.”");
    assert.equal(inertName("St. John's"), "“St. John's”");
    assert.equal(inertName("evil.example/x"), "“evil\u2060.example\u2060/x”");
    assert.equal(inertName("https://e.example"), "“https\u2060:\u2060/\u2060/e\u2060.example”");
    assert.equal(inertName(" Two\r\nlines "), "“Two lines”");
    assert.equal(unlinked("ada@example.org"), "ada\u2060@example\u2060.org");
  });
});
