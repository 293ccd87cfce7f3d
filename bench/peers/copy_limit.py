"""The raw-COPY limit: what PostgreSQL can write into a JSONB column, one stream. psycopg 3 `COPY`
of the same payloads pulse-etl stored (the fake's issue JSON with full changelogs, as compact JSON,
read back and prepared before the clock starts) into a one-column table, with the column's TOAST
compression set to pglz or lz4. One COPY, one commit."""
from __future__ import annotations

import time

import orjson
import psycopg

from bench.procs import tree_cpu_seconds


def fetch_payloads(dsn: str, entity_type: str = "jira_issue") -> list[bytes]:
    """Every raw payload of that entity type as one COPY text-format line (compact JSON; COPY's
    escape character, the backslash, doubled)."""
    lines = []
    with psycopg.connect(dsn) as conn, conn.cursor(name="payloads") as cur:
        cur.itersize = 1000
        cur.execute("SELECT raw_data::text FROM raw_extraction_data WHERE entity_type = %s ORDER BY id",
                    (entity_type,))
        for (raw,) in cur:
            lines.append(orjson.dumps(orjson.loads(raw)).replace(b"\\", b"\\\\") + b"\n")
    return lines


def copy_run(dsn: str, lines: list[bytes], compression: str, postmaster_pid: int, chunk: int = 200) -> dict:
    table = f"bench_copy_limit_{compression}"
    with psycopg.connect(dsn) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} (raw jsonb NOT NULL)")
        conn.execute(f"ALTER TABLE {table} ALTER COLUMN raw SET COMPRESSION {compression}")
        conn.commit()
        pg0, client0, t0 = tree_cpu_seconds([postmaster_pid]), time.thread_time(), time.monotonic()
        with conn.cursor() as cur, cur.copy(f"COPY {table} (raw) FROM STDIN") as cp:
            for i in range(0, len(lines), chunk):
                cp.write(b"".join(lines[i:i + chunk]))
        conn.commit()
        wall = time.monotonic() - t0
        pg_cpu, client_cpu = tree_cpu_seconds([postmaster_pid]) - pg0, time.thread_time() - client0
        used = conn.execute(f"SELECT pg_column_compression(raw) FROM {table} WHERE pg_column_compression(raw) "
                            "IS NOT NULL LIMIT 1").fetchone()
        size = conn.execute(f"SELECT pg_total_relation_size('{table}')").fetchone()[0]
        conn.execute(f"DROP TABLE {table}")
        conn.commit()
    n = len(lines)
    return {"compression": compression, "rows": n, "wall_s": wall, "issues_per_s": n / wall,
            "cpu_postgres_s": pg_cpu, "cpu_client_s": client_cpu,
            "cpu_ms_per_issue": 1000 * (pg_cpu + client_cpu) / n,
            "compression_seen": used[0] if used else None, "table_bytes": int(size)}
