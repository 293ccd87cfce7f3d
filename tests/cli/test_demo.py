"""`etl demo` as a new user runs it (issue 13): a shell without any ETL_* variable, one folder, the
embedded PostgreSQL and the file-based broker. A later run in the folder works on the same `demo`
tenant and its data; --keep-running prints an export line that another shell uses as printed, and
Ctrl-C stops everything; --fresh starts over.

The runs share one folder, in this order: the first run (a fixture), a second with --keep-running,
then --fresh. Each is a real demo of 200 issues (the fake GitHub's 240 pull requests too), about
25 s on two cores.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.test_cli import etl_command
from tests.faults import alive, descendants, port_open, wait_until

ISSUES = 200
DEMO_ARGS = ["--issues", str(ISSUES), "--timeout", "240"]
RUN_TIMEOUT = 300


def fresh_shell() -> dict[str, str]:
    """This process's environment without any ETL_* variable, as in a new terminal."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "PULSE_DEMO_"))}


def demo(folder: Path, *args: str) -> tuple[dict, str]:
    """Run `etl demo ... --json` to the end: (its JSON summary, what it told the user on stderr)."""
    done = subprocess.run([*etl_command(), "demo", *DEMO_ARGS, *args, "--json"], cwd=folder, env=fresh_shell(),
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def in_a_new_shell(export: str, command: str) -> subprocess.CompletedProcess:
    """`export ...` then the command, in bash, from another folder, with no ETL_* variable but those."""
    return subprocess.run(["bash", "-c", f"{export}\n{command}"], cwd="/", env=fresh_shell(), capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, dict, str]:
    folder = tmp_path_factory.mktemp("demo")
    summary, told = demo(folder)
    return folder, summary, told


def test_a_first_run_creates_the_demo_tenant_and_says_nothing_it_cannot_keep(first_run):
    _, summary, told = first_run
    assert summary["status"] == "succeeded" and summary["loaded"] == ISSUES
    assert summary["tenant"] == "demo" and not summary["tenant_reused"]
    assert summary["demo_dir"]["bytes"] > 0
    # The database stopped with the demo: no command that would point at it.
    assert summary["psql"] is None and "reach" not in summary
    assert "psql" not in told and "export" not in told


def test_a_second_run_keeps_the_tenant_and_data_and_keep_running_is_reachable_as_printed(first_run):
    folder, first, _ = first_run
    out, err = folder / "keep.out", folder / "keep.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen([*etl_command(), "demo", *DEMO_ARGS, "--keep-running", "--json"], cwd=folder,
                                env=fresh_shell(), stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                # as from a terminal: a background job of a script would ignore Ctrl-C
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_until(lambda: "\n  export " in err.read_text() or proc.poll() is not None, RUN_TIMEOUT,
                   "the export line")
        assert proc.poll() is None, err.read_text()[-3000:]
        told = err.read_text()
        summary = json.loads(out.read_text().strip().splitlines()[-1])

        # The same tenant, with its data: the same fake data comes back unchanged, nothing is written.
        assert summary["tenant_id"] == first["tenant_id"] and summary["tenant_reused"]
        assert "kept from an earlier run" in told
        assert summary["unchanged"] == ISSUES and summary["loaded"] == 0 and summary["work_items_rows"] == ISSUES
        assert summary["integration_id"] == first["integration_id"]
        assert summary["github"]["integration_id"] == first["github"]["integration_id"]
        assert summary["api_key"] != first["api_key"] and summary["api_keys_revoked"] == 1
        assert summary["demo_dir"]["bytes"] < 1.3 * first["demo_dir"]["bytes"], (first["demo_dir"], summary["demo_dir"])

        # What another shell runs, as printed.
        lines = told.splitlines()
        export = next(line.strip() for line in lines if line.startswith("  export "))
        tenants_line = next(line.strip() for line in lines if line.strip().endswith(" tenants list"))
        jobs_line = next(line.strip() for line in lines if " jobs list --tenant demo" in line)
        psql_line = next(line.strip() for line in lines if '"$ETL_DATABASE_URL" -c' in line)
        assert re.search(r"ETL_DATABASE_URL='?postgresql://", export)  # bare: psql takes it too
        assert "ETL_BROKER_URL=filesystem://" in export and "ETL_BROKER_FOLDER=" in export

        tenants = in_a_new_shell(export, f"{tenants_line} --json")
        assert tenants.returncode == 0, tenants.stderr
        assert [(t["name"], t["tenant_id"]) for t in json.loads(tenants.stdout)["tenants"]] == [
            ("demo", str(first["tenant_id"]))]
        integrations = in_a_new_shell(export, f"{tenants_line.rsplit(' ', 2)[0]} integrations list --tenant demo --json")
        assert integrations.returncode == 0, integrations.stderr
        assert sorted(i["name"] for i in json.loads(integrations.stdout)["integrations"]) == ["demo-github", "demo-jira"]
        jobs = in_a_new_shell(export, jobs_line)
        assert jobs.returncode == 0 and "demo-jira" in jobs.stdout, jobs.stderr
        rows = in_a_new_shell(export, psql_line)
        assert rows.returncode == 0 and "(10 rows)" in rows.stdout, rows.stderr

        # Ctrl-C: the demo, its workers, the API and the database all stop.
        api_port = int(re.search(r"console\s+http://127\.0\.0\.1:(\d+)/", told).group(1))
        postmaster = int((folder / ".pulse-demo" / "pg" / "postmaster.pid").read_text().split()[0])
        children = descendants(proc.pid)
        assert len(children) >= 3 and port_open(api_port) and alive(postmaster)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        stopped_in = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not [pid for pid in children if alive(pid)]
    assert not alive(postmaster) and not port_open(api_port)
    assert not (folder / ".pulse-demo" / "demo.pid").exists()
    after = in_a_new_shell(export, tenants_line)
    assert after.returncode == 1 and "cannot reach the database" in after.stderr
    print(f"stopped {len(children)} processes and the database in {stopped_in:.1f}s")


def test_fresh_starts_over(first_run):
    folder, first, _ = first_run
    summary, told = demo(folder, "--fresh")
    assert "--fresh: removed .pulse-demo/" in told
    assert summary["tenant"] == "demo" and not summary["tenant_reused"] and summary["tenant_id"] != first["tenant_id"]
    assert summary["loaded"] == ISSUES and summary["unchanged"] == 0 and summary["api_keys_revoked"] == 0


def test_on_a_database_of_ones_own_fresh_deletes_only_the_demo_tenant(database):
    """With ETL_DATABASE_URL set the demo works in that database: --fresh deletes the demo tenant
    (its rows go with it) and nothing else; the keys made by hand for it outlive later runs."""
    from sqlalchemy import func, select

    from etl.cli.demo_state import claim_demo_tenant, forget_demo_tenant, point_integration
    from etl.cli.output import operator_session
    from etl.models import ApiKey, Integration, Tenant
    from etl.tenancy.keys import issue_api_key
    from etl.tenancy.tenants import create_tenant

    with operator_session() as s:
        forget_demo_tenant(s)  # a demo tenant of another test run in this database
        other, _ = create_tenant(s, f"not-the-demo-{os.getpid()}")
        first = claim_demo_tenant(s)
        point_integration(s, first.id, "jira", "demo-jira", "http://127.0.0.1:1", {"email": "a@b.c", "token": "t"},
                          {"projects": ["ABC"], "flavor": "cloud"})
        by_hand = issue_api_key(s, first.id, name="mine")
    with operator_session() as s:
        again = claim_demo_tenant(s)
        integ, reused = point_integration(s, again.id, "jira", "demo-jira", "http://127.0.0.1:2",
                                          {"email": "a@b.c", "token": "t"}, {"projects": ["ABC"], "flavor": "cloud"})
        assert (again.id, again.reused, again.keys_revoked, reused) == (first.id, True, 1, True)
        assert integ.base_url == "http://127.0.0.1:2"
        assert s.get(ApiKey, by_hand.id).revoked_at is None
    with operator_session() as s:
        assert forget_demo_tenant(s) == first.id
    with operator_session() as s:
        assert s.scalar(select(func.count()).select_from(Integration).where(Integration.tenant_id == first.id)) == 0
        assert s.get(Tenant, first.id) is None and s.get(Tenant, other.id) is not None


def test_a_second_demo_in_a_folder_in_use_is_refused_and_a_stale_pid_file_is_not(tmp_path):
    """Two demos on one embedded database would stop it under each other."""
    from etl.cli.demo_state import running_demo

    base = tmp_path / ".pulse-demo"
    base.mkdir()
    holder = subprocess.Popen(["bash", "-c", "exec -a etl-demo-holder sleep 120"], stdin=subprocess.DEVNULL)
    try:
        (base / "demo.pid").write_text(f"{holder.pid}\n")
        done = subprocess.run([*etl_command(), "demo", "--issues", "1"], cwd=tmp_path, env=fresh_shell(),
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 1 and f"another `etl demo` (pid {holder.pid}) is using .pulse-demo/" in done.stderr
        assert not (base / "pg").exists()  # nothing was started
    finally:
        holder.kill()
        holder.wait()
    assert running_demo(base) is None  # its process is gone: the file no longer holds the folder
