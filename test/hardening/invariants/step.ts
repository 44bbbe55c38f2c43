// One step of a run, judged: the world before, the request, the world after. Whatever the server
// answered, a 5xx is a failure; a refusal must be a problem answer that changed nothing; a success
// is held to the oracle (oracle.ts). After every step the standing and SQL invariants must hold
// (checks.ts). A failure throws with the run so far, ids written as A, B, P0…, ws0…, inv0…, so
// that fast-check's report reads as the story of the run.
import type { Answer } from "../../helpers/app.js";
import { type Change, checkInvariants, diff, type Snapshot, snapshot } from "./checks.js";
import { judgeSuccess, type StepKind, unbacked } from "./oracle.js";
import type { World } from "./world.js";

export interface StepResult {
  answer: Answer;
  before: Snapshot;
  after: Snapshot;
  changes: Change[];
}

/** The answer of a step that sends no request (the clock's). */
export const NO_ANSWER: Answer = { status: 200, json: null, text: "", headers: {} };

/** The text with the run's ids written as A, B, P0…, ws0…, inv0…. */
function readable(world: World, text: string): string {
  let out = text;
  world.orgs.forEach((id, i) => {
    out = out.replaceAll(id, i === 0 ? "A" : "B");
  });
  for (const p of world.people) out = out.replaceAll(p.userId, p.label);
  world.workspaces.forEach((w, i) => {
    out = out.replaceAll(w.id, `ws${i}`);
  });
  world.invitations.forEach((inv, i) => {
    out = out.replaceAll(inv.id, `inv${i}`);
  });
  return out;
}

/**
 * One step: the world before, the request, the world after; then the judgement. `expect` adds
 * what the answer itself promises (the role it says was set is the role stored, …).
 */
export async function step(
  world: World,
  name: string,
  label: string,
  kind: StepKind,
  send: () => Promise<Answer>,
  expect: (r: StepResult) => string[] = () => [],
): Promise<StepResult> {
  const { t, stats } = world.suite;
  const before = await snapshot(t, world.orgs);
  const answer = await send();
  const after = await snapshot(t, world.orgs);
  const result = { answer, before, after, changes: diff(before, after) };
  world.now = after;
  stats.steps++;
  const count = stats.tally.get(name) ?? { ok: 0, refused: 0 };
  stats.tally.set(name, count);
  world.log.push(`${label} → ${answer.status}${answer.status >= 400 ? ` ${answer.json?.code ?? ""}` : ""}`);

  const bad: string[] = [];
  if (answer.status >= 500) {
    bad.push(`answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  } else if (answer.status >= 400) {
    count.refused++;
    stats.refused++;
    if (
      !/^application\/problem\+json/.test(String(answer.headers["content-type"])) ||
      typeof answer.json?.code !== "string"
    )
      bad.push(`the refusal is not a problem answer: ${answer.text.slice(0, 200)}`);
    for (const c of result.changes)
      bad.push(`a refused step changed ${c.table} ${c.key}: ${c.before ?? "∅"} → ${c.after ?? "∅"}`);
  } else {
    count.ok++;
    bad.push(...judgeSuccess(kind, before, after, result.changes));
  }
  bad.push(...expect(result));
  bad.push(...unbacked(after));
  bad.push(...(await checkInvariants(t)));
  if (bad.length > 0) {
    throw new Error(
      readable(
        world,
        `step "${label}" → ${answer.status} broke:\n  - ${bad.join("\n  - ")}\n` +
          `the run so far:\n  ${world.log.join("\n  ")}`,
      ),
    );
  }
  return result;
}
