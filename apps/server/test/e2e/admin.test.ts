// The admin console in Chromium: who may sign in there, and an administrator finding, disabling,
// enabling and finally deleting an account, with the person's own browser feeling each step.
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { SESSION_COOKIE } from "@notebox/api";
import { eventually } from "../support/files";
import { createUser } from "../support/server";
import { browserAvailable, cookieNamed, signInThroughUi, useBrowserSuite, waitForPath } from "./browser";

describe.skipIf(!browserAvailable)("the admin console in the browser", () => {
  const suite = useBrowserSuite();
  const { device } = suite;

  async function adminSignIn(page: Page, account: { email: string; password: string }) {
    await page.goto("/admin/sign-in");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  it("refuses a non-administrator and leaves no session behind", async () => {
    const { account } = await createUser(suite.server);
    const { context, page } = await device();
    await adminSignIn(page, account);
    await page.getByText("This account is not an administrator.").waitFor();
    expect(new URL(page.url()).pathname).toBe("/admin/sign-in");
    await expect.poll(() => cookieNamed(context, SESSION_COOKIE), { timeout: 10_000 }).toBeUndefined();
  });

  it("finds a user, disables, enables and deletes them", async () => {
    const admin = await createUser(suite.server, { role: "admin" });
    const target = await createUser(suite.server);

    // The person is signed in on their own device.
    const person = await device();
    await signInThroughUi(person.page, target.account);

    const { page } = await device();
    await adminSignIn(page, admin.account);
    await waitForPath(page, "/admin");
    await page.locator('[data-stat="users"]').waitFor();

    await page.goto("/admin/users");
    await page.getByLabel("Search users").fill(target.account.email);
    const targetRow = page.locator("[data-user-row]").filter({ hasText: target.account.email });
    await targetRow.waitFor();
    await expect.poll(() => page.locator("[data-user-row]").count(), { timeout: 10_000 }).toBe(1);
    await targetRow.getByRole("link").first().click();
    await waitForPath(page, `/admin/users/${target.user.id}`);

    await page.getByRole("button", { name: "Disable", exact: true }).click();
    await page
      .getByRole("dialog", { name: `Disable ${target.account.username}?` })
      .getByRole("button", { name: "Disable account" })
      .click();
    await page.getByRole("button", { name: "Enable" }).waitFor();
    expect((await suite.server.models.User.findByPk(target.user.id))?.disabledAt).toBeTruthy();

    // Their next page load finds them signed out.
    await person.page.goto("/account");
    await waitForPath(person.page, "/sign-in");

    await page.getByRole("button", { name: "Enable" }).click();
    await page.getByRole("button", { name: "Disable", exact: true }).waitFor();
    expect((await suite.server.models.User.findByPk(target.user.id))?.disabledAt).toBeFalsy();

    await page.getByRole("button", { name: "Delete user" }).click();
    const confirmButton = page.getByRole("button", { name: "Delete permanently" });
    await confirmButton.waitFor();
    expect(await confirmButton.isDisabled()).toBe(true);
    await page.getByLabel("Type the email address to confirm").fill(target.account.email);
    await confirmButton.click();
    await waitForPath(page, "/admin/users");
    // Hidden at once; the row itself goes once the background deletion has finished.
    await eventually(async () => expect(await suite.server.models.User.findByPk(target.user.id)).toBeNull(), 20_000);

    await page.goto("/admin/users");
    await page.getByLabel("Search users").fill(target.account.email);
    await expect
      .poll(() => page.locator("[data-user-row]").filter({ hasText: target.account.email }).count(), {
        timeout: 10_000,
      })
      .toBe(0);
  });
});
