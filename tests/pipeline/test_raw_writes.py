"""How often the pipeline writes the raw layer (issue 12): each raw object once on a first sync (no
`processing` or `completed` rewrite of the wide row), nothing at all on a re-sync of unchanged
data, and no final row either. Counted the way the benchmark counts (pg_stat_user_tables), on real
workers."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.scopes import server_connection, session_scope
from tests.waiting import run_sync

pytestmark = pytest.mark.usefixtures("workers")

TABLES = ("raw_extraction_data", "work_items", "work_item_transitions")
# An idle backend flushes its table statistics at the latest 10 s after its last transaction
# (PostgreSQL 15, PGSTAT_IDLE_INTERVAL): a reading is settled once two readings that far apart agree.
STATS_FLUSH_SECONDS = 11.0


def table_writes() -> dict[str, tuple[int, int, int]]:
    """(inserted, updated, deleted) per table, on a fresh transaction (no cached statistics snapshot)."""
    with server_connection() as conn:
        rows = conn.execute(text("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
                                 "WHERE relname = ANY(:t)"), {"t": list(TABLES)}).all()
    return {name: (ins, upd, dele) for name, ins, upd, dele in rows}


def settled_writes() -> dict[str, tuple[int, int, int]]:
    """Table statistics once every worker's backend has flushed them: the same two readings in a row
    STATS_FLUSH_SECONDS apart (a backend reports within that time of its last transaction)."""
    last = table_writes()
    while True:
        time.sleep(STATS_FLUSH_SECONDS)  # the statistics collector's interval, not a wait on our own work
        now = table_writes()
        if now == last:
            return now
        last = now


def delta(before: dict, after: dict) -> dict[str, tuple[int, int, int]]:
    return {t: tuple(a - b for a, b in zip(after[t], before.get(t, (0, 0, 0)))) for t in TABLES}


def test_a_first_sync_writes_each_raw_object_once_and_a_re_sync_writes_nothing(jira_integration):
    issues = 250
    tenant_id, _, integration_id, _ = jira_integration(issues=issues, seed=3)
    before = settled_writes()
    assert run_sync(tenant_id, integration_id, "full").status == "succeeded"
    first = settled_writes()
    raw_ins, raw_upd, raw_del = delta(before, first)["raw_extraction_data"]
    assert (raw_ins, raw_upd, raw_del) == (issues, 0, 0), "one insert per raw object, no status rewrite"
    assert delta(before, first)["work_items"] == (issues, 0, 0)

    assert run_sync(tenant_id, integration_id, "full").status == "succeeded"
    again = delta(first, settled_writes())
    assert again == {t: (0, 0, 0) for t in TABLES}, "a re-sync of unchanged data writes no row"


def test_objects_a_failed_job_left_unloaded_are_processed_by_the_next_sync_rewritten_once(jira_integration):
    """A job that ended with batches unloaded leaves their objects `pending` (release_unloaded):
    the next sync, though the source shows them unchanged, rewrites each once with its batch and
    loads it; every other object is left alone."""
    tenant_id, _, integration_id, _ = jira_integration(issues=120, seed=5)
    assert run_sync(tenant_id, integration_id, "full").status == "succeeded"
    with session_scope() as s:  # what release_unloaded leaves after a job failed before these loads
        left = s.scalars(text("UPDATE raw_extraction_data SET processing_status = 'pending', processed_at = NULL "
                              "WHERE integration_id = :i AND external_id IN (SELECT external_id FROM "
                              "raw_extraction_data WHERE integration_id = :i ORDER BY external_id LIMIT 7) "
                              "RETURNING external_id"), {"i": integration_id}).all()
        s.execute(text("DELETE FROM work_items WHERE integration_id = :i AND external_id = ANY(:e)"),
                  {"i": integration_id, "e": list(left)})
    before = settled_writes()
    assert run_sync(tenant_id, integration_id, "full").status == "succeeded"
    writes = delta(before, settled_writes())
    assert writes["raw_extraction_data"] == (0, 7, 0) and writes["work_items"] == (7, 0, 0)
    with session_scope() as s:
        statuses = dict(s.execute(text("SELECT processing_status, count(*) FROM raw_extraction_data "
                                       "WHERE integration_id = :i GROUP BY 1"), {"i": integration_id}).all())
        items = s.scalar(text("SELECT count(*) FROM work_items WHERE integration_id = :i"), {"i": integration_id})
    assert statuses == {"completed": 120} and items == 120
