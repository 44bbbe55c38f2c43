// A real SMTP server on loopback that keeps what it receives, for tests that follow a mail's
// link the way a person would. No TLS, no authentication required. The MIME parsing below covers
// what nodemailer writes (multipart/alternative, quoted-printable or base64, RFC 2047 subjects);
// it is not a general mail parser.
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";

export interface CapturedMail {
  /** RCPT TO addresses. */
  envelopeTo: string[];
  /** MAIL FROM address. */
  envelopeFrom: string | undefined;
  /** Header values, names in lower case, unfolded and RFC 2047-decoded. */
  headers: Map<string, string>;
  to: string;
  from: string;
  subject: string;
  /** With its angle brackets, as in the header: `<id@host>`. */
  messageId: string;
  text: string | undefined;
  html: string | undefined;
  raw: string;
}

export interface SmtpFailure {
  code: number;
  message: string;
  /** When to refuse: after the message (DATA, the default) or at the recipient (RCPT TO). */
  stage?: "data" | "rcpt";
}

export interface SmtpCapture {
  /** `smtp://127.0.0.1:<port>`: give it to the transport as SMTP_URL. */
  url: string;
  port: number;
  /** Every accepted mail, in order of arrival. */
  messages: CapturedMail[];
  /** The first mail, received or yet to come, that matches. */
  waitFor(pred: (mail: CapturedMail) => boolean, timeoutMs?: number): Promise<CapturedMail>;
  /** Refuse mail with this reply until called with null. Refused mail is not kept. */
  setFailure(mode: SmtpFailure | null): void;
  close(): Promise<void>;
}

export interface SmtpCaptureOptions {
  /** Listen on this port, e.g. where a server was told SMTP would be (default: a free one). */
  port?: number;
  /**
   * Called with each accepted mail after it is kept (and waiters told) and before the 250 reply,
   * which waits for it: a test can kill the sender here, so that the receiver has a mail the
   * sender never saw accepted.
   */
  beforeReply?: (mail: CapturedMail) => void | Promise<void>;
}

export async function startSmtpCapture(options: SmtpCaptureOptions = {}): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const waiters = new Set<{ pred: (mail: CapturedMail) => boolean; resolve: (mail: CapturedMail) => void }>();
  let failure: SmtpFailure | null = null;

  const refusal = (f: SmtpFailure) => Object.assign(new Error(f.message), { responseCode: f.code });

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    // No reverse DNS for 127.0.0.1: it can take seconds on some machines.
    disableReverseLookup: true,
    logger: false,
    // nodemailer says QUIT after each mail; nothing should keep close() waiting.
    closeTimeout: 100,
    onRcptTo(_address, _session, callback) {
      if (failure && failure.stage === "rcpt") callback(refusal(failure));
      else callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        // Read the whole message before answering, refused or not: that is what SMTP expects.
        if (failure && (failure.stage ?? "data") === "data") {
          callback(refusal(failure));
          return;
        }
        const mail = parseMail(Buffer.concat(chunks).toString("utf8"), session);
        messages.push(mail);
        for (const waiter of waiters) {
          if (waiter.pred(mail)) {
            waiters.delete(waiter);
            waiter.resolve(mail);
          }
        }
        const { beforeReply } = options;
        if (!beforeReply) {
          callback();
          return;
        }
        // The 250 waits for the hook; a hook that throws turns it into a refusal.
        const hook = async () => beforeReply(mail);
        hook().then(
          () => callback(),
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      });
    },
  });
  // A sender that dies in the middle of a mail (a killed server) can reset the connection, which
  // smtp-server reports as an "error" event on the server: unheard, that would crash the test
  // process instead of failing the test that expects the mail.
  server.on("error", () => {});

  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    setFailure(mode) {
      failure = mode;
    },
    waitFor(pred, timeoutMs = 5000) {
      const already = messages.find(pred);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter = {
          pred,
          resolve: (mail: CapturedMail) => {
            clearTimeout(timer);
            resolve(mail);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`No matching mail within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The http(s) URLs in a text body, in order. */
export function urlsIn(text: string): string[] {
  return text.match(/https?:\/\/[^\s<>"']+/g) ?? [];
}

function parseMail(raw: string, session: SMTPServerSession): CapturedMail {
  const { headers, body } = splitEntity(raw);
  const bodies: { text?: string; html?: string } = {};
  collectBodies(headers, body, bodies);
  const from = session.envelope.mailFrom;
  return {
    envelopeTo: session.envelope.rcptTo.map((r) => r.address),
    envelopeFrom: from ? from.address : undefined,
    headers,
    to: headers.get("to") ?? "",
    from: headers.get("from") ?? "",
    subject: headers.get("subject") ?? "",
    messageId: headers.get("message-id") ?? "",
    text: bodies.text,
    html: bodies.html,
    raw,
  };
}

function splitEntity(raw: string): { headers: Map<string, string>; body: string } {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : "";
  const headers = new Map<string, string>();
  // Unfold: a line that starts with white space continues the previous header.
  for (const line of head.replace(/\r?\n(?=[ \t])/g, "").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function collectBodies(
  headers: Map<string, string>,
  body: string,
  out: { text?: string; html?: string },
): void {
  const contentType = headers.get("content-type") ?? "text/plain";
  const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  if (mediaType.startsWith("multipart/")) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (!boundary) return;
    const sections = body.split(new RegExp(`\\r?\\n?--${escapeRegExp(boundary)}(?:--)?[ \\t]*\\r?\\n?`));
    // sections[0] is the preamble and the last one the epilogue.
    for (const section of sections.slice(1, -1)) {
      const part = splitEntity(section);
      collectBodies(part.headers, part.body, out);
    }
    return;
  }
  const decoded = decodeTransfer(body, headers.get("content-transfer-encoding") ?? "7bit");
  if (mediaType === "text/plain" && out.text === undefined) out.text = decoded;
  if (mediaType === "text/html" && out.html === undefined) out.html = decoded;
}

function decodeTransfer(body: string, encoding: string): string {
  switch (encoding.trim().toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    case "quoted-printable":
      return decodeQuotedPrintable(body);
    default:
      return body;
  }
}

/** `=\r\n` is a soft line break (nothing); `=XX` is one byte; the bytes are UTF-8. */
function decodeQuotedPrintable(body: string): string {
  const joined = body.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i] as string;
    const hex = joined.slice(i + 1, i + 3);
    if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** RFC 2047 encoded words, `=?UTF-8?Q?...?=` and `=?UTF-8?B?...?=`, as nodemailer writes them. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(?==\?)/g, "$1") // white space between two encoded words is not content
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : decodeQuotedPrintable(text.replace(/_/g, " ")),
    );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
