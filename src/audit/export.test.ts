// CSV cells of the audit export: quoted per RFC 4180, and never run as spreadsheet formulas.
import assert from "node:assert/strict";
import { test } from "node:test";
import { csvField, csvLine } from "./export.js";

test("fields are quoted when they hold a comma, quote or line break", () => {
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField('Smith, "Jo"\nJr.'), '"Smith, ""Jo""\nJr."');
  assert.equal(csvField(null), "");
  assert.equal(csvLine(["a", null, "b,c"]), 'a,,"b,c"\r\n');
});

test("a value a spreadsheet would evaluate is made inert", () => {
  assert.equal(
    csvField('=HYPERLINK("http://evil.example","x")'),
    `"'=HYPERLINK(""http://evil.example"",""x"")"`,
  );
  assert.equal(csvField("+1+1"), "'+1+1");
  assert.equal(csvField("-2"), "'-2");
  assert.equal(csvField("@SUM(A1)"), "'@SUM(A1)");
  assert.equal(csvField("\tx"), "'\tx");
  assert.equal(csvField("Mary-Ann"), "Mary-Ann", "only a leading character matters");
});
