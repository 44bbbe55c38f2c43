// Structured JSON logs (pino). Secrets never reach them: request logs carry the method, a URL
// with token-bearing parts masked, and the address; never headers or bodies. Anything logged by
// hand that has a secret-looking key is censored too.
import { type DestinationStream, type Logger, pino } from "pino";

const REDACT_PATHS = [
  "password",
  "newPassword",
  "currentPassword",
  "token",
  "secret",
  "password_hash",
  "secret_hash",
  "token_hash",
  "*.password",
  "*.newPassword",
  "*.currentPassword",
  "*.token",
  "*.secret",
  "*.password_hash",
  "*.secret_hash",
  "*.token_hash",
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
];

/** Query parameters whose value is a secret, compared after decoding and lower-casing the name. */
const SECRET_PARAMS = new Set(["token", "invitationtoken", "code"]);

/** The name or path part as the server reads it (`%74oken` is `token`); undefined when malformed. */
function decoded(part: string): string | undefined {
  try {
    return decodeURIComponent(part.replace(/\+/g, " ")).trim().toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Masks tokens carried in a URL: `?token=…` (however its name is percent-encoded), and the part
 * after `/invite/`. A parameter whose name cannot be decoded is masked too: it is not ours to read.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const segments = path.split("/");
  for (let i = 0; i < segments.length - 1; i++) {
    if (decoded(segments[i] ?? "") === "invite" && segments[i + 1]) segments[i + 1] = "[redacted]";
  }
  if (q < 0) return segments.join("/");
  const params = url
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      const name = decoded(pair.slice(0, eq));
      return name === undefined || SECRET_PARAMS.has(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    });
  return `${segments.join("/")}?${params.join("&")}`;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: req.method,
        url: redactUrl(req.url ?? ""),
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
