// A job's error_details in words.

import type { ErrorDetails, Job } from "../api/types";

const STAGE_WORDS: Record<string, string> = {
  extract: "While reading from the source",
  transform: "While transforming records",
  load: "While loading records",
  broker: "The work could not be queued",
  reaper: "The job's work was lost",
  cancel: "Stopped",
  reconcile: "Records are missing",
};

export function stageWords(stage: string | undefined): string | null {
  if (!stage) return null;
  return STAGE_WORDS[stage] ?? `In stage ${stage}`;
}

/** One sentence, or null when the job has nothing to say. */
export function errorText(details: ErrorDetails | null | undefined): string | null {
  if (!details) return null;
  const lead = stageWords(details.stage);
  const message = typeof details.message === "string" ? details.message : null;
  if (lead && message) return `${lead}: ${message}`;
  return message ?? lead;
}

/** The other fields of error_details, as "name: value" lines (text only). */
export function errorExtras(details: ErrorDetails | null | undefined): [string, string][] {
  if (!details) return [];
  return Object.entries(details)
    .filter(([name]) => name !== "stage" && name !== "message")
    .map(([name, value]) => [name.replaceAll("_", " "), typeof value === "string" ? value : JSON.stringify(value)]);
}

export function jobError(job: Job): string | null {
  if (job.status === "queued" || job.status === "running" || job.status === "succeeded") return null;
  return errorText(job.error_details);
}
