// PLACEHOLDER: replaced by the page itself.
export function ForgotPasswordPage() {
  return <p>ForgotPasswordPage</p>;
}
