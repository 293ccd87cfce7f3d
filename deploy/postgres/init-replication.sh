#!/bin/sh
# Runs once, when the `postgres` service initializes an empty volume (docker-entrypoint-initdb.d):
# the role the read replica (compose profile `replica`) clones and streams with, allowed by the
# `replication replicator` line of pg_hba.conf. Without REPLICATION_PASSWORD nothing is created;
# README "Read replica" shows the statement for a volume initialized before.
# The image sources this file when it is not executable: no `exit`, no `set` here.
if [ -n "${REPLICATION_PASSWORD:-}" ]; then
    # \getenv keeps the password off psql's command line (ps)
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\getenv replication_password REPLICATION_PASSWORD
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'replication_password';
SQL
else
    echo "init-replication: REPLICATION_PASSWORD is unset, no replicator role (the replica profile needs one)"
fi
