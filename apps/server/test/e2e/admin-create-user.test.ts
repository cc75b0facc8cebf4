// An administrator creates an account from the users page, in Chromium: the dialog shows the
// server's field errors under their fields, the new account joins the list, and the person
// chooses their password through the mailed link and signs in with it.
import { describe, expect, it } from "vitest";
import { resetLinkFrom } from "../support/smtp";
import { createUser, newAccount } from "../support/server";
import { browserAvailable, signInThroughUi, useBrowserSuite } from "./browser";

describe.skipIf(!browserAvailable)("creating an account, in the browser", () => {
  const suite = useBrowserSuite();

  it("creates an account from the users page, and its mailed link sets the first password", async () => {
    const { page } = await suite.signedIn({ role: "admin" });
    const { account: member } = await createUser(suite.server);
    const person = newAccount("made");

    await page.goto("/admin/users");
    await page.getByRole("button", { name: "Create account" }).click();
    const dialog = page.getByRole("dialog", { name: "Create an account" });
    await dialog.getByLabel("Email address").fill(person.email);
    await dialog.getByLabel("Username").fill(member.username);
    await dialog.getByLabel("Role").selectOption("admin");
    await dialog.getByRole("button", { name: "Create account" }).click();
    // A taken name is said under its field, and the dialog stays open with what was typed.
    await dialog.locator('[data-field-error="username"]').filter({ hasText: "taken" }).waitFor();
    expect(await dialog.getByLabel("Email address").inputValue()).toBe(person.email);

    await dialog.getByLabel("Username").fill(person.username);
    await dialog.getByRole("button", { name: "Create account" }).click();
    await page.getByText(`Account created; a link to set the password was mailed to ${person.email}.`).waitFor();
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("cell", { name: person.email }).waitFor();
    const created = await suite.server.models.User.findOne({ where: { email: person.email } });
    expect(created).toMatchObject({ username: person.username, role: "admin" });
    expect(created!.emailVerifiedAt).not.toBeNull();

    const link = resetLinkFrom(await suite.server.smtp.waitFor(person.email, /account is ready/i));
    const { page: theirs } = await suite.device();
    await theirs.goto(new URL(link).pathname + new URL(link).hash);
    await theirs.getByRole("heading", { level: 1, name: "Choose your password" }).waitFor();
    await theirs.getByLabel("New password", { exact: true }).fill(person.password);
    await theirs.getByLabel("Confirm new password").fill(person.password);
    await theirs.getByRole("button", { name: "Set new password" }).click();
    await theirs.getByRole("status").filter({ hasText: "Your password has been changed" }).waitFor();
    await signInThroughUi(theirs, person);
  });
});
