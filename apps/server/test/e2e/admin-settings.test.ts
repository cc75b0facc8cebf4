// The administrator's settings in the browser: sign-up by invitation, an invitation sent from the
// settings page and accepted through its emailed link, and an account's own storage quota.
import { describe, expect, it } from "vitest";
import { createUser, newAccount, signIn } from "../support/server";
import { totp } from "../support/totp";
import { browserAvailable, useBrowserSuite, waitForPath } from "./browser";

describe.skipIf(!browserAvailable)("administrator settings, in the browser", () => {
  const suite = useBrowserSuite();

  it("closes sign-up to invitations, invites someone, and the link creates their account", async () => {
    const { page } = await suite.signedIn({ role: "admin" });
    await page.goto("/admin/settings");
    await page.getByLabel("Only people invited").check();
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Saved.").waitFor();

    const visitor = await suite.device();
    await visitor.page.goto("/sign-up");
    await visitor.page.getByText("Sign-up here is by invitation").waitFor();
    expect(await visitor.page.getByRole("button", { name: "Create account" }).count()).toBe(0);

    const invited = newAccount();
    await page.getByLabel("Email address to invite").fill(invited.email);
    await page.getByRole("button", { name: "Send invitation" }).click();
    await page.getByText(`Invitation sent to ${invited.email}.`).waitFor();
    await page.getByRole("cell", { name: "Pending" }).waitFor();
    const mail = await suite.server.smtp.waitFor(invited.email, /invited/i);
    const link = /https?:\/\/\S+\/invite#token=[a-z2-7]+/.exec(mail.text)![0];

    await visitor.page.goto(new URL(link).pathname + new URL(link).hash);
    await visitor.page.getByText(`You were invited as ${invited.email}`).waitFor();
    // The token leaves the address bar at once.
    expect(new URL(visitor.page.url()).hash).toBe("");
    await visitor.page.getByLabel("Username").fill(invited.username);
    await visitor.page.getByLabel("Password", { exact: true }).fill(invited.password);
    await visitor.page.getByRole("button", { name: "Create account" }).click();
    await waitForPath(visitor.page, "/");
    await visitor.page.goto("/account");
    await visitor.page.getByText(invited.email).waitFor();

    await page.reload();
    await page.getByRole("cell", { name: "Accepted" }).waitFor();
    await page.getByLabel("Anyone").check();
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Saved.").waitFor();
  });

  it("gives an account its own storage quota from its page", async () => {
    const { page } = await suite.signedIn({ role: "admin" });
    const { user } = await suite.signedIn();
    await page.goto(`/admin/users/${user.id}`);
    await page.getByText("The default applies").waitFor();
    await page.getByLabel("New quota in MB").fill("5");
    await page.getByRole("button", { name: "Set quota" }).click();
    await page.getByText("Its own quota: 5 MB").waitFor();
    expect((await suite.server.models.User.findByPk(user.id))!.quotaBytes).toBe(5 * 1024 * 1024);
    await page.getByRole("button", { name: "Use the default" }).click();
    await page.getByText("The default applies").waitFor();
  });

  it("sends an account without two-factor sign-in to set it up when it is required", async () => {
    // The administrator has it (only then may they require it), through the API.
    const { account: adminAccount } = await createUser(suite.server, { role: "admin" });
    const admin = await signIn(suite.server, adminAccount);
    const { secret } = (await admin.mutation<{ secret: string }>("auth.totp.setup")).data;
    expect((await admin.mutation("auth.totp.enable", { code: totp(secret) })).status).toBe(200);
    expect((await admin.mutation("admin.settings.update", { requireTwoFactor: "everyone" })).status).toBe(200);
    try {
      const { account } = await createUser(suite.server);
      const { page } = await suite.device();
      await page.goto("/sign-in");
      await page.getByLabel("Email").fill(account.email);
      await page.getByLabel("Password", { exact: true }).fill(account.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await waitForPath(page, "/account");
      await page.goto("/files");
      await waitForPath(page, "/account");
      await page.getByText("Your administrator requires two-factor sign-in").waitFor();
      await page.getByRole("button", { name: "Set up two-factor sign-in" }).click();
      const key = (await page.getByTestId("totp-secret").textContent())!.trim();
      await page.getByLabel("Code from your app").fill(totp(key));
      await page.getByRole("button", { name: "Turn on" }).click();
      await page.getByRole("button", { name: "I saved them" }).click();
      await page.goto("/files");
      await waitForPath(page, "/files");
    } finally {
      await admin.mutation("admin.settings.update", { requireTwoFactor: "off" });
    }
  });
});
