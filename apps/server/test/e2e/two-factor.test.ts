// Two-factor sign-in in the browser: set up on the account page (QR code and key, a code typed,
// recovery codes shown once), then a sign-in that asks for the code, and one with a recovery code.
import { describe, expect, it } from "vitest";
import { totp } from "../support/totp";
import { browserAvailable, useBrowserSuite, waitForPath } from "./browser";

describe.skipIf(!browserAvailable)("two-factor sign-in, in the browser", () => {
  const suite = useBrowserSuite();

  it("is set up on the account page and then asked for at sign-in", async () => {
    const { page, account } = await suite.signedIn();
    await page.goto("/account");
    await page.getByRole("button", { name: "Set up two-factor sign-in" }).click();
    await page.getByRole("img", { name: "QR code for your authenticator app" }).waitFor();
    const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    await page.getByLabel("Code from your app").fill("000000");
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.getByText("That code is not right").waitFor();
    await page.getByLabel("Code from your app").fill(totp(secret));
    await page.getByRole("button", { name: "Turn on" }).click();
    const codes = page.getByRole("region", { name: "Your recovery codes" }).getByRole("listitem");
    await expect.poll(() => codes.count()).toBe(10);
    const recovery = (await codes.first().textContent())!.trim();
    await page.getByRole("button", { name: "I saved them" }).click();
    await page.getByText("Recovery codes left: 10").waitFor();

    // A new device: the password, then the code.
    const other = await suite.device();
    await other.page.goto("/sign-in");
    await other.page.getByLabel("Email").fill(account.email);
    await other.page.getByLabel("Password", { exact: true }).fill(account.password);
    await other.page.getByRole("button", { name: "Sign in" }).click();
    await other.page.getByRole("heading", { name: "Two-factor sign-in" }).waitFor();
    await other.page.getByLabel("Code from your authenticator app").fill("123456");
    await other.page.getByRole("button", { name: "Verify" }).click();
    await other.page.getByText("That code is not right").waitFor();
    await other.page.getByLabel("Code from your authenticator app").fill(totp(secret, 1));
    await other.page.getByRole("button", { name: "Verify" }).click();
    await waitForPath(other.page, "/");
    await other.page.getByRole("heading", { level: 1 }).first().waitFor();

    // A third device signs in with a recovery code instead.
    const third = await suite.device();
    await third.page.goto("/sign-in");
    await third.page.getByLabel("Email").fill(account.email);
    await third.page.getByLabel("Password", { exact: true }).fill(account.password);
    await third.page.getByRole("button", { name: "Sign in" }).click();
    await third.page.getByRole("button", { name: "Use a recovery code" }).click();
    await third.page.getByLabel("Recovery code").fill(recovery);
    await third.page.getByRole("button", { name: "Verify" }).click();
    await waitForPath(third.page, "/");
    await third.page.goto("/account");
    await third.page.getByText("Recovery codes left: 9").waitFor();
  });
});
