// PLACEHOLDER: replaced by the page itself.
export function OrgHomePage() {
  return <p>OrgHomePage</p>;
}
