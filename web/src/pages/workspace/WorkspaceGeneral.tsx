// PLACEHOLDER: replaced by the page itself.
export function WorkspaceGeneralPage() {
  return <p>WorkspaceGeneralPage</p>;
}
