// PLACEHOLDER: replaced by the page itself.
export function LogInPage() {
  return <p>LogInPage</p>;
}
