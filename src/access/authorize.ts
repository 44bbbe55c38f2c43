// The host product's question — may this person do this here? — asked of an organisation or of a
// workspace, by a member about themselves, by someone who manages people about anyone, or by a
// service key (a reader, with no standing of its own) about anyone.
import { AppError, fieldError } from "../core/errors.js";
import { can, effectiveWorkspaceRole, type Scope, type Standing, scopeOf, why } from "./can.js";
import type { Catalogue } from "./catalogue.js";

export interface Authorization {
  allowed: boolean;
  /** The org role (an organisation's question) or the workspace role acted with (a workspace's). */
  role: string | null;
  reason: string;
}

export interface Asker {
  userId: string;
  standing: Standing;
  /** A service key: it asks about someone, and may ask about anyone. */
  reader?: boolean;
}

export interface Place {
  scope: Scope;
  /** The permission it takes to ask about someone else (org.users, workspace.users). */
  aboutOthers: string;
  /** The standing of someone in this place; null when they are not in its organisation. */
  standingOf(userId: string): Promise<Standing | null>;
}

/**
 * May `userId` (default: the caller) use `permission` in this place? Someone outside the
 * organisation — or no one, or another tenant's user: the answer is the same — is simply not
 * allowed.
 */
export async function authorize(
  catalogue: Catalogue,
  caller: Asker,
  place: Place,
  input: { permission: string; userId?: string | undefined },
): Promise<Authorization> {
  const scope = scopeOf(catalogue, input.permission);
  if (!scope) throw fieldError("permission", `"${input.permission}" is not a permission this server knows.`);
  if (place.scope === "org" && scope === "workspace") {
    throw fieldError(
      "permission",
      `"${input.permission}" is a workspace permission: ask the workspace (POST /api/v1/workspaces/{ws}/authorize).`,
    );
  }
  if (caller.reader && input.userId === undefined) {
    throw fieldError("userId", "A service key asks about someone: give their userId.");
  }
  const subject = input.userId ?? caller.userId;
  let standing = caller.standing;
  if (subject !== caller.userId) {
    if (!caller.reader && !can(catalogue, place.aboutOthers, caller.standing)) {
      const reason = `asking about another person needs ${place.aboutOthers}: ${why(catalogue, place.aboutOthers, caller.standing)}`;
      throw new AppError("forbidden", `You cannot do this: ${reason}.`, undefined, { fields: { reason } });
    }
    standing = (await place.standingOf(subject)) ?? { orgRole: null, workspaceRole: null };
  }
  return {
    allowed: can(catalogue, input.permission, standing),
    role: place.scope === "org" ? standing.orgRole : effectiveWorkspaceRole(catalogue, standing),
    reason: why(catalogue, input.permission, standing),
  };
}
