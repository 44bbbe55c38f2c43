// The operator's commands. Each parses its own flags, answers --help, and returns an exit code.
import { parseArgs } from "node:util";
import { isOrgRole, loadCatalogue, ORG_ROLES } from "../access/catalogue.js";
import { syncWorkspaceRoles } from "../access/queries.js";
import { findUserByEmail, issueResetToken, resetUrl } from "../accounts/operations.js";
import { buildApp } from "../app.js";
import { runExportAudit } from "../audit/export.js";
import { ConfigError, loadConfig } from "../config.js";
import { newId } from "../db/ids.js";
import { openDatabase } from "../db/index.js";
import { migrate } from "../db/migrate.js";
import { transact } from "../db/transaction.js";
import { canonicalEmail } from "../email.js";
import { createLogger } from "../http/logging.js";
import { toProblem } from "../http/problem.js";
import { createInvitation } from "../invitations/manage.js";
import { createOrganization } from "../orgs/operations.js";
import { serviceKeyCommand } from "./service-keys.js";
import { CONFIG_HELP, type Command, cliServices, err, out, where, withDatabase } from "./support.js";

const SHUTDOWN_DEADLINE_MS = 8000;
const IDLE_CLOSE_MS = 100;

/** Resolves with the name of the next SIGTERM or SIGINT. */
function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      resolve(signal);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}

export const commands: Record<string, Command> = {
  "service-key": serviceKeyCommand,
  serve: {
    summary: "Run the HTTP server (migrates the database first)",
    usage: `Usage: rollcall serve\n\nStarts Rollcall on HOST:PORT (default 127.0.0.1:3000), applying pending migrations first.\nStops gracefully on SIGTERM or SIGINT: refuses new connections, finishes requests in flight and the mail being sent,\nthen exits 0. It gives up after ${SHUTDOWN_DEADLINE_MS / 1000} s, or at a second signal, and exits 1.\n${CONFIG_HELP}`,
    async run(args) {
      parseArgs({ args, options: {}, strict: true });
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const database = await openDatabase({
        url: config.databaseUrl,
        dataDir: config.dataDir,
        // The message and code only: pg attaches the whole client (its config and buffers) to the error.
        onPoolError: (e) =>
          logger.warn({ error: e.message, code: (e as { code?: string }).code }, "database connection lost"),
      });
      const applied = await migrate(database.pool, (m) =>
        logger.info({ migration: m.version }, `applied ${m.name}`),
      );
      logger.info({ applied: applied.length }, `database ready: ${where(config)}`);
      // pg_database.datctype, not current_setting('lc_ctype'): the setting is gone in PostgreSQL 16+.
      const ctype = (
        await database.pool.query<{ c: string }>(
          "SELECT datctype AS c FROM pg_database WHERE datname = current_database()",
        )
      ).rows[0]?.c;
      if (ctype === "C" || ctype === "POSIX") {
        logger.warn(
          { lc_ctype: ctype },
          "the database's character type is C: member search folds only ASCII letters to lower case; create it with a UTF-8 locale (e.g. C.UTF-8)",
        );
      }
      const app = await buildApp({ config, database, logger });
      await syncWorkspaceRoles(database.db, app.services.catalogue);
      await app.fastify.listen({ port: config.port, host: config.host });
      logger.info(`Rollcall is serving ${config.publicUrl}`);
      if (!config.smtpUrl)
        logger.warn("SMTP_URL is not set: e-mails are written to this log instead of being sent");

      const signal = await nextSignal();
      logger.info({ signal }, "shutting down: finishing the requests in flight and the mail being sent");
      const started = Date.now();
      // Past the deadline, or at a second signal, exit at once: what was in flight is in
      // transactions that did not commit, and a mail sent but not recorded goes again (same
      // Message-ID) when its lease runs out.
      const deadline = setTimeout(() => {
        logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, "shutdown did not finish in time; exiting now");
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS);
      void nextSignal().then((again) => {
        logger.warn({ signal: again }, "second signal: exiting now");
        process.exit(1);
      });
      // Closing the server closes the keep-alive connections that are idle then, but not those
      // that fall idle later as the requests in flight are answered: a client that keeps its
      // connection open would hold the shutdown for the keep-alive timeout (72 s).
      const closeIdle = setInterval(() => app.fastify.server.closeIdleConnections(), IDLE_CLOSE_MS);
      try {
        await app.close();
        await database.close();
      } finally {
        clearInterval(closeIdle);
        // Unreferenced: from now on it fires only if something left behind keeps the process up.
        deadline.unref();
      }
      logger.info({ ms: Date.now() - started }, "stopped");
      return 0;
    },
  },

  migrate: {
    summary: "Apply pending database migrations and exit",
    usage: `Usage: rollcall migrate\n\nApplies pending migrations to ${"DATABASE_URL"} (or the embedded database in DATA_DIR).\nSafe to run while servers start: migrations take a PostgreSQL advisory lock.\n${CONFIG_HELP}`,
    async run(args) {
      parseArgs({ args, options: {}, strict: true });
      const config = loadConfig();
      await withDatabase(config, async (database) => {
        const applied = await migrate(database.pool, (m) =>
          out(`applied ${String(m.version).padStart(4, "0")} ${m.name}`),
        );
        out(
          applied.length
            ? `${applied.length} migration(s) applied to ${where(config)}`
            : `Already up to date: ${where(config)}`,
        );
      });
      return 0;
    },
  },

  "create-owner": {
    summary: "Create a user who owns a new organisation, and print a link to set their password",
    usage: `Usage: rollcall create-owner --email ADDRESS --name NAME [--organization NAME] [--link-hours N]

Creates the user (without a password), a new organisation they own with one workspace, and
prints a one-time link where they choose their password (valid --link-hours, default 24).
If the address already has an account, only a new organisation and link are made for it.
${CONFIG_HELP}`,
    async run(args) {
      const { values } = parseArgs({
        args,
        strict: true,
        options: {
          email: { type: "string" },
          name: { type: "string" },
          organization: { type: "string" },
          "link-hours": { type: "string", default: "24" },
        },
      });
      // Stored in its canonical form (src/email.ts), as sign-up stores it.
      const email = canonicalEmail(values.email ?? "");
      const name = values.name?.trim();
      const hours = Number(values["link-hours"]);
      const problems: string[] = [];
      if (!email) problems.push("--email must be an e-mail address");
      if (!name) problems.push("--name is required");
      if (!Number.isInteger(hours) || hours < 1 || hours > 720)
        problems.push("--link-hours must be a whole number from 1 to 720");
      if (problems.length || !email || !name) {
        for (const p of problems) err(`error: ${p}`);
        err("Run `rollcall create-owner --help` for usage.");
        return 2;
      }
      const config = loadConfig();
      await withDatabase(config, async (database) => {
        await migrate(database.pool);
        const result = await transact(cliServices(config, database), async (tx) => {
          let user = await findUserByEmail(tx, email);
          user ??= await tx
            .insertInto("users")
            .values({ id: newId("usr"), email, name, password_hash: null })
            .returningAll()
            .executeTakeFirstOrThrow();
          const actor = { id: null, name: "rollcall create-owner", ip: null };
          const { organization } = await createOrganization(tx, actor, {
            name: values.organization?.trim() || `${name}'s organisation`,
            ownerId: user.id,
          });
          const token = await issueResetToken(tx, user.id, hours * 60);
          return { user, organization, token };
        });
        out(
          `Created organisation "${result.organization.name}" (${result.organization.id}), owned by ${result.user.email}.`,
        );
        out(`Send this one-time link to ${result.user.email} to set their password (valid ${hours} h):`);
        out(`  ${resetUrl(config.publicUrl, result.token)}`);
      });
      return 0;
    },
  },

  "export-audit": {
    summary: "Write an organisation's audit log, oldest first, as JSON Lines or CSV",
    usage: `Usage: rollcall export-audit --org ORG_ID --format jsonl|csv [--out FILE] [--since ISO] [--until ISO]

Writes every audit event of the organisation, oldest first, to FILE (or standard output).

  --org ID       the organisation (its id, as in GET /api/v1/me)
  --format F     jsonl: one JSON object per line, with the fields of GET /api/v1/orgs/{org}/audit
                 csv: a header row, then id,at,actorId,actorName,action,targetType,targetId,data
                 (RFC 4180 quoting, CRLF line ends; data is the event's JSON)
  --out FILE     write to FILE (replaced if it exists) and report progress on standard error
  --since ISO    only events at or after this time (e.g. 2025-01-01 or 2025-01-01T09:00:00Z)
  --until ISO    only events before this time

Exit codes: 0 done, 1 no such organisation (or the export failed), 2 bad flags.
${CONFIG_HELP}`,
    // Loaded on use: the export module is only needed by this command.
    run: runExportAudit,
  },

  invite: {
    summary: "Invite someone to an organisation, by e-mail or as a shareable link",
    usage: `Usage: rollcall invite --org ORG_ID --email ADDRESS --role ROLE [--workspace WS_ID:ROLE ...] [--expires-hours N]
       rollcall invite --org ORG_ID --link --role ROLE [--max-uses N] [--workspace WS_ID:ROLE ...] [--expires-hours N]

Creates an invitation as the operator (no role check: you hold the database) and prints its id.

  --org ID             the organisation (its id, as in GET /api/v1/me)
  --email ADDRESS      e-mail delivery: a single-use link is mailed to ADDRESS (queued here,
                       delivered by the running server's mail worker)
  --link               link delivery: prints the link, once; share it yourself
  --role ROLE          the organisation role: owner, admin or member
  --workspace WS:ROLE  also grant workspace WS with ROLE (repeatable)
  --expires-hours N    lifetime in hours, 1 to 720 (default 168)
  --max-uses N         link delivery only: how many people may join through it, 1 to 1000 (default 1)

Exit codes: 0 done, 1 refused (no such organisation or workspace, a pending invitation, …), 2 bad flags.
${CONFIG_HELP}`,
    async run(args) {
      const { values } = parseArgs({
        args,
        strict: true,
        options: {
          org: { type: "string" },
          email: { type: "string" },
          link: { type: "boolean", default: false },
          role: { type: "string" },
          workspace: { type: "string", multiple: true, default: [] },
          "expires-hours": { type: "string" },
          "max-uses": { type: "string" },
        },
      });
      const problems: string[] = [];
      const wholeNumber = (flag: string, text: string | undefined, min: number, max: number) => {
        if (text === undefined) return undefined;
        const n = Number(text);
        if (!/^\d+$/.test(text) || n < min || n > max)
          problems.push(`--${flag} must be a whole number from ${min} to ${max}`);
        return n;
      };
      if (!values.org) problems.push("--org is required");
      if (!values.role) problems.push("--role is required");
      else if (!isOrgRole(values.role)) problems.push(`--role must be one of ${ORG_ROLES.join(", ")}`);
      if (values.link === (values.email !== undefined))
        problems.push("give either --email ADDRESS or --link");
      const expiresInHours = wholeNumber("expires-hours", values["expires-hours"], 1, 720);
      const maxUses = wholeNumber("max-uses", values["max-uses"], 1, 1000);
      if (maxUses !== undefined && !values.link) problems.push("--max-uses is for --link invitations");
      const workspaces = values.workspace.map((w) => {
        const at = w.lastIndexOf(":");
        if (at < 1 || at === w.length - 1) problems.push(`--workspace ${w}: expected WS_ID:ROLE`);
        return { workspaceId: w.slice(0, at), role: w.slice(at + 1) };
      });
      if (problems.length || !values.org || !values.role || !isOrgRole(values.role)) {
        for (const p of problems) err(`error: ${p}`);
        err("Run `rollcall invite --help` for usage.");
        return 2;
      }
      const orgId = values.org;
      const role = values.role;
      const config = loadConfig();
      const catalogue = loadCatalogue(config.rolesFile);
      return withDatabase(config, async (database) => {
        await migrate(database.pool);
        await syncWorkspaceRoles(database.db, catalogue);
        const org = await database.db
          .selectFrom("organizations")
          .select("name")
          .where("id", "=", orgId)
          .executeTakeFirst();
        if (!org) {
          err(`error: there is no organisation ${orgId} in ${where(config)}`);
          return 1;
        }
        try {
          const result = await transact(cliServices(config, database), (tx) =>
            createInvitation(
              tx,
              { catalogue, publicUrl: config.publicUrl },
              { id: null, name: "rollcall invite", ip: null },
              { kind: "operator", displayName: `The ${org.name} administrator` },
              {
                orgId,
                delivery: values.link ? "link" : "email",
                email: values.email,
                role,
                workspaces,
                expiresInHours,
                maxUses,
              },
            ),
          );
          const { row } = result;
          out(
            `Created invitation ${row.id} to "${org.name}" as ${row.role}, expiring ${row.expires_at.toISOString()}.`,
          );
          if (result.url) {
            out(`Share this link (it is shown only now; up to ${row.max_uses} use(s)):`);
            out(`  ${result.url}`);
          } else {
            out(`Mail queued to ${row.email}; the server's mail worker delivers it.`);
          }
          return 0;
        } catch (e) {
          // The same translation as the HTTP answers, constraint names included; what it does not
          // know is a real failure.
          const { problem } = toProblem(e);
          if (problem.code === "internal_error") throw e;
          const fields = problem.errors?.map((f) => ` (${f.field}: ${f.message})`).join("") ?? "";
          err(`error: ${problem.code}: ${problem.detail}${fields}`);
          return problem.code === "validation_failed" ? 2 : 1;
        }
      });
    },
  },
};

export function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Rollcall — organisations, workspaces, roles, invitations and sessions for your product.

Usage: rollcall <command> [options]

Commands:
${lines.join("\n")}

Run \`rollcall <command> --help\` for a command's options.${CONFIG_HELP}`;
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    out(mainHelp());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    err(`error: unknown command "${name}"\n`);
    err(mainHelp());
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    out(command.usage);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message);
      return 2;
    }
    if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      err(`error: ${(e as Error).message}\nRun \`rollcall ${name} --help\` for usage.`);
      return 2;
    }
    throw e;
  }
}
