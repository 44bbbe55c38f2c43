// The console's routes. Public pages (log-in, sign-up, password reset, an invitation) stand alone;
// everything else is inside the signed-in Shell.
import { Route, Routes } from "react-router";
import { NotFoundPage } from "./components/Forbidden";
import { RequireAuth } from "./components/RequireAuth";
import { Shell } from "./components/Shell";
import { AcceptInvitationPage } from "./pages/AcceptInvitation";
import { AccountPage } from "./pages/Account";
import { ConfirmSignUpPage } from "./pages/auth/ConfirmSignUp";
import { ForgotPasswordPage } from "./pages/auth/ForgotPassword";
import { LogInPage } from "./pages/auth/LogIn";
import { ResetPasswordPage } from "./pages/auth/ResetPassword";
import { SignUpPage } from "./pages/auth/SignUp";
import { CreateOrganizationPage } from "./pages/CreateOrganization";
import { DevicesPage } from "./pages/Devices";
import { HomePage } from "./pages/Home";
import { ApiKeysPage } from "./pages/org/ApiKeys";
import { AuditLogPage } from "./pages/org/AuditLog";
import { OrgHomePage } from "./pages/org/OrgHome";
import { OrgMembersPage } from "./pages/org/OrgMembers";
import { OrgSettingsPage } from "./pages/org/OrgSettings";
import { WebhookDeliveriesPage } from "./pages/org/WebhookDeliveries";
import { WebhooksPage } from "./pages/org/Webhooks";
import { WorkspaceGeneralPage } from "./pages/workspace/WorkspaceGeneral";
import { WorkspaceHomePage } from "./pages/workspace/WorkspaceHome";
import { WorkspaceUsersPage } from "./pages/workspace/WorkspaceUsers";

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LogInPage />} />
      <Route path="/signup" element={<SignUpPage />} />
      <Route path="/confirm-signup" element={<ConfirmSignUpPage />} />
      <Route path="/forgot-password" element={<ForgotPasswordPage />} />
      <Route path="/reset-password" element={<ResetPasswordPage />} />
      <Route path="/invite/:token" element={<AcceptInvitationPage />} />
      <Route
        element={
          <RequireAuth>
            <Shell />
          </RequireAuth>
        }
      >
        <Route index element={<HomePage />} />
        <Route path="/orgs/new" element={<CreateOrganizationPage />} />
        <Route path="/account" element={<AccountPage />} />
        <Route path="/devices" element={<DevicesPage />} />
        <Route path="/orgs/:orgId" element={<OrgHomePage />} />
        <Route path="/orgs/:orgId/members" element={<OrgMembersPage />} />
        <Route path="/orgs/:orgId/audit" element={<AuditLogPage />} />
        <Route path="/orgs/:orgId/api-keys" element={<ApiKeysPage />} />
        <Route path="/orgs/:orgId/webhooks" element={<WebhooksPage />} />
        <Route path="/orgs/:orgId/webhooks/:webhookId" element={<WebhookDeliveriesPage />} />
        <Route path="/orgs/:orgId/settings" element={<OrgSettingsPage />} />
        <Route path="/orgs/:orgId/workspaces/:wsId" element={<WorkspaceHomePage />} />
        <Route path="/orgs/:orgId/workspaces/:wsId/users" element={<WorkspaceUsersPage />} />
        <Route path="/orgs/:orgId/workspaces/:wsId/settings" element={<WorkspaceGeneralPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
