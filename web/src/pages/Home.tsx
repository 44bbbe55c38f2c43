// `/`: the organisation used last (or the first one); with none, the page to create one.
import { Navigate } from "react-router";
import { homeOrganization, useSignedIn } from "../lib/auth";

export function HomePage() {
  const me = useSignedIn();
  const orgId = homeOrganization(me);
  return <Navigate to={orgId ? `/orgs/${orgId}` : "/orgs/new"} replace />;
}
