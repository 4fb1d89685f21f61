# table_rows: one line per table of the database PGDATABASE names, `name|t` when it has rows and
# `name|f` when it is empty. The backup records it beside each dump; the drill and the restore
# compare a restored database with it.
table_rows() {
  psql --no-password --no-psqlrc --quiet --tuples-only --no-align --set=ON_ERROR_STOP=1 <<'SQL'
SELECT format('SELECT %L, EXISTS (SELECT 1 FROM %I.%I)', format('%I.%I', n.nspname, c.relname), n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1
\gexec
SQL
}
