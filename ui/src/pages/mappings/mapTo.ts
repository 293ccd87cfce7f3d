// "Map to…" on the Unmapped values page: map a source issue type (or status) to an existing work item
// type (or status), or create one first and map to it. Pure over an ApiClient so it can be tested.

import type { ApiClient } from "../../api/client";
import { send, type Category, type Status, type StatusMapping, type Wit, type WitMapping, type Reprocess } from "../../api/mappings";

export type UnmappedKind = "issue_type" | "status";

export type Target =
  | { existing: number }
  | { create: { name: string; category?: Category; hierarchy_level?: number } };

export interface MapChoice {
  kind: UnmappedKind;
  sourceName: string;
  target: Target;
  /** null: tenant-wide. */
  integrationId: string | null;
}

export type MappingAnswer = (WitMapping | StatusMapping) & { reprocess: Reprocess };

export interface MapOutcome {
  mapping: MappingAnswer;
  /** The wit or status created for it, if one was. */
  created: { id: number; name: string } | null;
}

/** Thrown when the target was created but the mapping was refused: retry with `created` as existing. */
export class MappedHalfway extends Error {
  readonly created: { id: number; name: string };
  readonly cause: unknown;
  constructor(created: { id: number; name: string }, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`${created.name} was created, but the mapping was refused: ${why}`);
    this.created = created;
    this.cause = cause;
  }
}

/** The existing target whose name matches the source's (case-insensitively), as a first suggestion. */
export function suggestTarget<T extends { id: number; name: string }>(sourceName: string, targets: readonly T[]): T | null {
  const key = sourceName.trim().toLowerCase();
  return targets.find((target) => target.name.trim().toLowerCase() === key) ?? null;
}

/** The requests "Map to…" makes, in order (the second needs the id the first returns). */
export function plan(choice: MapChoice) {
  const isType = choice.kind === "issue_type";
  const create =
    "create" in choice.target
      ? {
          method: "POST" as const,
          path: isType ? "/wits" : "/statuses",
          body: isType
            ? { name: choice.target.create.name.trim(), hierarchy_level: choice.target.create.hierarchy_level ?? 0 }
            : { name: choice.target.create.name.trim(), category: choice.target.create.category ?? "in_progress" },
        }
      : null;
  const mapping = (targetId: number) => ({
    method: "POST" as const,
    path: isType ? "/wit-mappings" : "/status-mappings",
    body: {
      source_name: choice.sourceName,
      [isType ? "wit_id" : "status_id"]: targetId,
      ...(choice.integrationId ? { integration_id: choice.integrationId } : {}),
    },
  });
  return { create, mapping };
}

export async function mapTo(client: ApiClient, choice: MapChoice): Promise<MapOutcome> {
  const { create, mapping } = plan(choice);
  let created: { id: number; name: string } | null = null;
  let targetId: number;
  if (create) {
    const row = await send<Wit | Status>(client, create);
    created = { id: row.id, name: row.name };
    targetId = row.id;
  } else {
    targetId = (choice.target as { existing: number }).existing;
  }
  try {
    return { mapping: await send<MappingAnswer>(client, mapping(targetId)), created };
  } catch (error) {
    if (created) throw new MappedHalfway(created, error);
    throw error;
  }
}
