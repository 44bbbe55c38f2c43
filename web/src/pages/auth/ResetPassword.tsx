// PLACEHOLDER: replaced by the page itself.
export function ResetPasswordPage() {
  return <p>ResetPasswordPage</p>;
}
