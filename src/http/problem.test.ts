// Database errors are translated in one place: unique constraints by name, the rest by kind.
import assert from "node:assert/strict";
import { test } from "node:test";
import { toProblem } from "./problem.js";

test("a unique-constraint violation answers the conflict its index stands for", () => {
  const pending = toProblem({
    code: "23505",
    constraint: "invitations_pending_email_key",
    message: "duplicate key",
  });
  assert.equal(pending.problem.status, 409);
  assert.equal(pending.problem.code, "invitation_pending");
  const unknown = toProblem({ code: "23505", constraint: "some_other_key", message: "duplicate key" });
  assert.equal(unknown.problem.status, 409);
  assert.equal(unknown.problem.code, "conflict");
});

test("a refused connection is 503 with Retry-After; anything unknown a bare 500", () => {
  const down = toProblem({ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:5432" });
  assert.equal(down.problem.status, 503);
  assert.equal(down.problem.code, "database_unavailable");
  assert.equal(down.headers["retry-after"], "5");
  const boom = toProblem(new Error("secret internals: SELECT * FROM users"));
  assert.equal(boom.problem.status, 500);
  assert.doesNotMatch(JSON.stringify(boom.problem), /secret|SELECT/);
});

test("a deadlock or serialization failure is 503 try_again (send it again), a statement timeout 503", () => {
  for (const code of ["40P01", "40001"]) {
    const met = toProblem({ code, message: "deadlock detected" });
    assert.equal(met.problem.status, 503);
    assert.equal(met.problem.code, "try_again");
    assert.equal(met.headers["retry-after"], "1");
  }
  const slow = toProblem({ code: "57014", message: "canceling statement due to statement timeout" });
  assert.equal(slow.problem.status, 503);
  assert.equal(slow.problem.code, "database_unavailable");
});
