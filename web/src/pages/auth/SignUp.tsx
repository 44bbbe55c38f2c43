// PLACEHOLDER: replaced by the page itself.
export function SignUpPage() {
  return <p>SignUpPage</p>;
}
