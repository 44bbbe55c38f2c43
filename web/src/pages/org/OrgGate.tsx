// The organisation a page is about, loaded once: a placeholder while it loads, "not here" for an
// unknown (or someone else's) organisation, and the friendly Forbidden page when the caller's
// role lacks the permission the page needs.
import type { ReactNode } from "react";
import { isApiError } from "../../api/client";
import type { OrgDetail } from "../../api/types";
import { Forbidden, NotFoundPage } from "../../components/Forbidden";
import { ErrorNotice, Loading } from "../../components/Page";
import { hasPermission, useOrganization } from "../../lib/places";
import { roleLabel } from "../../lib/roles";

export function OrgGate({
  orgId,
  permission,
  need = "Owner or Admin",
  children,
}: {
  orgId: string;
  /** The organisation permission the page needs, e.g. "org.users". */
  permission?: string;
  /** The roles that hold it, as the Forbidden page names them. */
  need?: string;
  children: (org: OrgDetail) => ReactNode;
}) {
  const org = useOrganization(orgId);
  if (org.isPending) return <Loading label="Loading the organisation…" rows={4} />;
  if (org.isError) {
    if (isApiError(org.error) && org.error.status === 404) return <NotFoundPage what="organisation" />;
    return <ErrorNotice error={org.error} retry={() => org.refetch()} />;
  }
  if (permission && !hasPermission(org.data, permission)) {
    return (
      <Forbidden
        need={need}
        place={org.data.organization.name}
        current={roleLabel(org.data.role)}
        back={{ to: `/orgs/${orgId}`, label: "Back to workspaces" }}
      />
    );
  }
  return <>{children(org.data)}</>;
}
