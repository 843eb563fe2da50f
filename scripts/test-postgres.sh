#!/usr/bin/env bash
# A real PostgreSQL server for the store tests: install (Debian), start, create a role and a
# database, and print the URL the tests read from TRIAGE_TEST_DATABASE_URL. Needs root (CI runs
# as root); safe to run again.
set -euo pipefail
# Only the URL goes to stdout (the caller captures it); everything the tools print goes to
# stderr, e.g. pg_ctlcluster's "Removed stale pid file." after an unclean shutdown.
exec 3>&1 1>&2
if ! command -v pg_lsclusters >/dev/null; then
  apt-get install -y -qq postgresql >/dev/null 3>&-
fi
version=$(pg_lsclusters --no-header | awk 'NR==1 {print $1}')
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $2}')
port=$(pg_lsclusters --no-header | awk 'NR==1 {print $3}')
if ! pg_lsclusters --no-header | awk 'NR==1 {print $4}' | grep -q online; then
  # 3>&- so the server does not inherit the pipe the caller reads the URL from (it would wait forever).
  pg_ctlcluster "$version" "$cluster" start 3>&-
fi
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='triage'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE triage LOGIN PASSWORD 'triage'\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='triage_test'\"" | grep -q 1 ||
  su postgres -c "psql -qc 'CREATE DATABASE triage_test OWNER triage'"
echo "postgresql+psycopg://triage:triage@127.0.0.1:${port}/triage_test" >&3
