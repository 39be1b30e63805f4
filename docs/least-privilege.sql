-- Least-privilege Postgres roles for Execution Replay (README, Security).
--
-- Two roles:
--   owner_role  owns the schemas and every table: `npm run migrate` runs as it (node-pg-migrate for
--               DATABASE_SCHEMA, then pg-boss's own schema PGBOSS_SCHEMA). Nothing else uses it.
--   app_role    the api and the worker (the DATABASE_URL of `npm run api` and `npm run worker`): USAGE
--               on the two schemas and only the rights on the tables they use. It cannot create,
--               alter, drop or truncate anything, nor delete records.
--
-- Run with psql (10 or later), names and passwords given as variables:
--
--   1. once, as an administrator (a role with CREATEROLE that may grant on the database):
--      psql "$ADMIN_URL" -v setup=1 -v database=replay -v owner_role=replay_owner \
--           -v owner_password="$OWNER_PASSWORD" -v app_role=replay_app -v app_password="$APP_PASSWORD" \
--           -v app_schema=replay -v queue_schema=pgboss -f docs/least-privilege.sql
--   2. DATABASE_URL=<owner's URL> DATABASE_SCHEMA=replay PGBOSS_SCHEMA=pgboss npm run migrate
--   3. after EVERY `npm run migrate`, as owner_role (idempotent: a pg-boss upgrade recreates its
--      functions, and new tables need their grants):
--      psql "$OWNER_URL" -v owner_role=replay_owner -v app_role=replay_app \
--           -v app_schema=replay -v queue_schema=pgboss -f docs/least-privilege.sql
--
-- The api and the worker then run with DATABASE_URL=postgres://replay_app:...@host/replay,
-- DATABASE_SCHEMA=replay, PGBOSS_SCHEMA=pgboss (or DATABASE_URL_FILE). DATABASE_SCHEMA should be a
-- schema of its own, not `public`, so that nothing else in the database is visible to app_role.
-- test/security.test.ts runs both parts and a replay as app_role.

\if :{?setup}
-- ==== part 1: as an administrator, once ====

CREATE ROLE :"owner_role" LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE :"app_role" LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;

-- the owner creates the schemas if absent (node-pg-migrate and pg-boss run CREATE SCHEMA IF NOT
-- EXISTS, which asks for CREATE on the database even when the schema exists)
GRANT CONNECT, CREATE ON DATABASE :"database" TO :"owner_role";
GRANT CONNECT ON DATABASE :"database" TO :"app_role";

CREATE SCHEMA IF NOT EXISTS :"app_schema" AUTHORIZATION :"owner_role";
CREATE SCHEMA IF NOT EXISTS :"queue_schema" AUTHORIZATION :"owner_role";
REVOKE ALL ON SCHEMA :"app_schema" FROM PUBLIC;
REVOKE ALL ON SCHEMA :"queue_schema" FROM PUBLIC;

\else
-- ==== part 2: as owner_role, after every `npm run migrate` ====

-- the service's tables (adapters/migrations): configs are written once, executions and their routes
-- updated (status, progress, cursor; SELECT ... FOR UPDATE needs UPDATE too), Idempotency-Keys
-- released when a replay could not start, replay previews counted (and deleted when their job could
-- not start). No
-- DELETE on the records, no TRUNCATE, no DDL. A migration that adds a table adds its grant here
-- (test/security.test.ts runs a replay as app_role and fails otherwise).
GRANT USAGE ON SCHEMA :"app_schema" TO :"app_role";
GRANT SELECT, INSERT ON :"app_schema".pipeline_configs TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON :"app_schema".executions TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON :"app_schema".execution_routes TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON :"app_schema".bulk_replays TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON :"app_schema".bulk_replay_items TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON :"app_schema".rate_buckets TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON :"app_schema".replay_partitions TO :"app_role";
GRANT SELECT, INSERT, DELETE ON :"app_schema".idempotency_keys TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON :"app_schema".replay_previews TO :"app_role";
-- (schema_migrations stays the owner's)

-- the route queue (pg-boss): jobs are inserted by the api (init messages) and the worker (replay
-- messages), fetched, completed and archived by the route consumers; pg-boss's maintenance deletes.
GRANT USAGE ON SCHEMA :"queue_schema" TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"queue_schema" TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"queue_schema" TO :"app_role";
-- the queue of a route is a partition of the job table that pg-boss creates the first time the route
-- is used (`create_queue`, called by the api and the worker). CREATE TABLE and ATTACH PARTITION need
-- the owner: the function runs as its owner (SECURITY DEFINER, with a safe search_path; it only
-- creates a queue by name), and the partitions it creates get the grants above by default.
ALTER FUNCTION :"queue_schema".create_queue(text, json) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION :"queue_schema".create_queue(text, json) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION :"queue_schema".create_queue(text, json) TO :"app_role";
REVOKE ALL ON FUNCTION :"queue_schema".delete_queue(text) FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA :"queue_schema"
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
\endif
