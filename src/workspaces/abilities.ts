// What the caller may do to each person of a workspace's member list, as the answer says it, so
// that the console offers what the routes then allow — host-defined roles included — instead of
// guessing from role names. Decided by the rule PUT and DELETE …/members/{user} apply (rule 1,
// workspaceGrantRefusal), from the caller's standing in this workspace.
import { type Standing, workspaceGrantRefusal } from "../access/can.js";
import type { Catalogue } from "../access/catalogue.js";

/** What the caller may do to a person of the workspace, as an answer says it. */
export interface WorkspaceMemberAbilities {
  changeRole: boolean;
  remove: boolean;
}

/** `caller` (their standing in the workspace) acting on a person with `role` there. */
export function workspaceMemberAbilities(
  catalogue: Catalogue,
  caller: Standing,
  member: { role: string },
): WorkspaceMemberAbilities {
  const may = (to: string | null) => workspaceGrantRefusal(catalogue, caller, member.role, to) === null;
  return {
    changeRole: catalogue.workspaceRoles.some((r) => r.name !== member.role && may(r.name)),
    remove: may(null),
  };
}
