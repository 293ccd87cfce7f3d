import { describe, expect, it } from "vitest";
import { isOverdue, providerLabel, scheduleWords } from "./integrations";

const none = { schedule_cron: null, schedule_interval_minutes: null, schedule_timezone: null };

describe("integrations in words", () => {
  it("says a schedule as the API's preview does", () => {
    expect(scheduleWords(none)).toBe("no schedule");
    expect(scheduleWords({ ...none, schedule_interval_minutes: 30 })).toBe("every 30 minutes");
    expect(scheduleWords({ ...none, schedule_cron: "0 6 * * mon-fri", schedule_timezone: "Europe/Paris" })).toBe("at 06:00 Mon-Fri Europe/Paris");
    expect(scheduleWords({ ...none, schedule_cron: "30 7 * * *" })).toBe("at 07:30 every day UTC");
    expect(scheduleWords({ ...none, schedule_cron: "*/15 * * * *" })).toBe("every 15 minutes");
    expect(scheduleWords({ ...none, schedule_cron: "0 6 1 * *" })).toBe("cron 0 6 1 * * (UTC)");
  });

  it("names the provider", () => {
    expect(providerLabel({ provider: "jira", base_url: "x", settings: { flavor: "cloud" } })).toBe("Jira Cloud");
    expect(providerLabel({ provider: "jira", base_url: "x", settings: { flavor: "dc" } })).toBe("Jira Data Center");
    expect(providerLabel({ provider: "github", base_url: "https://api.github.com" })).toBe("GitHub");
    expect(providerLabel({ provider: "github", base_url: "https://ghe.acme.com/api/v3" })).toBe("GitHub Enterprise");
  });

  it("calls an enabled integration overdue only a few minutes past its due time", () => {
    const now = Date.parse("2025-01-01T12:00:00Z");
    expect(isOverdue({ enabled: true, next_sync_at: "2025-01-01T11:58:00Z" }, now)).toBe(false);
    expect(isOverdue({ enabled: true, next_sync_at: "2025-01-01T11:50:00Z" }, now)).toBe(true);
    expect(isOverdue({ enabled: false, next_sync_at: "2025-01-01T11:50:00Z" }, now)).toBe(false);
    expect(isOverdue({ enabled: true, next_sync_at: null }, now)).toBe(false);
  });
});
