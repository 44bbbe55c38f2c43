// Workspace → Settings → Users & Invitations. Admins (workspace.users) manage people and
// invitations; editors see who works here, read-only; other roles get the friendly refusal.
import { PageHeader } from "../../components/Page";
import { Tabs } from "../../components/Tabs";
import { canManageUsers, canSeeUsers, WithWorkspace, WorkspaceForbidden } from "./common";
import { InvitationsTab } from "./InvitationsTab";
import { UsersTab } from "./UsersTab";

export function WorkspaceUsersPage() {
  return (
    <WithWorkspace>
      {(place) => {
        if (!canSeeUsers(place.detail)) return <WorkspaceForbidden place={place} need="Editor or Admin" />;
        const name = place.detail.workspace.name;
        if (!canManageUsers(place.detail)) {
          return (
            <>
              <PageHeader
                title="Users & Invitations"
                description={`The people who work in ${name}. Only admins of this workspace can invite people or change roles.`}
              />
              <UsersTab place={place} />
            </>
          );
        }
        return (
          <>
            <PageHeader
              title="Users & Invitations"
              description={`Who works in ${name}, with which role, and who has been invited.`}
            />
            <Tabs
              label="Users and invitations"
              tabs={[
                { id: "users", label: "Users", content: () => <UsersTab place={place} /> },
                { id: "invitations", label: "Invitations", content: () => <InvitationsTab place={place} /> },
              ]}
            />
          </>
        );
      }}
    </WithWorkspace>
  );
}
