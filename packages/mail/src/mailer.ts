// Sends mail over SMTP when SMTP_URL is set; otherwise writes each message to the log and to
// DATA_DIR/outbox/*.eml so someone running the embedded default can read their code.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import nodemailer from "nodemailer";
import type { Logger } from "pino";
import { isEmailAddress } from "./address";

export interface MailMessage {
  /** One email address, nothing else (see isEmailAddress): never a name, a group or a list. */
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /**
   * Sends in the background and logs a failure. Account flows use it so the answer's timing
   * never depends on whether a message went out (no account enumeration by the clock).
   */
  queue(message: MailMessage): void;
  /** Resolves once every message queued so far has been sent (or has failed). */
  settled(): Promise<void>;
  /** Waits for queued messages, then closes the transport. */
  close(): Promise<void>;
  /** The same mailer (transport, queue), writing its log lines to `logger`: a request's, say. */
  withLogger(logger: Logger): Mailer;
}

export interface MailerOptions {
  smtpUrl: string | undefined;
  from: string;
  outboxDir: string;
  logger: Logger;
}

export function createMailer(options: MailerOptions): Mailer {
  const sender = createSender(options);
  const pending = new Set<Promise<void>>();
  const settled = async () => {
    await Promise.allSettled([...pending]);
  };
  const loggingTo = (logger: Logger): Mailer => {
    const send = async (message: MailMessage) => sender.send(message, recipient(message.to), logger);
    return {
      send,
      queue(message) {
        const sending = send(message)
          .catch((error: unknown) =>
            logger.error({ err: error, to: message.to, subject: message.subject }, "mail failed"),
          )
          .finally(() => pending.delete(sending));
        pending.add(sending);
      },
      settled,
      async close() {
        await settled();
        sender.closeTransport();
      },
      withLogger: loggingTo,
    };
  };
  return loggingTo(options.logger);
}

/**
 * The last line of defence for the account flows: `to` must be one valid address, and goes to
 * nodemailer as an address object, which it takes as it is instead of parsing a list (or a
 * display name, group or comment) out of a string.
 */
function recipient(to: string): Address {
  if (!isEmailAddress(to)) throw new Error("refused to send mail: the recipient is not one valid email address");
  return { name: "", address: to };
}

interface Address {
  name: string;
  address: string;
}

/** Only these fields reach nodemailer: no cc, bcc or headers can ride along on a message. */
function mail(from: string, to: Address, { subject, text, html }: MailMessage) {
  return { from, to, subject, text, html };
}

function createSender({ smtpUrl, from, outboxDir }: MailerOptions): {
  send: (message: MailMessage, to: Address, logger: Logger) => Promise<void>;
  closeTransport: () => void;
} {
  if (smtpUrl) {
    const transport = nodemailer.createTransport(smtpUrl, { from });
    return {
      async send(message, to, logger) {
        await transport.sendMail(mail(from, to, message));
        logger.info({ to: message.to, subject: message.subject }, "mail sent");
      },
      closeTransport: () => transport.close(),
    };
  }

  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  let sequence = 0;
  return {
    async send(message, to, logger) {
      const info = await transport.sendMail(mail(from, to, message));
      await mkdir(outboxDir, { recursive: true });
      const safeTo = message.to.replace(/[^a-z0-9@._-]/gi, "_").slice(0, 100);
      const file = path.join(outboxDir, `${Date.now()}-${++sequence}-${safeTo}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      logger.info(
        { to: message.to, subject: message.subject, file },
        `mail (no SMTP_URL set, written to the outbox):\n${message.text}`,
      );
    },
    closeTransport: () => transport.close(),
  };
}
