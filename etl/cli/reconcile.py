"""`etl integrations reconcile`: find items deleted at the source now (etl.ops.reconcile). A command
of the integrations group, which adds it (etl/cli/integrations.py)."""
from __future__ import annotations

import click

from etl.cli.output import CliError, emit, json_option, parse_uuid
from etl.ops.reconcile import ReconcileRefused, reconcile
from etl.sources.http import SourceError


@click.command("reconcile")
@click.argument("integration_id")
@json_option
def integrations_reconcile(integration_id: str, as_json: bool) -> int:
    """Find items deleted at the source now (otherwise done daily and after each full sync).

    Lists every id the source still has and marks the integration's items that are gone with
    deleted_at; nothing is marked if the listing fails.
    """
    integ_id = parse_uuid(integration_id, "integration")
    try:
        result = reconcile(integ_id)
    except LookupError:
        raise CliError(f"no integration {integ_id}; `etl integrations list` shows them") from None
    except ReconcileRefused as exc:
        raise CliError(str(exc)) from None
    except SourceError as exc:
        raise CliError(f"listing the source's ids failed, nothing was marked deleted: {exc.message}") from None
    data = result.as_dict()
    emit(as_json, data, lambda: (
        f"skipped: {data['skipped']}" if data["skipped"] else
        f"{data['listed']} ids at the source; {data['deleted']} marked deleted, {data['restored']} restored"
    ))
    return 0
