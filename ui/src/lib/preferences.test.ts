import { describe, expect, it } from "vitest";
import { DEFAULT_PREFERENCES, parsePreferences, PREFERENCES_STORAGE, setPreferences, preferences, timeZoneChoices } from "./preferences";

describe("stored preferences", () => {
  it("read back what was kept", () => {
    expect(parsePreferences(JSON.stringify({ timeZone: "Asia/Tokyo", pageSize: 200 }))).toEqual({ timeZone: "Asia/Tokyo", pageSize: 200 });
    expect(parsePreferences(JSON.stringify({ timeZone: "", pageSize: 25 }))).toEqual({ timeZone: "", pageSize: 25 });
  });

  it("fall back to the defaults for anything missing, unreadable or stale", () => {
    expect(parsePreferences(null)).toEqual(DEFAULT_PREFERENCES);
    expect(parsePreferences("{not json")).toEqual(DEFAULT_PREFERENCES);
    expect(parsePreferences("[1, 2]")).toEqual(DEFAULT_PREFERENCES);
    expect(parsePreferences(JSON.stringify({ timeZone: "Mars/Olympus", pageSize: 60 }))).toEqual(DEFAULT_PREFERENCES);
    expect(parsePreferences(JSON.stringify({ timeZone: 3, pageSize: "100" }))).toEqual(DEFAULT_PREFERENCES);
    expect(parsePreferences(JSON.stringify({ pageSize: 100 }))).toEqual({ timeZone: "", pageSize: 100 });
  });

  it("are kept in localStorage and validated when set", () => {
    setPreferences({ timeZone: "America/New_York", pageSize: 100 });
    expect(JSON.parse(localStorage.getItem(PREFERENCES_STORAGE)!)).toEqual({ timeZone: "America/New_York", pageSize: 100 });
    setPreferences({ timeZone: "Nowhere/Land" });
    expect(preferences()).toEqual({ timeZone: "", pageSize: 100 });
    setPreferences(DEFAULT_PREFERENCES);
  });
});

describe("the time zones to choose from", () => {
  it("are the browser's list, with UTC and the current choice, sorted", () => {
    expect(timeZoneChoices("", () => ["Europe/Paris", "Asia/Tokyo"])).toEqual(["Asia/Tokyo", "Europe/Paris", "UTC"]);
    expect(timeZoneChoices("US/Eastern", () => ["Europe/Paris"])).toEqual(["Europe/Paris", "US/Eastern", "UTC"]);
    expect(timeZoneChoices("UTC", () => ["UTC"])).toEqual(["UTC"]);
  });

  it("still offer UTC when the browser cannot list its zones", () => {
    expect(timeZoneChoices("", () => { throw new RangeError("unsupported"); })).toEqual(["UTC"]);
  });
});
