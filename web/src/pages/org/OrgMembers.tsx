// PLACEHOLDER: replaced by the page itself.
export function OrgMembersPage() {
  return <p>OrgMembersPage</p>;
}
