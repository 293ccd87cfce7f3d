"""The suite's own set-up: tests that need no services run without them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNIT_TESTS = ["tests/sources/jira/test_transform_unit.py", "tests/sources/github/test_transform_unit.py"]


def test_the_transform_unit_tests_run_with_no_broker_and_no_database(tmp_path):
    """They call no rabbitmqctl (so they create no vhost, which a run that never used the database
    fixture used to leave behind) and reach no PostgreSQL (the admin DSN points at a closed port)."""
    calls = tmp_path / "rabbitmqctl-calls"
    fake_ctl = tmp_path / "bin" / "rabbitmqctl"
    fake_ctl.parent.mkdir()
    fake_ctl.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 1\n')
    fake_ctl.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("ETL_BROKER_URL", "ETL_DATABASE_URL")}
    env.update(PATH=f"{fake_ctl.parent}{os.pathsep}{env.get('PATH', '')}",
               PULSE_TEST_ADMIN_DSN="postgresql://postgres@127.0.0.1:1/postgres")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", *UNIT_TESTS], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert not calls.exists(), f"rabbitmqctl was called: {calls.read_text()}"
