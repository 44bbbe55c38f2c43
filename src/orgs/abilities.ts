// What the caller may do to each member of a list, as the answer says it, so that the console
// offers exactly what the routes then allow instead of guessing from role names. Decided by the
// rule the routes apply (rule 1, orgGrantRefusal); a conflict such as removing or demoting the
// last owner (rule 2) is not a permission and still answers 409 when tried.
import { orgGrantRefusal } from "../access/can.js";
import { type Catalogue, ORG_ROLES } from "../access/catalogue.js";

/** What the caller may do to a member, as an answer says it. */
export interface MemberAbilities {
  changeRole: boolean;
  remove: boolean;
}

/** `caller` acting on `member`, as changeMemberRole and removeMember decide it. */
export function memberAbilities(
  catalogue: Catalogue,
  caller: { userId: string; orgRole: string },
  member: { userId: string; role: string },
): MemberAbilities {
  const may = (to: string | null) => orgGrantRefusal(catalogue, caller.orgRole, member.role, to) === null;
  return {
    changeRole: ORG_ROLES.some((to) => to !== member.role && may(to)),
    // Anyone may leave (the route's selfParam); anyone else is removed by the rule.
    remove: member.userId === caller.userId || may(null),
  };
}
