"""`etl`: the operator's command line.

Every command accepts `--json` and then prints exactly one JSON object on stdout (errors included,
as {"error": ...}); human-readable messages and live progress go to stderr. Exit status: 0 on
success, 1 on an error or a job that did not succeed, 2 when the integration already has an active
job (and for command-line usage errors), 130 when interrupted.
"""
from __future__ import annotations

import sys

import click
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

from etl import logs
from etl.cli.audit import audit
from etl.cli.db import db
from etl.cli.demo import demo_command
from etl.cli.doctor import doctor
from etl.cli.fake_sources import fake_sources
from etl.cli.integrations import integrations
from etl.cli.jobs import jobs, sync
from etl.cli.keys import keys
from etl.cli.notifications import notifications
from etl.cli.output import CliError, dumps, masked_db_url, note
from etl.cli.tenants import tenants
from etl.config import get_settings
from etl.db import database_hint

# --- errors from the layers below, in words an operator can act on --------------------------------


def translate_error(exc: BaseException) -> CliError | None:
    """Known failures -> a message that says what to fix; None for a real bug."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, ValidationError):
        msgs = "; ".join(str(e.get("msg", e)).removeprefix("Value error, ") for e in exc.errors())
        return CliError(f"invalid configuration: {msgs}")
    if isinstance(exc, sa_exc.OperationalError):
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return CliError(f"cannot reach the database at {masked_db_url()}: {first}; "
                        f"{database_hint(get_settings().database_url, first)}")
    if isinstance(exc, sa_exc.ProgrammingError) and "does not exist" in str(exc.orig):
        first = str(exc.orig).strip().splitlines()[0]
        return CliError(
            f"the database at {masked_db_url()} has no pulse-etl schema ({first}). Run `etl db upgrade` first."
        )
    return None


# --- the command tree ----------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout instead of text.")
@click.pass_context
def cli(ctx: click.Context, as_json: bool) -> None:
    """pulse-etl: Jira issues into an engineering-analytics PostgreSQL database, on Celery.

    Configuration comes from ETL_* environment variables (see README.md).
    """
    ctx.ensure_object(dict)
    ctx.obj["json"] = as_json


# The command groups, one module each (etl/cli/*.py); `etl --help` lists them sorted by name.
for command in (db, tenants, keys, integrations, sync, jobs, fake_sources, demo_command, doctor, notifications,
                audit):
    cli.add_command(command)


# --- entry point ---------------------------------------------------------------------------------


def _report(err: CliError, as_json: bool) -> None:
    if as_json:
        click.echo(dumps({"error": err.message, "exit_code": err.code, **err.extra}))
    click.echo(f"error: {err.message}", err=True)


def _setup_logging() -> None:
    """Library lines (warnings and up, ETL_LOG_LEVEL to see more) in ETL_LOG_FORMAT on stderr,
    credentials masked; a bad .env is not an error here (the command that reads it reports it)."""
    try:
        level = get_settings().log_level or "WARNING"
    except Exception:  # noqa: BLE001
        level = "WARNING"
    logs.setup(level)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    _setup_logging()
    try:
        rv = cli.main(args=argv, prog_name="etl", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        note("interrupted")
        sys.exit(130)
    except click.ClickException as exc:
        if as_json:
            click.echo(dumps({"error": exc.format_message(), "exit_code": exc.exit_code}))
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - translated into an actionable message, or re-raised
        err = translate_error(exc)
        if err is None:
            raise
        _report(err, as_json)
        sys.exit(err.code)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
