// An account that must set a new password (one imported from the original system) in the real
// web app: after signing in, and on every page it opens, it is sent to choose one first; then it
// carries on to where it was going.
import { describe, expect, it } from "vitest";
import { createUser } from "../support/server";
import { browserAvailable, useBrowserSuite, waitForPath } from "./browser";

describe.skipIf(!browserAvailable)("choosing a new password first, in the browser", () => {
  const suite = useBrowserSuite();

  it("sends an imported account to the new-password page until it has chosen one", async () => {
    const { user, account } = await createUser(suite.server);
    await suite.server.models.User.update({ mustChangePassword: true }, { where: { id: user.id } });
    const { page } = await suite.device();

    await page.goto("/files");
    await waitForPath(page, "/sign-in");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await waitForPath(page, "/account/new-password");
    await page.getByRole("heading", { level: 1, name: "Choose a new password" }).waitFor();

    // Any other page, opened directly, leads back here.
    await page.goto("/trash");
    await waitForPath(page, "/account/new-password");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/trash");

    await page.getByLabel("Current password").fill(account.password);
    await page.getByRole("textbox", { name: "New password", exact: true }).fill(`${account.password} renewed`);
    await page.getByRole("button", { name: "Change password" }).click();
    await waitForPath(page, "/trash");
    await page.reload();
    await waitForPath(page, "/trash");
    expect((await suite.server.models.User.findByPk(user.id))?.mustChangePassword).toBe(false);
  });
});
