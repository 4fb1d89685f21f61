# pgstate roles: the superuser's and the app role's passwords from the mounted Secret files, and
# the app role's rights. Sourced by the image's entrypoint on the first start (from
# {{ paths.initdb_dir }}) and by the container's start step on every later start, each time
# against a server that listens on its socket only. A password is read by the server itself
# (pg_read_file) inside a DO block: it is never an argument, a variable or a logged statement.
# Reads POSTGRES_USER POSTGRES_DB PGPORT PGSTATE_PASSWORD_FILE (the entrypoint unsets
# POSTGRES_PASSWORD_FILE once read), and PGSTATE_APP_ROLE PGSTATE_APP_PASSWORD_FILE when the app
# has its own role.
pgstate_app_password_file=
if [ -n "${PGSTATE_APP_ROLE:-}" ]; then
  if [ -r "$PGSTATE_APP_PASSWORD_FILE" ]; then
    pgstate_app_password_file=$PGSTATE_APP_PASSWORD_FILE
  else
    printf 'pgstate-roles: WARNING: no %s (key app-password of the credentials Secret): the password of role %s is left as it is\n' \
      "$PGSTATE_APP_PASSWORD_FILE" "$PGSTATE_APP_ROLE" >&2
  fi
fi
PGHOST={{ paths.socket_dir }} PGUSER="$POSTGRES_USER" PGDATABASE="$POSTGRES_DB" psql --no-psqlrc --no-password \
  --quiet --set=ON_ERROR_STOP=1 --set=superuser_password_file="$PGSTATE_PASSWORD_FILE" \
  --set=app_role="${PGSTATE_APP_ROLE:-}" --set=app_password_file="$pgstate_app_password_file" <<'SQL'
-- Nothing below may reach the server log with a password in it.
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
SELECT set_config('pgstate.superuser_password_file', :'superuser_password_file', false),
       set_config('pgstate.app_role', :'app_role', false),
       set_config('pgstate.app_password_file', :'app_password_file', false) \g /dev/null
DO $pgstate$
DECLARE
  -- The image reads POSTGRES_PASSWORD_FILE with $(< file): trailing line breaks dropped.
  superuser_password text := rtrim(pg_read_file(current_setting('pgstate.superuser_password_file')), E'\n');
  app_role text := current_setting('pgstate.app_role');
  app_password_file text := current_setting('pgstate.app_password_file');
  app_password text;
  object record;
BEGIN
  IF superuser_password = '' THEN
    RAISE EXCEPTION 'the superuser password file is empty';
  END IF;
  EXECUTE format('ALTER ROLE %I PASSWORD %L', current_user, superuser_password);
  IF app_role = '' THEN
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app_role) THEN
    EXECUTE format('CREATE ROLE %I', app_role);
  END IF;
  EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', app_role);
  IF app_password_file <> '' THEN
    app_password := rtrim(pg_read_file(app_password_file), E'\n');
    IF app_password = '' THEN
      RAISE EXCEPTION 'the app role''s password file is empty';
    END IF;
    EXECUTE format('ALTER ROLE %I PASSWORD %L', app_role, app_password);
  END IF;
  EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), app_role);
  -- A database the app used as the superuser: its schemas, tables, sequences, views and
  -- functions pass to the app role (not the system's, not an extension's).
  FOR object IN
    SELECT 'SCHEMA' AS kind, format('%I', n.nspname) AS name FROM pg_namespace n
     WHERE n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
       AND n.nspname NOT IN ('public', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
    UNION ALL
    SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                          WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, format('%I.%I', n.nspname, c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
       AND n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\_%'
       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, p.oid::regprocedure::text
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
       AND n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\_%'
       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I', object.kind, object.name, app_role);
  END LOOP;
END
$pgstate$;
SQL
