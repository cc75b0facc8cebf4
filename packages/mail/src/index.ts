export { EMAIL_MAX, isEmailAddress } from "./address";
export { createMailer, type Mailer, type MailMessage } from "./mailer";
export * as templates from "./templates";
