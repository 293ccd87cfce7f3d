"""How often the pipeline writes the raw layer (issue 12): each raw object once on a first sync (no
`processing` or `completed` rewrite of the wide row), nothing at all on a re-sync of unchanged
data, and no final row either. Counted the way the benchmark counts (pg_stat_user_tables), on real
workers."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.scopes import server_connection
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
