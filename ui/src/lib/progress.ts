// What a job is doing, in words: "3,000 checked, nothing changed" rather than "0 / 0 loaded".

import type { Job, JobCounters } from "../api/types";
import { n } from "./format";

/** Records the source's pages held so far (the API counts `seen` as loaded + unchanged + failed at the end). */
export function checked(c: JobCounters): number {
  return Math.max(c.seen ?? 0, c.extracted + c.unchanged);
}

function tail(c: JobCounters, parts: string[]) {
  if (c.unchanged && c.extracted) parts.push(`${n(c.unchanged)} unchanged`);
  if (c.failed) parts.push(`${n(c.failed)} failed`);
  return parts.join(", ");
}

export function progressText(job: Pick<Job, "status" | "kind" | "counters" | "extraction_done">): string {
  const c = job.counters;
  const seen = checked(c);
  switch (job.status) {
    case "queued":
      return "waiting to start";
    case "running": {
      if (c.extracted > 0) {
        const total = job.extraction_done ? "" : " so far";
        return tail(c, [`${n(c.loaded)} of ${n(c.extracted)} loaded${total}`]);
      }
      if (seen > 0) return tail(c, [`${n(seen)} checked, nothing changed so far`]);
      if (c.pages > 0) return `${n(c.pages)} ${c.pages === 1 ? "page" : "pages"} read, no records yet`;
      return job.kind === "reprocess" ? "starting the reprocess" : "reading the first page";
    }
    case "succeeded":
    case "partial": {
      if (c.extracted === 0 && c.loaded === 0) {
        if (seen === 0) return tail(c, ["nothing to read"]);
        return tail(c, [`${n(seen)} checked, nothing changed`]);
      }
      return tail(c, [`${n(c.loaded)} loaded`]);
    }
    case "failed":
    case "cancelled": {
      const verb = job.status === "failed" ? "failed" : "was cancelled";
      if (c.loaded > 0) return tail(c, [`${n(c.loaded)} of ${n(c.extracted)} loaded before it ${verb}`]);
      if (seen > 0) return tail(c, [`${n(seen)} checked, nothing loaded`]);
      return "nothing loaded";
    }
    default:
      return `${n(c.loaded)} loaded`;
  }
}

/** Share done, for a bar; null when the total is not known yet (an indeterminate bar). */
export function progressShare(job: Pick<Job, "status" | "counters"> & { progress?: number | null }): number | null {
  if (job.status === "queued") return 0;
  if (job.status === "failed" || job.status === "cancelled") {
    const c = job.counters;
    return c.extracted > 0 ? Math.min(1, c.loaded / c.extracted) : 0;
  }
  if (job.status !== "running") return 1;
  if (job.progress !== undefined && job.progress !== null) return job.progress;
  const c = job.counters;
  return c.extracted > 0 ? Math.min(1, c.loaded / c.extracted) : null;
}
