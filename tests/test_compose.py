"""docker-compose.yml and the Dockerfile, read as an operator's `docker compose up` would use them
(there is no Docker engine here): which service sees which secret, healthchecks, no password on a
command line, the image holding what each command runs, and the settings each app container ends
up with (interpolated from .env.example, then with real passwords) as etl/config.py reads them."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = [name for name, s in SERVICES.items() if s.get("image") == "pulse-etl:latest"]
# The .env variables that are secrets, and the only services that may see them.
SECRETS = {
    "POSTGRES_PASSWORD": {"postgres", "migrate", "api", "worker-extract", "worker-transform", "worker-load"},
    "RABBITMQ_PASSWORD": {"rabbitmq", "api", "worker-extract", "worker-transform", "worker-load", "beat", "flower"},
    "ETL_SECRET_KEY": {"migrate", "api", "worker-extract", "worker-transform", "worker-load", "beat", "flower"},
    "ETL_METRICS_TOKEN": {"api"},
    "ETL_JWT_SECRET": {"api"},
    "FLOWER_PASSWORD": {"flower"},
    "REPLICATION_PASSWORD": {"postgres", "postgres-replica"},
    "ETL_DATABASE_READ_URL": {"api"},  # carries the postgres password, as ETL_DATABASE_URL does
}
VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def command_line(service: str) -> str:
    command = SERVICES[service].get("command") or []
    return " ".join(command) if isinstance(command, list) else command


def test_the_expected_services():
    assert set(APP_SERVICES) == {"migrate", "api", "worker-extract", "worker-transform", "worker-load", "beat", "flower"}
    assert set(SERVICES) == {*APP_SERVICES, "postgres", "rabbitmq", "redis", "postgres-replica"}


def test_no_service_gets_the_whole_env_file():
    assert [name for name, s in SERVICES.items() if "env_file" in s] == []


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_each_secret_reaches_only_the_services_that_need_it(secret):
    seen = {name for name in SERVICES
            if any(secret in VARIABLE_NAMES(value) for value in environment(name).values())}
    assert seen == SECRETS[secret]


def VARIABLE_NAMES(value: str) -> set[str]:
    return {m.group(1) for m in VARIABLE.finditer(value)}


def test_no_password_or_key_on_a_command_line():
    for name in SERVICES:
        line = command_line(name)
        assert not VARIABLE_NAMES(line) & set(SECRETS), f"{name}: {line}"
        assert "basic-auth" not in line and "basic_auth" not in line, f"{name}: {line}"
    # Flower reads its basic auth from the environment instead.
    auth = environment("flower")["FLOWER_BASIC_AUTH"]
    assert interpolate(auth, {"FLOWER_USER": "admin", "FLOWER_PASSWORD": "pw"}) == "admin:pw"


def test_every_long_running_service_has_a_healthcheck():
    missing = [name for name, s in SERVICES.items() if name != "migrate" and "healthcheck" not in s]
    assert missing == []
    beat = " ".join(SERVICES["beat"]["healthcheck"]["test"])
    assert "/tmp/celerybeat-schedule" in beat and "/tmp/celerybeat-schedule" in command_line("beat")
    assert "http://127.0.0.1:5555/healthcheck" in " ".join(SERVICES["flower"]["healthcheck"]["test"])
    assert "--port=5555" in command_line("flower")


def test_the_image_holds_what_compose_runs():
    docker = (ROOT / "Dockerfile").read_text()
    lock = (ROOT / "requirements.lock").read_text()
    assert "WORKDIR /app" in docker and "ENV PYTHONPATH=/app" in docker
    for copied in ("etl", "api", "celeryconfig.py", "alembic.ini", "alembic"):
        assert re.search(rf"^COPY .*\b{re.escape(copied)}\b", docker, flags=re.M), f"{copied} is not in the image"
    programs = {command_line(name).split()[0] for name in APP_SERVICES}
    assert programs == {"alembic", "uvicorn", "celery"}
    for package in (*programs, "flower"):  # celery -A etl flower
        assert re.search(rf"^{package}==", lock, flags=re.M), f"{package} is not in requirements.lock"
    assert "api.main:app" in command_line("api") and (ROOT / "api" / "main.py").exists()


def interpolate(value: str, env: dict[str, str]) -> str:
    """What compose does with ${VAR}, ${VAR:-default} and ${VAR:?error} (and $$)."""
    def one(m: re.Match) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise LookupError(f"{name}: {arg}")
        return arg if op == ":-" else ""
    return VARIABLE.sub(one, value).replace("$$", "$")


def dotenv(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_every_variable_compose_requires_is_in_env_example():
    required = {m.group(1) for m in VARIABLE.finditer((ROOT / "docker-compose.yml").read_text()) if m.group(2) == ":?"}
    assert required <= set(dotenv((ROOT / ".env.example").read_text())), required


def settings_of(service: str, dotenv_values: dict[str, str], monkeypatch):
    from etl.config import Settings

    for name in [n for n in __import__("os").environ if n.startswith("ETL_")]:
        monkeypatch.delenv(name)
    for name, value in environment(service).items():
        monkeypatch.setenv(name, interpolate(value, dotenv_values))
    return Settings(_env_file=None)


def test_a_filled_in_env_example_gives_each_container_settings_that_load(monkeypatch):
    from pydantic import ValidationError

    example = dotenv((ROOT / ".env.example").read_text())
    filled = {**example, "ETL_SECRET_KEY": "k" * 44, "ETL_METRICS_TOKEN": "m" * 32}
    # As copied: production refuses the placeholder passwords, naming the URL and what to set.
    with pytest.raises(ValidationError, match="ETL_DATABASE_URL carries a placeholder password.*POSTGRES_PASSWORD"):
        settings_of("worker-load", filled, monkeypatch)
    with pytest.raises(ValidationError, match="ETL_BROKER_URL carries a placeholder password.*RABBITMQ_PASSWORD"):
        settings_of("beat", filled, monkeypatch)

    real = {**filled, "POSTGRES_PASSWORD": "pg-Xy_12345678", "RABBITMQ_PASSWORD": "mq-Xy_12345678"}
    for service in APP_SERVICES:
        settings = settings_of(service, real, monkeypatch)
        assert settings.environment == "production"
        if service in SECRETS["POSTGRES_PASSWORD"]:
            assert settings.database_url == "postgresql+psycopg2://pulse:pg-Xy_12345678@postgres:5432/pulse"
        if service in SECRETS["RABBITMQ_PASSWORD"]:
            assert settings.broker_url == "amqp://pulse:mq-Xy_12345678@rabbitmq:5672//"
        assert (settings.api_startup_problem() is None) == (service == "api"), service


def test_the_services_the_readme_names_in_its_commands_exist():
    readme = (ROOT / "README.md").read_text()
    named = set()
    for command in re.findall(r"docker compose ([^`\n]+)", readme):
        words = command.split()
        if words[0] in ("exec", "run", "ps"):
            named.add(next(w for w in words[1:] if not w.startswith("-")))
        elif words[0] in ("stop", "start", "restart"):
            named.update(w for w in words[1:] if not w.startswith("-"))
        named.update(re.findall(r"--scale ([\w-]+)=", command))
    assert named >= {"api", "migrate", "postgres", "worker-transform", "beat"}, named
    assert named <= set(SERVICES), named - set(SERVICES)
    assert "docker compose exec api etl doctor --flower-url http://flower:5555" in readme


# --- the optional read replica (profile `replica`) ------------------------------------------------
DEPLOY = ROOT / "deploy" / "postgres"


def mounted(service: str) -> dict[str, str]:
    """Container path -> host file, for the files the service mounts from the repository."""
    return {target.removesuffix(":ro"): source for source, _, target in
            (v.partition(":") for v in SERVICES[service].get("volumes", [])) if source.startswith("./")}


def test_the_replica_is_an_optional_profile_nothing_depends_on():
    replica = SERVICES["postgres-replica"]
    assert replica["profiles"] == ["replica"]
    assert [name for name, s in SERVICES.items() if "profiles" in s] == ["postgres-replica"]
    for name, service in SERVICES.items():
        assert "postgres-replica" not in (service.get("depends_on") or {}), name
    assert replica["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    # physical replication needs the primary's major version
    assert replica["image"] == SERVICES["postgres"]["image"]
    assert "postgres-replica-data" in COMPOSE["volumes"]


def test_the_replica_clones_the_primary_as_the_replication_role_and_streams():
    replica = SERVICES["postgres-replica"]
    entrypoint = replica["entrypoint"][0]
    script_path = ROOT / mounted("postgres-replica")[entrypoint].removeprefix("./")
    assert script_path.stat().st_mode & 0o111, "the entrypoint must be executable"
    script = script_path.read_text()
    assert replica["user"] == "postgres"  # PostgreSQL refuses to run as root
    basebackup = re.search(r"pg_basebackup ([^\n]+\\\n[^\n]+)", script).group(1)
    for flag in ("--host=\"$PRIMARY_HOST\"", "--username=replicator", "--wal-method=stream", "--write-recovery-conf",
                 "--pgdata=\"$PGDATA\""):
        assert flag in basebackup, flag
    assert 'PRIMARY_HOST="${PRIMARY_HOST:-postgres}"' in script
    # cloned once (an empty data directory), then started as a hot standby by the same script
    assert '[ ! -s "$PGDATA/PG_VERSION" ]' in script and "exec postgres" in script and "hot_standby=on" in script
    # PGDATA is a directory pg_basebackup creates (0700), inside the volume
    assert environment("postgres-replica")["PGDATA"].startswith("/var/lib/postgresql/data/")
    # the password reaches libpq through ~/.pgpass, not a command line
    assert "PGPASSWORD" not in script and ".pgpass" in script
    assert "pg_isready" in " ".join(replica["healthcheck"]["test"])


def test_the_primary_accepts_the_replica():
    command = command_line("postgres")
    for setting in ("wal_level=replica", "max_wal_senders=5", "hba_file=/etc/postgresql/pg_hba.conf"):
        assert setting in command, setting
    files = mounted("postgres")
    hba = (ROOT / files["/etc/postgresql/pg_hba.conf"].removeprefix("./")).read_text()
    rules = [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]
    assert ["host", "replication", "replicator", "all", "scram-sha-256"] in rules
    assert ["host", "all", "all", "all", "scram-sha-256"] in rules  # the image's own rule, kept
    init = (ROOT / files["/docker-entrypoint-initdb.d/10-replication.sh"].removeprefix("./")).read_text()
    assert "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'replication_password'" in init
    assert "\\getenv replication_password REPLICATION_PASSWORD" in init
    assert not re.search(r"^\s*exit\b", init, flags=re.M)  # the image may source it: an exit would end its init


def test_the_api_alone_reads_from_the_replica(monkeypatch):
    example = dotenv((ROOT / ".env.example").read_text())
    real = {**example, "ETL_SECRET_KEY": "k" * 44, "ETL_METRICS_TOKEN": "m" * 32, "POSTGRES_PASSWORD": "pg-Xy_12345678",
            "RABBITMQ_PASSWORD": "mq-Xy_12345678"}
    assert settings_of("api", real, monkeypatch).database_read_url is None  # unset: the primary
    url = "postgresql+psycopg2://pulse:pg-Xy_12345678@postgres-replica:5432/pulse"
    assert settings_of("api", {**real, "ETL_DATABASE_READ_URL": url}, monkeypatch).database_read_url == url
    for service in APP_SERVICES:
        if service != "api":
            assert settings_of(service, {**real, "ETL_DATABASE_READ_URL": url}, monkeypatch).database_read_url is None
    assert "ETL_DATABASE_READ_URL=postgresql+psycopg2://" in (ROOT / ".env.example").read_text()
