#!/bin/sh
# The `postgres-replica` service (docker compose --profile replica): a hot standby of `postgres`.
# First start: clone the primary with pg_basebackup as `replicator`; --write-recovery-conf leaves
# standby.signal and primary_conninfo in the clone, so it starts as a standby streaming from the
# primary. Later starts: the clone is there and resumes streaming where it stopped. A replica that
# fell further behind than the primary's wal_keep_size cannot catch up: remove its volume
# (docker compose rm -sf postgres-replica && docker volume rm pulse-etl_postgres-replica-data) and
# start it again to re-clone.
set -eu
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD in .env: the replica logs in to the primary with it}"
PRIMARY_HOST="${PRIMARY_HOST:-postgres}"

# The password for pg_basebackup and, later, the standby's own WAL receiver: in ~/.pgpass (outside
# the volume, rewritten at every start), never on a command line.
umask 077
printf '%s:5432:replication:replicator:%s\n' "$PRIMARY_HOST" "$REPLICATION_PASSWORD" > "$HOME/.pgpass"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    rm -rf "$PGDATA"  # a clone interrupted halfway starts over
    echo "postgres-replica: cloning $PRIMARY_HOST into $PGDATA"
    pg_basebackup --host="$PRIMARY_HOST" --port=5432 --username=replicator --no-password \
        --pgdata="$PGDATA" --wal-method=stream --write-recovery-conf --checkpoint=fast
fi
# hot_standby: answer read-only queries while replaying. hot_standby_feedback: the primary keeps
# the rows a long read here still needs, so replay does not cancel the API's queries.
exec postgres -D "$PGDATA" -c hot_standby=on -c hot_standby_feedback=on -c max_standby_streaming_delay=30s
