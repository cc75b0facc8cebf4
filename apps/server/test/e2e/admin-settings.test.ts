// The administrator's settings in the browser: sign-up by invitation, an invitation sent from the
// settings page and accepted through its emailed link, and an account's own storage quota.
import { describe, expect, it } from "vitest";
import { newAccount } from "../support/server";
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
});
