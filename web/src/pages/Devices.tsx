// PLACEHOLDER: replaced by the page itself.
export function DevicesPage() {
  return <p>DevicesPage</p>;
}
