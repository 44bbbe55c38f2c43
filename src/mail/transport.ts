// Where mail leaves the process: SMTP when SMTP_URL is set, otherwise the log (development,
// and a first start before anyone has configured a mail server).
import nodemailer from "nodemailer";
import type { Config } from "../config.js";

export interface OutgoingMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  /** The outbox row's message_id, `<id@host>`: the same on every retry. */
  messageId: string;
}

export interface MailTransport {
  /** Resolves once the server has accepted the mail; rejects with the reason otherwise. */
  send(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}

/** The part of a pino logger the mail module uses. */
export interface MailLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Without these, nodemailer waits up to 2 minutes to connect and 10 minutes on a silent socket:
 * an unreachable server would hold a worker (and the mail's lease) for that long.
 */
export const SMTP_TIMEOUTS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 10_000,
  dnsTimeout: 10_000,
} as const;

export function createMailTransport(
  config: Pick<Config, "smtpUrl" | "mailFrom">,
  logger: Pick<MailLogger, "info">,
): MailTransport {
  return config.smtpUrl ? createSmtpTransport(config.smtpUrl, config.mailFrom) : createLogTransport(logger);
}

export function createSmtpTransport(smtpUrl: string, defaultFrom?: string): MailTransport {
  const transporter = nodemailer.createTransport(
    {
      url: smtpUrl,
      ...SMTP_TIMEOUTS,
      // Bodies are our own strings; nothing in them may make nodemailer read a file or fetch a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
    },
    defaultFrom ? { from: defaultFrom } : {},
  );
  return {
    async send(mail) {
      await transporter.sendMail({
        to: mail.to,
        from: mail.from,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
      });
    },
    async close() {
      transporter.close();
    },
  };
}

/** Writes the mail to the log, one-time links included: it is the only way to read them. */
export function createLogTransport(logger: Pick<MailLogger, "info">): MailTransport {
  return {
    async send(mail) {
      logger.info(
        { mail: { to: mail.to, subject: mail.subject, text: mail.text, messageId: mail.messageId } },
        "mail (no SMTP_URL set)",
      );
    },
    async close() {},
  };
}
