// PLACEHOLDER: replaced by the page itself.
export function WorkspaceUsersPage() {
  return <p>WorkspaceUsersPage</p>;
}
