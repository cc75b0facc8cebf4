// rowDate: every form a date column comes back in reads as the same instant, whatever the
// process's time zone.
import { afterEach, describe, expect, it } from "vitest";
import { rowDate, rowIso } from "../src/rows";

// The process's time zone is what these tests vary, not a setting of Notebox.
// eslint-disable-next-line no-restricted-properties
const env = process.env;
const zone = env.TZ;
afterEach(() => {
  if (zone === undefined) delete env.TZ;
  else env.TZ = zone;
});

describe("rowDate", () => {
  const instant = "2026-12-06T01:02:03.456Z";
  it.each([
    ["a Date (mysql2)", new Date(instant)],
    ["Sequelize's SQLite text", "2026-12-06 01:02:03.456 +00:00"],
    ["MySQL's text through a subquery (no zone: UTC)", "2026-12-06 01:02:03.456"],
    ["ISO text", instant],
  ])("reads %s as the same instant in any zone", (_, value) => {
    for (const tz of ["UTC", "America/New_York", "Asia/Kolkata"]) {
      env.TZ = tz;
      expect(rowDate(value).toISOString()).toBe(instant);
    }
  });

  it("reads SQLite's and MySQL's text as the instant it names, across the years", () => {
    for (let i = 0; i < 2_000; i++) {
      // From 1970 to 2100, at any millisecond.
      const instant = new Date(Math.floor(Math.random() * 4_102_444_800_000)).toISOString();
      const text = `${instant.slice(0, 10)} ${instant.slice(11, 23)}`;
      expect(rowDate(`${text} +00:00`).toISOString()).toBe(instant);
      expect(rowDate(text).toISOString()).toBe(instant);
    }
  });

  it("does not read a text by position when a digit is not one", () => {
    expect(Number.isNaN(rowDate("2026-12-06 01:02:0x.456 +00:00").getTime())).toBe(true);
  });

  it("reads text without milliseconds, and rowIso agrees with it", () => {
    env.TZ = "Europe/Paris";
    expect(rowDate("2026-12-06 01:02:03 +00:00").toISOString()).toBe("2026-12-06T01:02:03.000Z");
    expect(rowDate("2026-12-06 01:02:03").toISOString()).toBe("2026-12-06T01:02:03.000Z");
    expect(rowIso("2026-12-06 01:02:03.456 +00:00")).toBe(instant);
    expect(rowIso(new Date(instant))).toBe(instant);
  });
});
