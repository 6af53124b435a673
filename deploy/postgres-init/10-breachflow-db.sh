#!/bin/sh
# Runs once, when the PostgreSQL volume is initialised (docker-entrypoint-initdb.d).
# Temporal's two databases (temporal, temporal_visibility) are created by
# temporalio/auto-setup; this creates breachflow's own role and database.
set -eu
: "${BREACHFLOW_DB_PASSWORD:?set BREACHFLOW_DB_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v bf_password="$BREACHFLOW_DB_PASSWORD" <<'SQL'
CREATE ROLE breachflow LOGIN PASSWORD :'bf_password';
CREATE DATABASE breachflow OWNER breachflow;
REVOKE ALL ON DATABASE breachflow FROM PUBLIC;
SQL
