// PLACEHOLDER: replaced by the page itself.
export function AcceptInvitationPage() {
  return <p>AcceptInvitationPage</p>;
}
