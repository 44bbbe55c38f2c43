// The password-hashing work this process has done, for /metrics: a rise without sign-ups or
// password changes to match is someone making the server hash on demand.
import { Counter, type Registry } from "prom-client";
import { passwordHashesMade } from "./passwords.js";

export function registerPasswordMetrics(registry: Registry): void {
  new Counter({
    name: "rollcall_password_hashes_total",
    help: "argon2id password hashes computed by this process (sign-ups, password changes and resets).",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(passwordHashesMade());
    },
  });
}
