// `rollcall service-key create|list|revoke`: the installation's read-only keys, for a host
// product's backend and the client library. The token is printed once, on stdout alone, so that
// `TOKEN=$(rollcall service-key create --name web)` captures just it; the rest goes to stderr.
import { parseArgs } from "node:util";
import { createServiceKey, listServiceKeys, revokeServiceKey } from "../apikeys/service-keys.js";
import { loadConfig } from "../config.js";
import { transact } from "../db/transaction.js";
import { toProblem } from "../http/problem.js";
import { CONFIG_HELP, type Command, cliServices, err, out, withDatabase } from "./support.js";

const USAGE = `Usage:
  rollcall service-key create --name NAME   make a key; prints its token (rsk_…) once, on stdout
  rollcall service-key list                 the keys: id, name, prefix, made, last used
  rollcall service-key revoke ID            revoke a key: its next request answers 401, on every server

A service key belongs to the installation, not to an organisation. It reads across every
organisation and changes nothing: POST /api/v1/sessions/verify takes it. Keep it on the host
product's servers only.
${CONFIG_HELP}`;

export const serviceKeyCommand: Command = {
  summary: "Make, list or revoke the installation's read-only service keys",
  usage: USAGE,
  async run(args) {
    const [action, ...rest] = args;
    const config = loadConfig();
    switch (action) {
      case "create": {
        const { values } = parseArgs({ args: rest, strict: true, options: { name: { type: "string" } } });
        if (!values.name?.trim()) {
          err('error: --name is required (what the key is for, e.g. --name "web backend")');
          return 2;
        }
        const name = values.name;
        return withDatabase(config, async (database) => {
          try {
            const { key, token } = await transact(cliServices(config, database), (tx) =>
              createServiceKey(tx, name),
            );
            err(`Made the service key ${key.id} (${key.name}). Its token, shown this once:`);
            out(token);
            return 0;
          } catch (e) {
            const { problem } = toProblem(e);
            if (problem.code === "internal_error") throw e;
            err(`error: ${problem.code}: ${problem.detail}`);
            return 2;
          }
        });
      }
      case "list": {
        parseArgs({ args: rest, strict: true, options: {} });
        return withDatabase(config, async (database) => {
          const keys = await listServiceKeys(database.db);
          if (keys.length === 0) {
            err("No service keys. Make one with: rollcall service-key create --name NAME");
            return 0;
          }
          out(["id", "name", "prefix", "created", "last used"].join("\t"));
          for (const k of keys) {
            out(
              [
                k.id,
                k.name,
                `${k.prefix}…`,
                k.createdAt.toISOString(),
                k.lastUsedAt?.toISOString() ?? "never",
              ].join("\t"),
            );
          }
          return 0;
        });
      }
      case "revoke": {
        const { positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: {} });
        const [id] = positionals;
        if (!id || positionals.length > 1) {
          err("error: name one key: rollcall service-key revoke ID (see rollcall service-key list)");
          return 2;
        }
        return withDatabase(config, async (database) => {
          const revoked = await transact(cliServices(config, database), (tx) => revokeServiceKey(tx, id));
          if (!revoked) {
            err(`error: no service key ${id} (see rollcall service-key list)`);
            return 1;
          }
          err(`Revoked ${id}: its next request answers 401.`);
          return 0;
        });
      }
      default:
        err(action ? `error: unknown action "${action}"\n` : "error: say what to do\n");
        err(USAGE);
        return 2;
    }
  },
};
