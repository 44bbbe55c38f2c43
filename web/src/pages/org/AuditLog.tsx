// PLACEHOLDER: replaced by the page itself.
export function AuditLogPage() {
  return <p>AuditLogPage</p>;
}
