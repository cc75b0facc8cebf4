import type { CoreDeps } from "../deps";

/** At most one message a minute and five an hour to one address, whatever the message. */
export async function throttleMailTo(deps: CoreDeps, email: string): Promise<void> {
  await deps.limits.check("mailPerAddressHour", email);
  await deps.limits.consume("mailPerAddressMinute", email);
  await deps.limits.consume("mailPerAddressHour", email);
}
