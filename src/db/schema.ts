// Kysely's view of the tables in migrations/. Keep in step with the SQL. A column that holds one
// of a fixed list of words takes its type from that list, which its CHECK also spells (db/vocabulary.test.ts compares them).
import type { ColumnType, Generated, Insertable, Selectable } from "kysely";
import type { OrgRole } from "../access/catalogue.js";
import type { ApiKeyRole } from "../apikeys/model.js";
import type { ActorType, AuditAction } from "../audit/actions.js";
import type { Delivery, InvitationStatus } from "../invitations/model.js";
import type { MailStatus } from "../mail/outbox.js";
import type { DeliveryStatus } from "../webhooks/model.js";

export type { MailStatus } from "../mail/outbox.js";

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<Record<string, unknown>, string | Record<string, unknown> | undefined, never>;

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  secret_hash: Buffer;
  created_at: CreatedAt;
  last_seen_at: UpdatedAt;
  absolute_expires_at: Date;
  user_agent: string | null;
  ip: string | null;
}

export interface PasswordResetTokensTable {
  token_hash: Buffer;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
}

export interface SignupConfirmationsTable {
  token_hash: Buffer;
  email: string;
  name: string;
  password_hash: string;
  organization_name: string | null;
  invitation_token_hash: Buffer | null;
  created_at: CreatedAt;
  expires_at: Date;
}

export interface OrganizationsTable {
  id: string;
  name: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface OrgMembershipsTable {
  org_id: string;
  user_id: string;
  role: OrgRole;
  created_at: CreatedAt;
}

export interface WorkspacesTable {
  id: string;
  org_id: string;
  name: string;
  timezone: ColumnType<string, string | undefined, string>;
  language: ColumnType<string, string | undefined, string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface WorkspaceMembershipsTable {
  org_id: string;
  workspace_id: string;
  user_id: string;
  role: string;
  created_at: CreatedAt;
}

export interface AuditEventsTable {
  id: string;
  org_id: string | null;
  at: CreatedAt;
  actor_id: string | null;
  actor_name: string | null;
  /** Written: an action of this server. Read: any, as the trail keeps what older versions wrote. */
  action: ColumnType<string, AuditAction, never>;
  target_type: string;
  target_id: string | null;
  data: Json;
  ip: string | null;
  actor_type: ColumnType<ActorType, ActorType | undefined, never>;
  /** The writing transaction's id (xid8, as text) and the order within it: the feed's order (0010). */
  xid: ColumnType<string, never, never>;
  seq: ColumnType<string, never, never>;
}

export interface RateLimitsTable {
  key: string;
  window_start: Date;
  count: number;
}

export interface MailOutboxTable {
  id: string;
  org_id: string | null;
  kind: string;
  to_address: string;
  subject: string;
  text_body: string | null;
  html_body: string | null;
  message_id: string;
  status: ColumnType<MailStatus, MailStatus | undefined, MailStatus>;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  last_error: string | null;
  created_at: CreatedAt;
  sent_at: Date | null;
}

export interface InvitationsTable {
  id: string;
  org_id: string;
  delivery: Delivery;
  email: string | null;
  role: OrgRole;
  token_hash: Buffer;
  status: ColumnType<InvitationStatus, "pending" | undefined, InvitationStatus>;
  uses: Generated<number>;
  max_uses: number;
  invited_by: string | null;
  invited_by_name: string;
  mail_id: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  expires_at: ColumnType<Date, Date | string, Date | string>;
}

export interface InvitationWorkspacesTable {
  org_id: string;
  invitation_id: string;
  workspace_id: string;
  role: string;
}

export interface InvitationUsesTable {
  org_id: string;
  invitation_id: string;
  user_id: string;
  used_at: CreatedAt;
}

export interface WorkspaceRolesTable {
  name: string;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: CreatedAt;
}

export interface ApiKeysTable {
  id: string;
  org_id: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  token_hash: Buffer;
  created_by: string | null;
  created_by_name: string;
  created_at: CreatedAt;
  expires_at: Date | null;
  last_used_at: Date | null;
}

export interface ApiKeyWorkspacesTable {
  org_id: string;
  api_key_id: string;
  workspace_id: string;
  role: string;
}

export interface ServiceKeysTable {
  id: string;
  name: string;
  prefix: string;
  token_hash: Buffer;
  created_at: CreatedAt;
  last_used_at: Date | null;
}

/** 0011: an organisation's webhook endpoints. The secrets are kept as they are (see the migration). */
export interface WebhookEndpointsTable {
  id: string;
  org_id: string;
  url: string;
  /** Public event types; empty: every type. */
  types: string[];
  description: string | null;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  disabled_reason: string | null;
  created_at: CreatedAt;
  created_by: string | null;
  created_by_name: string;
  updated_at: UpdatedAt;
}

/** 0011: one event to one endpoint, and how its attempts went. */
export interface WebhookDeliveriesTable {
  id: string;
  org_id: string;
  endpoint_id: string;
  event_id: string;
  type: string;
  /** What is posted, `{type, timestamp, data}`: the same on every attempt. */
  body: Json;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  lease_expires_at: Date | null;
  last_attempt_at: Date | null;
  response_status: number | null;
  error: string | null;
  created_at: CreatedAt;
}

/** A replica client's lease and how far it has applied the feed (0012, replica/leases.ts). */
export interface ReplicaLeasesTable {
  id: string;
  key_id: string;
  name: string;
  acked_xid: ColumnType<string, string, string>;
  acked_seq: ColumnType<string, string, string>;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  created_at: CreatedAt;
}

/** Views (0009): every caller's roles, a person's memberships and an API key's alike. */
export interface CallerOrgRolesView {
  org_id: ColumnType<string, never, never>;
  caller_id: ColumnType<string, never, never>;
  role: ColumnType<string, never, never>;
}

export interface CallerWorkspaceRolesView {
  org_id: ColumnType<string, never, never>;
  workspace_id: ColumnType<string, never, never>;
  caller_id: ColumnType<string, never, never>;
  role: ColumnType<string, never, never>;
}

export interface DB {
  users: UsersTable;
  sessions: SessionsTable;
  password_reset_tokens: PasswordResetTokensTable;
  signup_confirmations: SignupConfirmationsTable;
  organizations: OrganizationsTable;
  org_memberships: OrgMembershipsTable;
  workspaces: WorkspacesTable;
  workspace_memberships: WorkspaceMembershipsTable;
  audit_events: AuditEventsTable;
  rate_limits: RateLimitsTable;
  mail_outbox: MailOutboxTable;
  schema_migrations: SchemaMigrationsTable;
  workspace_roles: WorkspaceRolesTable;
  invitations: InvitationsTable;
  invitation_workspaces: InvitationWorkspacesTable;
  invitation_uses: InvitationUsesTable;
  api_keys: ApiKeysTable;
  api_key_workspaces: ApiKeyWorkspacesTable;
  service_keys: ServiceKeysTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  replica_leases: ReplicaLeasesTable;
  caller_org_roles: CallerOrgRolesView;
  caller_workspace_roles: CallerWorkspaceRolesView;
}

export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type OrganizationRow = Selectable<OrganizationsTable>;
export type WorkspaceRow = Selectable<WorkspacesTable>;
export type MailRow = Selectable<MailOutboxTable>;
export type NewAuditEvent = Insertable<AuditEventsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
