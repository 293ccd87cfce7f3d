import { describe, expect, it } from "vitest";
import { counters, job } from "../test/fixtures";
import { progressShare, progressText } from "./progress";

const text = (status: string, c = {}, over = {}) => progressText(job({ status, counters: counters(c), ...over }));

describe("progressText", () => {
  it("says nothing changed rather than 0 / 0", () => {
    expect(text("succeeded", { unchanged: 3000, seen: 3000, pages: 30 })).toBe("3,000 checked, nothing changed");
    expect(text("running", { unchanged: 1200, pages: 12 })).toBe("1,200 checked, nothing changed so far");
    expect(text("succeeded")).toBe("nothing to read");
  });

  it("counts what is loaded while running", () => {
    expect(text("running", { extracted: 3000, loaded: 1200 }, { extraction_done: true })).toBe("1,200 of 3,000 loaded");
    expect(text("running", { extracted: 3000, loaded: 1200, unchanged: 50, failed: 2 })).toBe(
      "1,200 of 3,000 loaded so far, 50 unchanged, 2 failed",
    );
    expect(text("running", { pages: 1 })).toBe("1 page read, no records yet");
    expect(text("running")).toBe("reading the first page");
    expect(text("queued")).toBe("waiting to start");
  });

  it("sums up an ended job", () => {
    expect(text("succeeded", { extracted: 40, loaded: 40, unchanged: 2960, seen: 3000 })).toBe("40 loaded, 2,960 unchanged");
    expect(text("partial", { extracted: 40, loaded: 38, failed: 2, seen: 40 })).toBe("38 loaded, 2 failed");
    expect(text("failed", { extracted: 500, loaded: 200 })).toBe("200 of 500 loaded before it failed");
    expect(text("cancelled", { extracted: 500, loaded: 200 })).toBe("200 of 500 loaded before it was cancelled");
    expect(text("failed")).toBe("nothing loaded");
  });
});

describe("progressShare", () => {
  it("is unknown until something is extracted", () => {
    expect(progressShare(job({ counters: counters() }))).toBeNull();
    expect(progressShare(job({ counters: counters({ extracted: 4, loaded: 1 }) }))).toBe(0.25);
    expect(progressShare(job({ progress: 0.5, counters: counters({ extracted: 4, loaded: 1 }) }))).toBe(0.5);
    expect(progressShare(job({ status: "succeeded" }))).toBe(1);
    expect(progressShare(job({ status: "cancelled", counters: counters({ unchanged: 377, seen: 377 }) }))).toBe(0);
  });
});
