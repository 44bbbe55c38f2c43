// PLACEHOLDER: replaced by the page itself.
export function AccountPage() {
  return <p>AccountPage</p>;
}
