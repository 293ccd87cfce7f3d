"""`etl audit [INTEGRATION] [--full] [--repair]`: check that the final tables hold what the raw layer
gives with today's mappings (etl.ops.audit), in this process; the repair is a reprocess job the
workers run. The daily check (beat) and the API run the same audit on the workers."""
from __future__ import annotations

import click
from sqlalchemy import select

from etl.cli.output import CliError, emit, json_option, note, operator_session, parse_uuid
from etl.models import Integration
from etl.ops.audit_runs import AuditUnderWay, request_audit, run_audit


@click.command("audit")
@click.argument("integration_id", required=False)
@click.option("--full", is_flag=True, help="Re-transform every raw object, not a sample (ETL_AUDIT_SAMPLE_SIZE "
                                           "per entity type).")
@click.option("--repair", is_flag=True, help="Reprocess the rows found differing or missing (a reprocess job) and "
                                             "delete the final rows that have no raw object.")
@json_option
def audit(integration_id: str | None, full: bool, repair: bool, as_json: bool) -> int:
    """Audit one integration (default: every enabled integration that has synced).

    Per entity type: raw objects by status, final rows, orphans both ways, and the rows whose
    re-transformed raw object differs from what is stored, by external id with the columns.
    The result is recorded (GET /api/v1/integrations/{id}/audit shows the latest).
    """
    audits = []
    for integ_id in _targets(integration_id):
        with operator_session() as s:
            try:
                audit_id = request_audit(s, s.get(Integration, integ_id), "cli", full, repair).id
            except AuditUnderWay as exc:
                if integration_id:
                    raise CliError(str(exc)) from None
                note(f"skipped: {exc}")
                continue
        note(f"auditing integration {integ_id}...")
        audits.append(run_audit(integ_id, audit_id))
    emit(as_json, {"audits": audits}, lambda: "\n".join(_text(a) for a in audits) or "no integration to audit")
    return 0


def _targets(integration_id: str | None) -> list:
    with operator_session() as s:
        if integration_id:
            integ_id = parse_uuid(integration_id, "integration")
            if s.get(Integration, integ_id) is None:
                raise CliError(f"no integration {integ_id}; `etl integrations list` shows them")
            return [integ_id]
        return list(s.scalars(select(Integration.id).where(Integration.enabled.is_(True),
                                                           Integration.last_sync_at.is_not(None))
                              .order_by(Integration.created_at)))


def _text(audit: dict) -> str:
    summary = audit["summary"]
    kind = "full" if audit["full"] else f"sampled ({summary['sample_size']} per entity type)"
    lines = [f"integration {audit['integration_id']}: {audit['differences']} difference(s), {kind} audit "
             f"in {summary['seconds']:.1f}s"]
    for e in summary["entities"]:
        statuses = ", ".join(f"{n} {status}" for status, n in e["raw_by_status"].items()) or "none"
        lines.append(f"  {e['entity_type']} -> {e['table']}: raw objects {statuses}; {e['final_rows']} rows; "
                     f"{e['compared']} compared")
        lines += _listed("differ", [f"{d['external_id']} ({', '.join(d['columns'])})" for d in e["differing"]["listed"]],
                         e["differing"]["count"])
        lines += _listed("raw objects without a row", e["raw_without_final"]["listed"], e["raw_without_final"]["count"])
        lines += _listed("rows without a raw object", e["final_without_raw"]["listed"], e["final_without_raw"]["count"])
        lines += _listed("raw objects the transform refuses today",
                         [f"{u['external_id']} ({u['error']})" for u in e["untransformable"]["listed"]],
                         e["untransformable"]["count"])
    repair = summary["repair"]
    if repair:
        job = repair["reprocess_job_id"]
        lines.append(f"  repair: {repair['deleted_rows']} row(s) without a raw object deleted; "
                     + (f"reprocess job {job} started for {repair['raw_objects']} raw object(s) "
                        f"(`etl jobs show {job}`)" if job else repair["problem"] or "nothing to reprocess"))
        if repair["refused"]:
            lines.append(f"  repair refused: {repair['refused']}")
    return "\n".join(lines)


def _listed(what: str, items: list[str], count: int) -> list[str]:
    if not count:
        return []
    more = f" (and {count - len(items)} more)" if count > len(items) else ""
    return [f"    {count} {what}: {', '.join(items)}{more}"]
