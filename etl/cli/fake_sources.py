"""`etl fake-sources`: the bundled fake Jira, served in the foreground."""
from __future__ import annotations

import sys
import time

import click

from etl.cli.output import CliError, dumps, json_option, wants_json


@click.command("fake-sources")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8081, show_default=True)
@click.option("--issues", type=click.IntRange(0), default=1000, show_default=True)
@click.option("--projects", default="ABC", show_default=True, help="Comma-separated project keys.")
@click.option("--flavor", type=click.Choice(["cloud", "dc"]), default="cloud", show_default=True)
@json_option
def fake_sources(host: str, port: int, issues: int, projects: str, flavor: str, as_json: bool) -> int:
    """Serve the bundled fake Jira in the foreground (Ctrl-C stops it)."""
    from etl.fakes import jira as fake  # the fakes cost every other command's start-up a few tenths of a second

    if not wants_json(as_json):
        return int(fake.main(["--host", host, "--port", str(port), "--issues", str(issues),
                              "--projects", projects, "--flavor", flavor]) or 0)
    # --json: one object saying where it is and how to authenticate, then serve until Ctrl-C.
    jira = fake.FakeJira(issues=issues, projects=projects, flavor=flavor)
    try:
        srv = jira.serve(host, port)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc}; choose another --port") from None
    click.echo(dumps({"url": srv.url, "flavor": flavor, "projects": list(jira.projects), "issues": issues,
                      "email": jira.email if flavor == "cloud" else None, "token": jira.token}))
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        srv.stop()
