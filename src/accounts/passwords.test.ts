// The dummy hash an unknown address is checked against (docs/rules.md#rule-11): it must cost what a real
// password check costs, from the very first unknown address.
import assert from "node:assert/strict";
import { test } from "node:test";
import { burnPasswordCheck, dummyHash, hashPassword } from "./passwords.js";

/** An argon2 hash's algorithm and parameters: `$argon2id$v=19$m=19456,t=2,p=1`. */
const parameters = (hash: string) => hash.split("$").slice(1, 4).join("$");

test("defect: the dummy hash was made at the first unknown address, which then cost a hash and a verify; it exists as the module loads", async () => {
  // Already under way at import, before any log-in: awaiting it here makes no new hash.
  const settled = await Promise.race([
    dummyHash.then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000)),
  ]);
  assert.equal(settled, true, "the dummy hash is made without anyone asking for it");
  await burnPasswordCheck("whatever the guess");
});

test("the dummy hash has the parameters of a real one, so verifying against it costs the same", async () => {
  const real = await hashPassword("correct horse battery staple");
  assert.equal(parameters(await dummyHash), parameters(real));
  assert.match(parameters(real), /^argon2id\$v=19\$m=19456,t=2,p=1$/);
});
