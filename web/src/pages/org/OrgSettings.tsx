// PLACEHOLDER: replaced by the page itself.
export function OrgSettingsPage() {
  return <p>OrgSettingsPage</p>;
}
