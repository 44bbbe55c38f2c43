// The canonical spelling of an address (review 13.1): look-alikes that are compatibility forms of
// ASCII letters fold to the ASCII address; letters of their own stay distinct.
import assert from "node:assert/strict";
import { test } from "node:test";
import { emailKey } from "./core/rate-limit.js";
import { canonicalEmail, foldEmail } from "./email.js";

test("review 13.1: the Kelvin sign, the long s and fullwidth letters fold to the ASCII address", () => {
  assert.equal(canonicalEmail("\u212Aim@example.org"), "kim@example.org");
  assert.equal(canonicalEmail("\u017Fam@example.org"), "sam@example.org");
  assert.equal(canonicalEmail("ｋｉｍ@ｅｘａｍｐｌｅ.ｏｒｇ"), "kim@example.org");
  assert.equal(canonicalEmail("ｋｉｍ＠example.org"), "kim@example.org", "a fullwidth @ is an @");
  assert.equal(canonicalEmail("  Kim@Example.ORG \t"), "kim@example.org");
});

test("review 13.1: Turkish dotted İ and dotless ı stay distinct from i", () => {
  assert.equal(canonicalEmail("kım@example.org"), "kım@example.org");
  assert.equal(canonicalEmail("KİM@example.org"), "ki\u0307m@example.org");
  assert.notEqual(canonicalEmail("kım@example.org"), "kim@example.org");
  assert.notEqual(canonicalEmail("KİM@example.org"), "kim@example.org");
});

test("review 13.1: a spelling whose canonical form is not an address is refused", () => {
  assert.equal(canonicalEmail("kim@example"), undefined, "no dot in the domain");
  assert.equal(canonicalEmail("k\u00A0im@example.org"), undefined, "NFKC makes the no-break space a space");
  assert.equal(canonicalEmail("k\u2474@example.org"), undefined, "⑴ is (1): parentheses are refused");
  assert.equal(
    canonicalEmail(`${"\uFDFA".repeat(14)}@example.org`),
    undefined,
    "longer than 254 once folded",
  );
});

test("review 13.1: the canonical form is a fixed point, for every code point", () => {
  for (let cp = 0; cp < 0x30000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const folded = foldEmail(`a${String.fromCodePoint(cp)}b`);
    assert.equal(foldEmail(folded), folded, `U+${cp.toString(16)}`);
  }
});

test("review 13.1: every spelling of one address has one rate-limit key", () => {
  const key = emailKey("kim@example.org");
  for (const spelling of ["\u212Aim@example.org", "ｋｉｍ@example.org", " KIM@example.org "])
    assert.equal(emailKey(spelling), key, spelling);
  assert.notEqual(emailKey("kım@example.org"), key);
});
