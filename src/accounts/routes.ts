// HTTP only: schemas in, schemas out. The rules live in operations.ts.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { transact } from "../db/transaction.js";
import { actorOf, clearSessionCookie, device, requireAuth, setSessionCookie } from "../http/guard.js";
import {
  Email,
  Empty,
  Password,
  PersonName,
  presentUser,
  problems,
  ref,
  sendEmpty,
  Timestamp,
  User,
} from "../http/schemas.js";
import { listUserOrganizations } from "../orgs/operations.js";
import { MyOrganization } from "../orgs/presenters.js";
import type { Services } from "../services.js";
import { revokeSession } from "../sessions/operations.js";
import {
  changePassword,
  confirmPasswordReset,
  login,
  requestPasswordReset,
  updateProfile,
} from "./operations.js";
import { signup } from "./signup.js";
import { confirmSignup, requestSignup } from "./signup-confirm.js";

const NewSession = Type.Object(
  {
    id: Type.String(),
    token: Type.String({ description: "The session token: send it as `Authorization: Bearer`" }),
    expiresAt: Timestamp,
  },
  { $id: "NewSession", description: "A session just made; its token is shown this once" },
);
const SessionAnswer = Type.Object(
  { user: ref(User), session: ref(NewSession) },
  { $id: "SignedIn", description: "The account and the session just made for it" },
);

/** The components of this module, for addSchema (app.ts). */
export const accountSchemas = [NewSession, SessionAnswer];
const present = (s: { id: string; token: string; expiresAt: Date }) => ({
  id: s.id,
  token: s.token,
  expiresAt: s.expiresAt.toISOString(),
});

export async function accountRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { config } = services;
  const tags = ["accounts"];

  app.post(
    "/api/v1/auth/signup",
    {
      config: { permission: "public" },
      schema: {
        tags,
        operationId: "signUp",
        summary: "Create an account (and an organisation, or join the inviting one)",
        body: Type.Object({
          email: Email,
          password: Password,
          name: PersonName,
          invitationToken: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          organizationName: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: "\\S" })),
        }),
        description:
          "With SIGNUP_CONFIRM=email the answer is 202 and no session, whether or not the address has an account: the address gets a mail (a link to POST /api/v1/auth/signup/confirm, or a note that it has an account).",
        response: { 201: ref(SessionAnswer), 202: Empty, ...problems(403, 404, 410) },
      },
    },
    async (request, reply) => {
      if (config.signupConfirm === "email") {
        await requestSignup(services, request.body, device(request));
        return sendEmpty(reply, 202);
      }
      const { user, session } = await signup(services, request.body, device(request));
      setSessionCookie(reply, config, session.token);
      return reply.status(201).send({ user: presentUser(user), session: present(session) });
    },
  );

  app.post(
    "/api/v1/auth/signup/confirm",
    {
      config: { permission: "public" },
      schema: {
        tags,
        operationId: "confirmSignUp",
        summary: "Make the account of a sign-up from its mailed link (SIGNUP_CONFIRM=email), and log in",
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 201: ref(SessionAnswer), ...problems(403, 404, 410) },
      },
    },
    async (request, reply) => {
      const { user, session } = await confirmSignup(services, request.body.token, device(request));
      setSessionCookie(reply, config, session.token);
      return reply.status(201).send({ user: presentUser(user), session: present(session) });
    },
  );

  app.post(
    "/api/v1/auth/login",
    {
      config: { permission: "public" },
      schema: {
        tags,
        operationId: "logIn",
        summary: "Log in; every log-in is a new session (a new device)",
        body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Password }),
        response: { 200: ref(SessionAnswer), ...problems(401) },
      },
    },
    async (request, reply) => {
      const { user, session } = await login(services, request.body, device(request));
      setSessionCookie(reply, config, session.token);
      return { user: presentUser(user), session: present(session) };
    },
  );

  app.post(
    "/api/v1/auth/logout",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "logOut",
        summary: "End this device's session",
        response: { 204: Empty, ...problems(401) },
      },
    },
    async (request, reply) => {
      const { session, user } = requireAuth(request);
      await transact(services, (tx) => revokeSession(tx, actorOf(request), user.id, session.id));
      clearSessionCookie(reply, config);
      return sendEmpty(reply, 204);
    },
  );

  app.post(
    "/api/v1/auth/password-reset",
    {
      config: { permission: "public" },
      schema: {
        tags,
        operationId: "requestPasswordReset",
        summary:
          "Mail a password-reset link, if the address has an account (the answer is the same either way)",
        body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }) }),
        response: { 202: Empty, ...problems() },
      },
    },
    async (request, reply) => {
      await requestPasswordReset(services, request.body.email, device(request));
      return sendEmpty(reply, 202);
    },
  );

  app.post(
    "/api/v1/auth/password-reset/confirm",
    {
      config: { permission: "public" },
      schema: {
        tags,
        operationId: "confirmPasswordReset",
        summary: "Set a new password with a reset link's token; ends every session",
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }), password: Password }),
        response: { 204: Empty, ...problems() },
      },
    },
    async (request, reply) => {
      await confirmPasswordReset(services, request.body, device(request));
      return sendEmpty(reply, 204);
    },
  );

  app.get(
    "/api/v1/me",
    {
      config: { permission: "session", withOrganizations: true },
      schema: {
        tags,
        operationId: "getCurrentUser",
        summary: "Who I am, my organisations with my role in each, and this session",
        response: {
          200: Type.Object({
            user: ref(User),
            organizations: Type.Array(ref(MyOrganization)),
            session: Type.Object({ id: Type.String() }),
          }),
          ...problems(401),
        },
      },
    },
    async (request) => {
      const { user, session, organizations: read } = requireAuth(request);
      const organizations = read ?? (await listUserOrganizations(services.db, user.id));
      return { user: presentUser(user), organizations, session: { id: session.id } };
    },
  );

  app.patch(
    "/api/v1/me",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "updateCurrentUser",
        summary: "Change my display name",
        body: Type.Object({ name: Type.Optional(PersonName) }),
        response: { 200: Type.Object({ user: ref(User) }), ...problems(401) },
      },
    },
    async (request) => {
      const { user } = requireAuth(request);
      const updated = await updateProfile(services, { user, ip: request.ip }, request.body);
      return { user: presentUser(updated) };
    },
  );

  app.post(
    "/api/v1/me/password",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "changePassword",
        summary: "Change my password; ends every other session",
        body: Type.Object({ currentPassword: Password, newPassword: Password }),
        response: { 204: Empty, ...problems(401) },
      },
    },
    async (request, reply) => {
      const { user, session } = requireAuth(request);
      await changePassword(services, { user, sessionId: session.id, ip: request.ip }, request.body);
      return sendEmpty(reply, 204);
    },
  );
}
