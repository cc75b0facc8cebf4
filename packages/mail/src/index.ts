export { createMailer, type Mailer, type MailMessage } from "./mailer";
export * as templates from "./templates";
