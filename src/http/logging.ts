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

/** Masks tokens carried in a URL: `?token=…`, `/invite/<token>`. */
export function redactUrl(url: string): string {
  return url
    .replace(/([?&](?:token|invitationToken|code)=)[^&#]*/gi, "$1[redacted]")
    .replace(/\/invite\/[^/?#]+/g, "/invite/[redacted]");
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
