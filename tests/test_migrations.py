"""The schema is Alembic's: upgrade from empty, no drift from the models, downgrade to nothing."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from alembic import command
from etl.migrations import alembic_config
from etl.models import Base


def test_upgrade_matches_models_and_downgrade_removes_everything(empty_database):
    cfg = alembic_config()
    with empty_database.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with empty_database.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], f"models and migrations drifted: {diff}"
        tables = set(inspect(conn).get_table_names())
    assert {"tenants", "integrations", "raw_extraction_data", "etl_jobs", "etl_task_runs", "sync_state", "wits",
            "wit_mappings", "wit_hierarchies", "statuses", "status_mappings", "workflows", "work_items",
            "work_item_transitions"} <= tables
    with empty_database.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    with empty_database.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
