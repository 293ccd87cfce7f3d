"""`etl doctor`: check a deployment end to end, one line per check with what to fix."""
from __future__ import annotations

import click

from etl.cli.output import emit, json_option


@click.command("doctor")
@click.option("--flower-url", envvar="ETL_FLOWER_URL", metavar="URL",
              help="Flower's address (e.g. http://127.0.0.1:5555); its /healthcheck is checked. "
                   "Default: $ETL_FLOWER_URL; unset: Flower is not checked.")
@click.option("--skip-sources", is_flag=True, help="Do not run the integrations' connection tests.")
@click.option("--tenant", metavar="NAME", help="Test only this tenant's integrations.")
@json_option
def doctor(flower_url: str | None, skip_sources: bool, tenant: str | None, as_json: bool) -> int:
    """Check settings, database and migrations, broker and queues, workers, beat, Flower and each
    integration's source. Exit 0 when no check failed (warnings allowed), 1 otherwise."""
    from etl.ops.doctor import run_checks  # alembic and the sources: only this command pays for them

    checks = run_checks(flower_url=flower_url, skip_sources=skip_sources, tenant=tenant)
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    summary = f"{len(checks)} checks: {failed} failed, {warned} warned"

    def lines() -> str:
        width = max(len(c.name) for c in checks)
        rows = [f"{c.status:<4}  {c.name:<{width}}  {c.detail}" for c in checks]
        return "\n".join([*rows, summary])

    emit(as_json, {"ok": failed == 0, "failed": failed, "warned": warned,
                   "checks": [c.as_dict() for c in checks]}, lines)
    return 1 if failed else 0
