"""The schema is Alembic's: upgrade from empty, no drift from the models, downgrade to nothing."""
from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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


def test_timestamp_renames_keep_values_and_staged_rows_both_ways(empty_database):
    """0012 renames work_items.created/updated/resolved, pull_requests.created/updated/merged/closed
    and etl_batches.max_updated to *_at: values stay, and rows staged on a batch (read by name by
    the load) get the new keys, both ways."""
    cfg = alembic_config()
    at = "2025-09-01T10:00:00+00:00"
    old_item = {"external_id": "1", "created": at, "updated": at, "resolved": None, "lead_time_seconds": 5}
    old_pr = {"external_id": "acme/api#1", "created": at, "updated": at, "merged": at, "closed": at}
    new_item = {"external_id": "1", "created_at": at, "updated_at": at, "resolved_at": None, "lead_time_seconds": 5}
    new_pr = {"external_id": "acme/api#1", "created_at": at, "updated_at": at, "merged_at": at, "closed_at": at}
    review = {"external_id": "7", "submitted_at": at}

    def migrate(how, revision):
        with empty_database.begin() as conn:
            cfg.attributes["connection"] = conn
            how(cfg, revision)

    def staged(conn):
        return conn.execute(text("SELECT staged FROM etl_batches ORDER BY seq")).scalars().all()

    migrate(command.upgrade, "0011")
    with empty_database.begin() as conn:
        conn.execute(text("""
            INSERT INTO tenants (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 't');
            INSERT INTO integrations (id, tenant_id, provider, name, base_url, credentials_encrypted)
                VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001',
                        'jira', 'j', 'https://x', '');
            INSERT INTO etl_jobs (id, tenant_id, integration_id) VALUES ('00000000-0000-0000-0000-000000000003',
                '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002');
            INSERT INTO work_items (tenant_id, integration_id, external_id, key, created, updated, resolved)
                VALUES ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002', '1', 'A-1',
                        '2025-09-01T10:00:00Z', '2025-09-02T10:00:00Z', NULL);
        """))
        for seq, rows in enumerate([{"work_items": [old_item], "work_item_transitions": []},
                                    {"pull_requests": [old_pr, {"external_id": "x"}], "pr_reviews": [review]},
                                    None]):
            conn.execute(text("""
                INSERT INTO etl_batches (job_id, tenant_id, stream, seq, max_updated, staged)
                VALUES ('00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000001', 's', :seq,
                        '2025-09-03T10:00:00Z', CAST(:staged AS jsonb))"""),
                         {"seq": seq, "staged": None if rows is None else json.dumps(rows)})
    migrate(command.upgrade, "0012")
    with empty_database.connect() as conn:
        item = conn.execute(text("SELECT created_at, updated_at, resolved_at FROM work_items")).one()
        assert [v.isoformat() if v else v for v in item] == ["2025-09-01T10:00:00+00:00", "2025-09-02T10:00:00+00:00",
                                                            None]
        assert conn.execute(text("SELECT count(*) FROM etl_batches WHERE max_updated_at IS NOT NULL")).scalar() == 3
        assert staged(conn) == [{"work_items": [new_item], "work_item_transitions": []},
                                {"pull_requests": [new_pr, {"external_id": "x"}], "pr_reviews": [review]}, None]
    migrate(command.downgrade, "0011")
    with empty_database.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM work_items WHERE created IS NOT NULL AND updated IS NOT NULL"
                                 " AND resolved IS NULL")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM etl_batches WHERE max_updated IS NOT NULL")).scalar() == 3
        assert staged(conn) == [{"work_items": [old_item], "work_item_transitions": []},
                                {"pull_requests": [old_pr, {"external_id": "x"}], "pr_reviews": [review]}, None]


def test_0019_drops_the_http_validators_keeps_the_rest_and_downgrade_brings_them_back_with_rls(empty_database):
    """0019 drops http_cache, the stream ETags and the 304 counters (dead since GitHub moved to
    GraphQL): the jobs, batches and sync state around them keep their values; the downgrade
    re-creates them, http_cache as a tenant table with both row-level security policies."""
    cfg = alembic_config()
    tenant, integration, job = (f"00000000-0000-0000-0000-00000000000{n}" for n in (1, 2, 3))

    def migrate(how, revision):
        with empty_database.begin() as conn:
            cfg.attributes["connection"] = conn
            how(cfg, revision)

    def columns(conn, table):
        return {c["name"] for c in inspect(conn).get_columns(table)}

    migrate(command.upgrade, "0017")
    with empty_database.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO tenants (id, name) VALUES ('{tenant}', 't');
            INSERT INTO integrations (id, tenant_id, provider, name, base_url, credentials_encrypted)
                VALUES ('{integration}', '{tenant}', 'github', 'g', 'https://x', '');
            INSERT INTO etl_jobs (id, tenant_id, integration_id, requests_made, not_modified)
                VALUES ('{job}', '{tenant}', '{integration}', 7, 1);
            INSERT INTO etl_batches (job_id, tenant_id, stream, seq, requests_made, not_modified, stream_etag)
                VALUES ('{job}', '{tenant}', 'pulls:acme/api', 0, 7, 1, 'W/"abc"');
            INSERT INTO sync_state (integration_id, stream, tenant_id, watermark, stream_etag)
                VALUES ('{integration}', 'pulls:acme/api', '{tenant}', '2025-09-01T10:00:00Z', 'W/"abc"');
            INSERT INTO http_cache (integration_id, url, tenant_id, etag)
                VALUES ('{integration}', 'https://x/repos/acme/api/pulls', '{tenant}', 'W/"abc"');
        """))
    migrate(command.upgrade, "0019")
    with empty_database.connect() as conn:
        assert "http_cache" not in inspect(conn).get_table_names()
        assert "not_modified" not in columns(conn, "etl_jobs")
        assert not {"not_modified", "stream_etag"} & columns(conn, "etl_batches")
        assert "stream_etag" not in columns(conn, "sync_state")
        assert conn.execute(text("SELECT requests_made FROM etl_jobs")).scalar() == 7
        assert conn.execute(text("SELECT requests_made FROM etl_batches")).scalar() == 7
        watermark = conn.execute(text("SELECT watermark FROM sync_state")).scalar()
        assert watermark.isoformat() == "2025-09-01T10:00:00+00:00"
    migrate(command.downgrade, "0017")
    with empty_database.connect() as conn:
        assert conn.execute(text("SELECT requests_made, not_modified FROM etl_jobs")).one() == (7, 0)
        assert conn.execute(text("SELECT not_modified, stream_etag FROM etl_batches")).one() == (0, None)
        assert conn.execute(text("SELECT stream_etag FROM sync_state")).scalar() is None
        assert conn.execute(text("SELECT count(*) FROM http_cache")).scalar() == 0
        policies = set(conn.execute(text("SELECT policyname, array_to_string(roles, ',') FROM pg_policies "
                                         "WHERE tablename = 'http_cache'")).all())
        assert policies == {("tenant_isolation", "pulse_app"), ("all_tenants", "pulse_system")}
        assert conn.execute(text("SELECT relrowsecurity FROM pg_class WHERE relname = 'http_cache'")).scalar()
        assert conn.execute(text("SELECT has_table_privilege('pulse_app', 'http_cache', 'INSERT') "
                                 "AND has_table_privilege('pulse_system', 'http_cache', 'DELETE')")).scalar()


def test_webhook_urls_are_encrypted_and_masked_and_decrypted_back(empty_database):
    """0020 turns each webhook's clear url into url_encrypted (the app's Fernet key) and a masked
    url_display, and drops url; the downgrade decrypts it back."""
    from etl.crypto import decrypt_credentials

    cfg = alembic_config()
    slack = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstXk9Q"

    def migrate(how, revision):
        with empty_database.begin() as conn:
            cfg.attributes["connection"] = conn
            how(cfg, revision)

    migrate(command.upgrade, "0019")
    with empty_database.begin() as conn:
        conn.execute(text("""
            INSERT INTO tenants (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 't');
            INSERT INTO webhook_subscriptions (id, tenant_id, name, url, events, secret_encrypted) VALUES
                ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-000000000001', 'slack', :slack,
                 '{job.failed}', 'x'),
                ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-000000000001', 'short',
                 'https://hooks.example.com/pulse', '{job.failed}', 'x')
        """), {"slack": slack})
    migrate(command.upgrade, "0020")
    with empty_database.connect() as conn:
        rows = conn.execute(text("SELECT * FROM webhook_subscriptions ORDER BY name")).mappings().all()
    assert "url" not in rows[0]
    assert [(r["name"], r["url_display"]) for r in rows] == [("short", "https://hooks.example.com/…"),
                                                             ("slack", "https://hooks.slack.com/…Xk9Q")]
    assert [decrypt_credentials(r["url_encrypted"])["url"] for r in rows] == ["https://hooks.example.com/pulse", slack]
    assert not any("/services/" in str(value) for r in rows for value in r.values())
    migrate(command.downgrade, "0019")
    with empty_database.connect() as conn:
        assert conn.execute(text("SELECT name, url FROM webhook_subscriptions ORDER BY name")).all() == [
            ("short", "https://hooks.example.com/pulse"), ("slack", slack)]
