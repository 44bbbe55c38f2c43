// After the restart: every request of the round is sent again, as a client that lost its answer
// would, and each answer is held to the contract (an interrupted request that had not happened
// succeeds; one that had happened answers "already done"). Then everyone who signed up through an
// invitation logs in and must be in that one organisation.
import assert from "node:assert/strict";
import { PASSWORD } from "../../helpers/app.js";
import type { ServerProcess } from "../../helpers/server.js";
import type { Seen } from "./checks.js";
import { expectStatus, type Op, type Result, request, type World } from "./world.js";

/**
 * Sends every request of the round again on the restarted server, as a client that never got its
 * answer would, and checks the answer exactly: an interrupted request that had not happened must
 * succeed now; one that had happened (answered, or committed before its answer was lost) must
 * answer what the contract gives for that. The racers for a link go one after another (whether a
 * use is left depends on the ones before), the others all at once.
 */
export async function retryAll(
  server: ServerProcess,
  world: World,
  ops: Op[],
  results: Result[],
  committed: boolean[],
  seen: Seen,
): Promise<void> {
  const usesLeft = new Map([...seen.invitations].map(([id, i]) => [id, i.maxUses - i.uses]));
  const retry = async (op: Op, i: number): Promise<Result> => {
    const what = `retried ${op.kind} for ${op.person.email} (${committed[i] ? "it had happened" : "it had not"})`;
    const res = await op.send(server);
    const invitationId = op.invitation?.id ?? "";
    if (op.kind === "accept") {
      // Accepting again after it happened answers the same (join.ts: a second use by the same
      // person consumes nothing); otherwise it is a first accept, which a used-up link refuses.
      if (!committed[i] && usesLeft.get(invitationId) === 0) {
        assert.equal(res.status, 410, `${what}: ${res.text}`);
        assert.equal(res.json.code, "invitation_used", what);
        return "refused";
      }
      assert.equal(res.status, 200, `${what}: ${res.text}`);
      assert.equal(res.json.organization.id, world.orgId, what);
      assert.equal(res.json.role, op.after?.role, what);
      if (!committed[i]) usesLeft.set(invitationId, (usesLeft.get(invitationId) ?? 0) - 1);
    } else if (op.kind === "signup") {
      if (committed[i] && op.invitation?.delivery === "email") {
        // The invitation is checked before the address (rule 11), and it has been used: by them.
        assert.equal(res.status, 410, `${what}: ${res.text}`);
        assert.equal(res.json.code, "invitation_used", what);
      } else {
        // Not yet signed up: the real sign-up. Signed up through a link with uses left: the
        // answer for an address that has an account, the same as a real one (rule 11).
        assert.equal(res.status, 201, `${what}: ${res.text}`);
      }
    } else if (op.kind === "role") {
      assert.equal(res.status, 200, `${what}: ${res.text}`);
      assert.equal(res.json.member.role, op.after?.role, what);
    } else if (committed[i]) {
      assert.equal(res.status, 404, `${what}: ${res.text}`);
      assert.equal(res.json.code, "member_not_found", what);
    } else {
      assert.equal(res.status, 204, `${what}: ${res.text}`);
    }
    return "done";
  };
  const all = [...ops.entries()];
  for (const [i, op] of all) if (op.contended) results[i] = await retry(op, i);
  await Promise.all(
    all.map(async ([i, op]) => {
      if (!op.contended) results[i] = await retry(op, i);
    }),
  );
}

/** Each person who signed up through an invitation can log in, and is in that organisation only (rule 7). */
export async function checkNewcomers(server: ServerProcess, world: World, ops: Op[]): Promise<void> {
  const newcomers = ops.filter((op) => op.kind === "signup");
  await Promise.all(
    newcomers.map(async (op) => {
      const { email } = op.person;
      const body = { email, password: PASSWORD };
      const login = await expectStatus(
        request(server, "POST", "/api/v1/auth/login", undefined, body),
        200,
        email,
      );
      op.person.userId = login.json.user.id;
      const me = await expectStatus(
        request(server, "GET", "/api/v1/me", login.json.session.token),
        200,
        email,
      );
      const places = me.json.organizations.map((o: { id: string; role: string }) => ({
        id: o.id,
        role: o.role,
      }));
      assert.deepEqual(
        places,
        [{ id: world.orgId, role: op.after?.role }],
        `${email} is in one organisation`,
      );
    }),
  );
}
