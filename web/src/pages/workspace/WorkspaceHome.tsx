// PLACEHOLDER: replaced by the page itself.
export function WorkspaceHomePage() {
  return <p>WorkspaceHomePage</p>;
}
