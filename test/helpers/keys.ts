// A service key for a test, made as the operator's CLI makes one (`rollcall service-key create`).
import { createServiceKey } from "../../src/apikeys/service-keys.js";
import type { TestApp } from "./app.js";

/** The new key's token (rsk_…) and id. */
export async function buildServiceKey(t: Pick<TestApp, "db">, name = "host backend") {
  const made = await t.db.transaction().execute((tx) => createServiceKey(tx, name));
  return { token: made.token, id: made.key.id };
}
