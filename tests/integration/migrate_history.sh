#!/usr/bin/env bash
# A real project's migration history, end to end: 105 golang-migrate
# migrations shaped like a CI platform's five years of schema changes (a
# baseline of twenty create-table migrations without downs, versions shared
# by two migrations, SQLite's 12-step table rebuilds, index additions and
# removals, default changes, nullable columns added and dropped, the
# execution_tasks.ai_model add/drop pair, one irreversible backfill),
# generated below. Release A has the first 60, release B all of them; C is
# B on a branch without the irreversible backfill. On SQLite (and on
# PostgreSQL with RIPCORD_TEST_PG, with per-driver SQL where the two differ):
# up A, data, up B; down to A is refused at the irreversible migration and
# changes nothing; up C and down to A gives A's exact schema and data back;
# below the baseline is refused; a changed migration needs ack; lint names
# file:line: rule; a dirty level (driver = command, and on PostgreSQL a
# CREATE INDEX CONCURRENTLY migration that fails halfway) blocks everything
# until it is marked. Around that history: a migration failing on its second
# statement rolls back whole and names line 2; a damaged unrelated artifact
# does not block the way down; on SQLite a rebuild in its own BEGIN/COMMIT
# after another migration still has foreign keys off; on PostgreSQL the word
# "concurrently" in a string does not cost a migration its transaction.
. "$(dirname "$0")/lib.sh"

# gen.py DRIVER DIR: writes the migrations of release A into DIR/A, of B
# into DIR/B, of C (B without the irreversible backfill) into DIR/C and of
# F (A plus two, one a rebuild in its own BEGIN/COMMIT) into DIR/F; prints
# "<count in A> <count in B>".
cat > "$WORK/gen.py" <<'PY'
import copy, os, sys

driver, outdir = sys.argv[1], sys.argv[2]
pg = driver == "postgres"

# ---- the schema as it stands after each migration ----
tables, indexes, migs = {}, {}, []

def col(spec):
    w = spec.split()
    c = {"name": w[0], "type": "INTEGER", "pk": False, "nn": False,
         "default": None, "ref": None}
    for x in w[1:]:
        if x == "pk": c["pk"] = True
        elif x == "int": c["type"] = "INTEGER"
        elif x == "text": c["type"] = "TEXT"
        elif x == "nn": c["nn"] = True
        elif x.startswith("="): c["default"] = x[1:]
        elif x.startswith(">"): c["ref"] = x[1:]
    return c

def coldef(c):
    s = c["name"] + " " + c["type"]
    if c["pk"]: s += " PRIMARY KEY"
    if c["nn"]: s += " NOT NULL"
    if c["default"] is not None: s += " DEFAULT " + c["default"]
    if c["ref"]: s += " REFERENCES " + c["ref"] + " (id)"
    return s

def body(t):
    return ", ".join([coldef(c) for c in tables[t]["cols"]] +
                     ["CONSTRAINT %s CHECK (%s)" % k for k in tables[t]["checks"]])

def index_sql(name):
    t, cols, uniq = indexes[name]
    return "CREATE %sINDEX %s ON %s (%s);" % ("UNIQUE " if uniq else "", name, t, cols)

def add(version, name, up, down):
    migs.append((version, name, up, down))

def create_table(version, t, cols, idx=(), down=True):
    tables[t] = {"cols": [col(c) for c in cols], "checks": []}
    for c in tables[t]["cols"]:
        assert not c["ref"] or c["ref"] in tables, (t, c)
    up = ["CREATE TABLE %s (\n  %s\n);" % (t, ",\n  ".join(
        coldef(c) for c in tables[t]["cols"]))]
    for name, cols_, uniq in idx:
        indexes[name] = (t, cols_, uniq)
        up.append(index_sql(name))
    add(version, "create_table_" + t, "\n".join(up) + "\n",
        "DROP TABLE %s;\n" % t if down else None)

def add_column(version, t, spec, name=None):
    c = col(spec)
    tables[t]["cols"].append(c)
    add(version, name or "add_column_%s_%s" % (t, c["name"]),
        "ALTER TABLE %s ADD COLUMN %s;\n" % (t, coldef(c)),
        "ALTER TABLE %s DROP COLUMN %s;\n" % (t, c["name"]))

def drop_column(version, t, cname):
    c = [x for x in tables[t]["cols"] if x["name"] == cname][0]
    tables[t]["cols"].remove(c)
    add(version, "drop_column_%s_%s" % (t, cname),
        "ALTER TABLE %s DROP COLUMN %s;\n" % (t, cname),
        "ALTER TABLE %s ADD COLUMN %s;\n" % (t, coldef(c)))

def add_index(version, name, t, cols, uniq=False, concurrently=False):
    indexes[name] = (t, cols, uniq)
    cc = "CONCURRENTLY " if concurrently and pg else ""
    add(version, ("add_index_concurrently_" if concurrently else "add_index_") + name,
        index_sql(name).replace("INDEX ", "INDEX " + cc, 1) + "\n",
        "DROP INDEX %s%s;\n" % (cc, name))

def drop_index(version, name):
    sql = index_sql(name)
    del indexes[name]
    add(version, "drop_index_" + name, "DROP INDEX %s;\n" % name, sql + "\n")

def rebuild(t, why):
    """SQLite's 12-step table rebuild, as SQLite's documentation gives it."""
    cols = ", ".join(c["name"] for c in tables[t]["cols"])
    return "\n".join(["-- %s: SQLite cannot do that in place, so the table is rebuilt" % why,
        "CREATE TABLE new_%s (%s);" % (t, body(t)),
        "INSERT INTO new_%s (%s) SELECT %s FROM %s;" % (t, cols, cols, t),
        "DROP TABLE %s;" % t,
        "ALTER TABLE new_%s RENAME TO %s;" % (t, t)] +
        [index_sql(n) for n in sorted(indexes) if indexes[n][0] == t]) + "\n"

def set_default(version, t, cname, value):
    c = [x for x in tables[t]["cols"] if x["name"] == cname][0]
    old = c["default"]
    name = "set_default_%s_%s" % (t, cname)
    if pg:
        c["default"] = value
        add(version, name,
            "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n" % (t, cname, value),
            "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n" % (t, cname, old))
        return
    down = rebuild(t, "default of %s.%s back to %s" % (t, cname, old))
    c["default"] = value
    add(version, name, rebuild(t, "default of %s.%s to %s" % (t, cname, value)), down)

def add_check(version, t, cname, expr):
    name = "add_check_" + cname
    if pg:
        tables[t]["checks"].append((cname, expr))
        add(version, name,
            "ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s);\n" % (t, cname, expr),
            "ALTER TABLE %s DROP CONSTRAINT %s;\n" % (t, cname))
        return
    down = rebuild(t, "without check %s" % cname)
    tables[t]["checks"].append((cname, expr))
    add(version, name, rebuild(t, "check %s" % cname), down)

# ---- the baseline: twenty tables, two per version, no downs ----
B = [
 ("0001", "accounts", ["id pk", "name text nn", "created_at text nn ='2026-01-01'"], []),
 ("0001", "users", ["id pk", "account_id int nn >accounts", "email text nn",
   "role text nn ='member'"], [("users_email", "email", True)]),
 ("0002", "projects", ["id pk", "account_id int nn >accounts", "name text nn",
   "visibility text nn ='private'"], [("projects_account_id", "account_id", False)]),
 ("0002", "repositories", ["id pk", "project_id int nn >projects", "url text nn",
   "default_branch text nn ='master'"], [("repositories_project_id", "project_id", False)]),
 ("0003", "pipelines", ["id pk", "project_id int nn >projects", "name text nn", "config text"], []),
 ("0003", "runners", ["id pk", "name text nn", "max_jobs int nn =1"], []),
 ("0004", "pipeline_runs", ["id pk", "pipeline_id int nn >pipelines",
   "status text nn ='queued'", "started_at text"],
  [("pipeline_runs_pipeline_id", "pipeline_id", False)]),
 ("0004", "runner_labels", ["id pk", "runner_id int nn >runners", "label text nn"], []),
 ("0005", "execution_tasks", ["id pk", "run_id int nn >pipeline_runs", "runner_id int >runners",
   "name text nn", "max_attempts int nn =1"], [("execution_tasks_run_id", "run_id", False)]),
 ("0005", "secrets", ["id pk", "project_id int nn >projects", "name text nn", "value_enc text nn"], []),
 ("0006", "artifacts", ["id pk", "task_id int nn >execution_tasks", "path text nn",
   "size_bytes int nn =0"], []),
 ("0006", "task_logs", ["id pk", "task_id int nn >execution_tasks", "line text nn",
   "created_at text"], [("task_logs_task_id", "task_id", False)]),
 ("0007", "api_tokens", ["id pk", "user_id int nn >users", "token_hash text nn"],
  [("api_tokens_token_hash", "token_hash", True)]),
 ("0007", "audit_events", ["id pk", "account_id int nn >accounts", "action text nn",
   "created_at text"], []),
 ("0008", "schedules", ["id pk", "pipeline_id int nn >pipelines", "cron text nn",
   "next_run_at text"], []),
 ("0008", "webhooks", ["id pk", "project_id int nn >projects", "url text nn",
   "events text nn ='push'"], []),
 ("0009", "notifications", ["id pk", "user_id int nn >users", "body text nn"], []),
 ("0009", "webhook_deliveries", ["id pk", "webhook_id int nn >webhooks",
   "status text nn ='pending'", "attempts int nn =0"], []),
 ("0010", "billing_plans", ["id pk", "name text nn", "price_cents int nn =0"], []),
 ("0010", "invoices", ["id pk", "account_id int nn >accounts", "plan_id int >billing_plans",
   "amount_cents int nn", "status text nn ='open'"], [("invoices_status", "status", False)]),
]
for v, t, cols, idx in B:
    create_table(v, t, cols, idx, down=False)

# ---- release A: everything up to 0040 ----
add_column("0011", "users", "last_login_at text")
add_index("0011", "users_account_id", "users", "account_id")
add_column("0012", "execution_tasks", "ai_model text")
add_index("0012", "pipeline_runs_status", "pipeline_runs", "status")
set_default("0013", "repositories", "default_branch", "'main'")
add_column("0014", "pipelines", "timeout_seconds int")
add_column("0014", "projects", "archived_at text")
create_table("0015", "environments", ["id pk", "project_id int nn >projects", "name text nn"],
             [("environments_project_id", "project_id", False)])
add_index("0016", "execution_tasks_runner_id", "execution_tasks", "runner_id")
add_index("0016", "users_account_email", "users", "account_id, email", True)
add_column("0017", "runners", "last_seen_at text")
drop_index("0017", "users_email")
set_default("0018", "projects", "visibility", "'internal'")
create_table("0019", "deployments", ["id pk", "environment_id int nn >environments",
             "run_id int >pipeline_runs", "status text nn ='pending'"],
             [("deployments_environment_id", "environment_id", False)])
add_column("0020", "pipeline_runs", "commit_sha text")
add_index("0020", "pipeline_runs_commit_sha", "pipeline_runs", "commit_sha")
add_check("0021", "invoices", "invoices_amount_nonnegative", "amount_cents >= 0")
add_column("0022", "accounts", "billing_email text")
add_index("0023", "task_logs_task_created", "task_logs", "task_id, created_at")
drop_index("0023", "task_logs_task_id")
add_column("0024", "webhooks", "secret_hint text")
set_default("0025", "execution_tasks", "max_attempts", "3")
add_column("0026", "schedules", "timezone text ='UTC'")
create_table("0027", "feature_flags", ["id pk", "key text nn", "enabled int nn =0"],
             [("feature_flags_key", "key", True)])
add_index("0028", "audit_events_created_at", "audit_events", "created_at")
add_column("0029", "notifications", "read_at text")
add_column("0030", "api_tokens", "last_used_at text")
add_index("0030", "api_tokens_user_id", "api_tokens", "user_id")
set_default("0031", "runners", "max_jobs", "2")
add_column("0032", "deployments", "finished_at text")
add_index("0033", "webhook_deliveries_status", "webhook_deliveries", "status")
add_column("0034", "artifacts", "expires_at text")
drop_index("0034", "invoices_status")
add_column("0035", "secrets", "rotated_at text")
add_index("0036", "secrets_project_name", "secrets", "project_id, name", True)
add_column("0037", "users", "locale text")
add_index("0038", "schedules_next_run_at", "schedules", "next_run_at")
create_table("0039", "runner_heartbeats", ["id pk", "runner_id int nn >runners", "seen_at text nn"],
             [("runner_heartbeats_runner_id", "runner_id", False)])
add_column("0040", "pipelines", "concurrency_group text")
add_index("0040", "pipelines_concurrency_group", "pipelines", "concurrency_group")
n_a = len(migs)

# ---- release F: A plus an index and a rebuild of the parent table
# projects that brings its own BEGIN/COMMIT, as sqitch's templates do ----
saved = copy.deepcopy((tables, indexes, migs))
add_index("0041", "projects_name", "projects", "name")
set_default("0042", "projects", "visibility", "'public'")
f_migs = [(v, n, "BEGIN;\n%sCOMMIT;\n" % up if v == "0042" else up,
           "BEGIN;\n%sCOMMIT;\n" % down if v == "0042" else down)
          for v, n, up, down in migs]
tables, indexes, migs = saved

# ---- release B: 0041 to 0080 ----
add_column("0041", "pipeline_runs", "trigger_kind text")
add_index("0041", "pipeline_runs_trigger_kind", "pipeline_runs", "trigger_kind")
set_default("0042", "webhook_deliveries", "attempts", "1")
add_index("0043", "task_logs_created_at", "task_logs", "created_at", concurrently=True)
create_table("0044", "approvals", ["id pk", "deployment_id int nn >deployments",
             "user_id int nn >users", "decision text"],
             [("approvals_deployment_id", "deployment_id", False)])
add_column("0045", "execution_tasks", "tokens_used int")
add("0046", "backfill_pipeline_runs_trigger_kind",
    "-- ripcord:irreversible\n-- runs from before 0041 were all started by a push; which ones\n"
    "-- had no trigger_kind is not kept, so this cannot be undone\n"
    "UPDATE pipeline_runs SET trigger_kind = 'push' WHERE trigger_kind IS NULL;\n", None)
drop_column("0047", "execution_tasks", "ai_model")
add_check("0048", "deployments", "deployments_status_known",
          "status IN ('pending', 'running', 'done', 'failed')")
add_index("0049", "pipeline_runs_pipeline_status", "pipeline_runs", "pipeline_id, status")
drop_index("0049", "pipeline_runs_status")
add_column("0050", "accounts", "suspended_at text")
add("0051", "create_view_active_runners",
    "CREATE VIEW active_runners AS SELECT id, name, last_seen_at FROM runners"
    " WHERE last_seen_at IS NOT NULL;\n", "DROP VIEW active_runners;\n")
add_column("0052", "runners", "os text")
add_index("0052", "runners_os", "runners", "os")
set_default("0053", "users", "role", "'viewer'")
add_column("0054", "invoices", "paid_at text")
add_index("0055", "invoices_paid_at", "invoices", "paid_at")
create_table("0056", "cache_entries", ["id pk", "project_id int nn >projects", "key text nn",
             "size_bytes int nn =0"], [("cache_entries_project_key", "project_id, key", True)])
add_column("0057", "projects", "description text")
add_column("0058", "repositories", "mirror_url text")
add_index("0059", "artifacts_expires_at", "artifacts", "expires_at")
add_column("0060", "environments", "protected int =0")
add_column("0061", "schedules", "paused_at text")
add_index("0062", "notifications_user_read", "notifications", "user_id, read_at")
set_default("0063", "schedules", "timezone", "'Etc/UTC'")
add_column("0064", "feature_flags", "rollout_percent int")
create_table("0065", "secret_versions", ["id pk", "secret_id int nn >secrets",
             "value_enc text nn", "created_at text"], [("secret_versions_secret_id", "secret_id", False)])
add_column("0066", "deployments", "rollback_of int")
add_index("0067", "deployments_status", "deployments", "status")
add_column("0068", "pipeline_runs", "duration_ms int")
add_column("0069", "task_logs", "stream text")
add_index("0070", "audit_events_account_created", "audit_events", "account_id, created_at")
drop_index("0070", "audit_events_created_at")
add_column("0071", "webhook_deliveries", "response_code int")
add_column("0072", "runner_labels", "created_at text")
add_index("0072", "runner_labels_label", "runner_labels", "label")
set_default("0073", "webhooks", "events", "'push,tag'")
add_column("0074", "billing_plans", "max_runners int")
add_check("0075", "billing_plans", "billing_plans_price_nonnegative", "price_cents >= 0")
add_column("0076", "artifacts", "content_type text")
add_index("0077", "runner_heartbeats_seen_at", "runner_heartbeats", "seen_at")
add_column("0078", "approvals", "decided_at text")
add_column("0079", "users", "avatar_url text")
add_index("0080", "execution_tasks_name", "execution_tasks", "name")

# written in golang-migrate's apply order (numeric version, then name), so
# the model above is the schema each migration really meets
assert migs == sorted(migs, key=lambda m: (int(m[0]), m[1])), "out of order"
def write(stage, todo):
    os.makedirs(os.path.join(outdir, stage))
    for v, name, up, down in todo:
        base = os.path.join(outdir, stage, "%s_%s" % (v, name))
        with open(base + ".up.sql", "w") as f:
            f.write(up)
        if down:
            with open(base + ".down.sql", "w") as f:
                f.write(down)

write("A", migs[:n_a])
write("B", migs)
write("C", [m for m in migs if m[1] != "backfill_pipeline_runs_trigger_kind"])
write("F", f_migs)
print(n_a, len(migs))
PY

# ---- the databases under test ----
# pg_url NAME: RIPCORD_TEST_PG pointed at database NAME
pg_url() { printf '%s' "$RIPCORD_TEST_PG" | sed "s/dbname=[^ ]*/dbname=$1/"; }
PGBASE=ripcord_hist_$$
pg_drop() {
  for d in app variant; do
    psql "$RIPCORD_TEST_PG" -Xqc "DROP DATABASE IF EXISTS ${PGBASE}_$d" >/dev/null 2>&1
  done
}
[ -n "${RIPCORD_TEST_PG:-}" ] && trap 'pg_drop; rm -rf "$WORK"' EXIT

# q DB SQL: run SQL in database DB (app or variant) of the run
q() {
  if [ "$DRIVER" = sqlite ]; then sqlite3 -bail "$REPO/var/$1.db" "$2"
  else psql "$(pg_url "${PGBASE}_$1")" -XAtq -v ON_ERROR_STOP=1 -c "$2"; fi
}
has_column() { # DB TABLE COLUMN: 1 or 0
  if [ "$DRIVER" = sqlite ]; then q "$1" "SELECT count(*) FROM pragma_table_info('$2') WHERE name = '$3'"
  else q "$1" "SELECT count(*) FROM information_schema.columns WHERE table_name = '$2' AND column_name = '$3'"; fi
}

# The project's data, written at release A (only columns A has).
DATA="INSERT INTO accounts (id, name) VALUES (1, 'acme'), (2, 'globex');
INSERT INTO billing_plans (id, name, price_cents) VALUES (1, 'team', 2900);
INSERT INTO users (id, account_id, email, last_login_at) VALUES (1, 1, 'ana@acme.test', '2026-01-02'), (2, 1, 'bo@acme.test', NULL), (3, 2, 'cy@globex.test', NULL);
INSERT INTO projects (id, account_id, name) VALUES (1, 1, 'shop'), (2, 2, 'api');
INSERT INTO repositories (id, project_id, url) VALUES (1, 1, 'https://git.example/acme/shop.git');
INSERT INTO pipelines (id, project_id, name, config) VALUES (1, 1, 'ci', 'stages: [build, test]');
INSERT INTO runners (id, name, last_seen_at) VALUES (1, 'runner-1', '2026-01-02T03:04:05Z'), (2, 'runner-2', NULL);
INSERT INTO pipeline_runs (id, pipeline_id, status, commit_sha) VALUES (1, 1, 'success', '1a2b3c'), (2, 1, 'failed', '4d5e6f'), (3, 1, 'queued', NULL);
INSERT INTO execution_tasks (id, run_id, runner_id, name, ai_model) VALUES (1, 1, 1, 'build', 'gpt-4o'), (2, 1, 1, 'test', NULL), (3, 2, 2, 'build', 'claude');
INSERT INTO task_logs (id, task_id, line, created_at) VALUES (1, 1, 'compiling', '2026-01-02'), (2, 3, 'error: exit 1', '2026-01-02');
INSERT INTO artifacts (id, task_id, path) VALUES (1, 1, 'dist/shop.tar.gz');
INSERT INTO environments (id, project_id, name) VALUES (1, 1, 'production');
INSERT INTO deployments (id, environment_id, run_id, status) VALUES (1, 1, 1, 'done');
INSERT INTO invoices (id, account_id, plan_id, amount_cents) VALUES (1, 1, 1, 2900);
INSERT INTO webhooks (id, project_id, url) VALUES (1, 1, 'https://hooks.example/ci');
INSERT INTO webhook_deliveries (id, webhook_id) VALUES (1, 1);
INSERT INTO api_tokens (id, user_id, token_hash) VALUES (1, 1, 'sha256:abc');
INSERT INTO secrets (id, project_id, name, value_enc) VALUES (1, 1, 'DEPLOY_KEY', 'enc:xyz');
INSERT INTO feature_flags (id, key, enabled) VALUES (1, 'new-ui', 1);"
# Written after B or C, into what A did not have.
LATER="UPDATE pipeline_runs SET trigger_kind = 'tag', duration_ms = 1200 WHERE id = 1;
UPDATE execution_tasks SET tokens_used = 5120 WHERE id = 1;
UPDATE runners SET os = 'linux';
UPDATE invoices SET paid_at = '2026-01-05';
UPDATE users SET avatar_url = 'https://img.example/ana.png' WHERE id = 1;
INSERT INTO approvals (id, deployment_id, user_id, decision) VALUES (1, 1, 1, 'approve');
INSERT INTO cache_entries (id, project_id, key) VALUES (1, 1, 'go-mod');"
TABLES="accounts billing_plans users projects repositories pipelines runners pipeline_runs
  task_logs artifacts environments deployments invoices webhooks webhook_deliveries api_tokens
  secrets feature_flags"
# dump DB: every row of the tables release A has, in the columns that survive
dump() {
  local t sql=""
  for t in $TABLES; do sql+="SELECT '$t:'; SELECT * FROM $t ORDER BY id;"$'\n'; done
  sql+="SELECT 'execution_tasks:'; SELECT id, run_id, runner_id, name, max_attempts FROM execution_tasks ORDER BY id;"
  if [ "$DRIVER" = sqlite ]; then sqlite3 -bail "$REPO/var/$1.db" <<<"$sql"
  else psql "$(pg_url "${PGBASE}_$1")" -XAtq -v ON_ERROR_STOP=1 -f - <<<"$sql"; fi
}

# ra/rv/rx ARGS: ripcord with the app, the variant or the command config
ra() { "$RIPCORD" -c "$REPO/ripcord.ini" "$@"; }
rv() { "$RIPCORD" -c "$REPO/var/variant.ini" "$@"; }
rx() { "$RIPCORD" -c "$REPO/var/command.ini" "$@"; }
# schema CMD...: the digest line of `migrate status --schema`
# ("fingerprint <sha256>")
schema() { "$@" 2>/dev/null | grep -m1 -E '^fingerprint [0-9a-f]{64}$' | cut -d' ' -f2; }
# same A B: A is not empty and B equals it
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }
# schema_is DIGEST CMD...: CMD prints that digest (and neither is empty)
schema_is() { local want=$1 got; shift; got=$(schema "$@"); [ -n "$want" ] && [ "$got" = "$want" ]; }
# summary CMD...: the count line of `migrate status`
summary() { "$@" 2>/dev/null | grep 'applied, .* pending, '; }
ups() { grep -c '^ok   up ' "$WORK/last.out"; }
downs() { grep -c '^ok   down ' "$WORK/last.out"; }

# commit MESSAGE: everything, as the project's next commit
commit() { git add -A && git commit -qm "$1"; }

setup_repo() {
  local conf_app conf_var
  REPO=$WORK/ci-$DRIVER
  mkdir -p "$REPO/var" "$REPO/db/migrations" "$REPO/cmd/server" && cd "$REPO" && git init -q .
  if [ "$DRIVER" = postgres ]; then
    pg_drop
    for d in app variant; do
      psql "$RIPCORD_TEST_PG" -Xqc "CREATE DATABASE ${PGBASE}_$d" >/dev/null
    done
    conf_app="database = $(pg_url "${PGBASE}_app")"
    conf_var="database = $(pg_url "${PGBASE}_variant")"
  else
    conf_app="database = var/app.db"
    conf_var="database = variant.db"   # relative to var/, the config's folder
  fi
  printf '[project]\nname = ci\n[migrations]\ndir = db/migrations\nformat = auto\ndriver = %s\n%s\nbaseline = 0010\n' \
    "$DRIVER" "$conf_app" > ripcord.ini
  printf '[project]\nname = ci\nstore = ../.ripcord\n[migrations]\ndir = db/migrations\ndriver = %s\n%s\nbaseline = 0010\n' \
    "$DRIVER" "$conf_var" > var/variant.ini
  printf 'var/\n.ripcord/\n' > .gitignore
  printf 'package main\n\nfunc main() {}\n' > cmd/server/main.go
  : > db/migrations/.keep
  commit "skeleton"
}

# Cuts v0 (no migrations), A (60), B (105), C (B on a branch without the
# irreversible backfill), D (A plus two migrations, the first of which
# fails: through apply.sh on SQLite, halfway outside a transaction on
# PostgreSQL), G (A plus a migration that fails on its second statement),
# and E (PostgreSQL: A plus a migration that fails inside its transaction)
# or F (SQLite: A plus a rebuild in its own BEGIN/COMMIT).
cut_history() {
  local t=$DRIVER main a
  expect_exit 0 "$t: cut v0, the skeleton without migrations" ra cut --id v0
  read -r N_A N_B < <(python3 "$WORK/gen.py" "$DRIVER" "$WORK/gen-$DRIVER")
  cp "$WORK/gen-$DRIVER"/A/* db/migrations/
  commit "schema up to 0040"
  a=$(git rev-parse HEAD)
  expect_exit 0 "$t: cut A" ra cut --id A
  err_has "$t: A: auto-detected golang-migrate, $N_A migrations" "golang-migrate layout, $N_A migrations"
  cp "$WORK/gen-$DRIVER"/B/* db/migrations/
  commit "schema up to 0080"
  expect_exit 0 "$t: cut B" ra cut --id B
  err_has "$t: B: $N_B migrations" "golang-migrate layout, $N_B migrations"
  err_has "$t: cut warns about the ai_model drop as file:line: rule" \
    "warning: db/migrations/0047_drop_column_execution_tasks_ai_model.up.sql:1: drop-column:"
  check "$t: B's MANIFEST keeps two migrations of one version in name order" \
    sh -c "tar --zstd -xOf .ripcord/artifacts/B.tar.zst ripcord/MANIFEST | tr -d ' \n' | grep -q '0001_create_table_accounts,0001_create_table_users,0002_create_table_projects'"
  check "$t: B carries the irreversible migration's up, and no down" sh -c \
    "l=\$(tar --zstd -tf .ripcord/artifacts/B.tar.zst) && echo \"\$l\" | grep -q 0046_backfill_pipeline_runs_trigger_kind.up.sql && ! echo \"\$l\" | grep -q 0046_backfill_pipeline_runs_trigger_kind.down"
  main=$(git symbolic-ref --short HEAD)

  git checkout -q -b variant "$a"
  cp "$WORK/gen-$DRIVER"/C/* db/migrations/
  commit "schema up to 0080, without the backfill"
  N_C=$((N_B - 1))
  expect_exit 0 "$t: cut C (B without the irreversible backfill)" ra cut --id C

  git checkout -q -b broken "$a"
  local d=db/migrations
  if [ "$DRIVER" = sqlite ]; then
    printf -- '-- FAIL: apply.sh refuses a file that says FAIL, as a broken deploy tool would\nALTER TABLE runners ADD COLUMN capacity INTEGER;\n' \
      > $d/0041_add_column_runners_capacity.up.sql
    printf 'ALTER TABLE runners DROP COLUMN capacity;\n' > $d/0041_add_column_runners_capacity.down.sql
    printf 'CREATE INDEX runners_capacity ON runners (capacity);\n' > $d/0042_add_index_runners_capacity.up.sql
    printf 'DROP INDEX runners_capacity;\n' > $d/0042_add_index_runners_capacity.down.sql
    D_FAIL=0041_add_column_runners_capacity
  else
    # the second index needs the column that 0042 only adds
    printf 'CREATE INDEX CONCURRENTLY runners_last_seen_at ON runners (last_seen_at);\nCREATE INDEX CONCURRENTLY runners_capacity ON runners (capacity);\n' \
      > $d/0041_add_indexes_concurrently_runners.up.sql
    printf 'DROP INDEX CONCURRENTLY runners_capacity;\nDROP INDEX CONCURRENTLY runners_last_seen_at;\n' \
      > $d/0041_add_indexes_concurrently_runners.down.sql
    printf 'ALTER TABLE runners ADD COLUMN capacity INTEGER;\n' > $d/0042_add_column_runners_capacity.up.sql
    printf 'ALTER TABLE runners DROP COLUMN capacity;\n' > $d/0042_add_column_runners_capacity.down.sql
    D_FAIL=0041_add_indexes_concurrently_runners
  fi
  commit "runner capacity"
  expect_exit 0 "$t: cut D (A plus a migration that fails)" ra cut --id D
  # G: a copy-paste slip, caught by the database on the second statement
  git checkout -q -b slip "$a"
  printf 'ALTER TABLE runners ADD COLUMN capacity INTEGER;\nALTER TABLE runners ADD COLUMN capacity INTEGER;\n' \
    > $d/0041_add_runner_capacity.up.sql
  printf 'ALTER TABLE runners DROP COLUMN capacity;\n' > $d/0041_add_runner_capacity.down.sql
  commit "runner capacity, twice"
  expect_exit 0 "$t: cut G (A plus a migration whose second statement fails)" ra cut --id G
  if [ "$DRIVER" = postgres ]; then
    # E: an ordinary migration that only mentions the word in a string
    git checkout -q -b comment "$a"
    printf "COMMENT ON TABLE runners IS 'machines that run jobs concurrently with deploys';\nALTER TABLE runners ADD COLUMN capacity INTEGER;\nALTER TABLE runners ADD COLUMN capacity INTEGER;\n" \
      > $d/0041_comment_on_runners.up.sql
    printf 'ALTER TABLE runners DROP COLUMN capacity;\nCOMMENT ON TABLE runners IS NULL;\n' > $d/0041_comment_on_runners.down.sql
    commit "describe runners"
    expect_exit 0 "$t: cut E (A plus a migration whose third statement fails)" ra cut --id E
  else
    git checkout -q -b wrapped "$a"
    cp "$WORK/gen-$DRIVER"/F/* db/migrations/
    commit "projects are public by default"
    expect_exit 0 "$t: cut F (A plus a rebuild in its own BEGIN/COMMIT)" ra cut --id F
  fi
  git checkout -q "$main"
}

# The app database: up A, data, up B; down to A is refused at the
# irreversible backfill and changes nothing; lint; a changed migration.
app_history() {
  local t=$DRIVER digest_a digest_b
  expect_exit 2 "$t: a release that is not in the store is exit 2" ra migrate up nope
  expect_exit 0 "$t: migrate up A" ra migrate up A
  check "$t: ... ran $N_A ups" test "$(ups)" -eq "$N_A"
  check "$t: status: $N_A applied" test "$(summary ra migrate status A)" = \
    "$N_A applied, 0 pending, 0 changed, 0 dirty, 0 not in release A (${DB_WHERE})"
  check "$t: status marks the 20 baseline migrations" test "$(ra migrate status A | grep -c '\[baseline\]$')" -eq 20
  check "$t: write the project's data" q app "$DATA"
  digest_a=$(schema ra migrate status --schema A)
  check "$t: status --schema prints a sha256 digest" test "${#digest_a}" -eq 64
  DUMP_A=$(dump app) || DUMP_A=""
  DIGEST_A=$digest_a

  expect_exit 0 "$t: migrate up B" ra migrate up B
  check "$t: ... ran $((N_B - N_A)) ups" test "$(ups)" -eq $((N_B - N_A))
  check "$t: the backfill ran" test "$(q app "SELECT count(*) FROM pipeline_runs WHERE trigger_kind = 'push'")" = 3
  check "$t: execution_tasks has tokens_used, and ai_model is gone" \
    test "$(has_column app execution_tasks tokens_used)$(has_column app execution_tasks ai_model)" = 10
  check "$t: the rebuilt tables kept their rows" test "$(q app "SELECT count(*) FROM users WHERE role = 'member'")" = 3
  check "$t: status marks the backfill irreversible" \
    sh -c "'$RIPCORD' -c '$REPO/ripcord.ini' migrate status B | grep -q '^applied .* 0046_backfill_pipeline_runs_trigger_kind \[irreversible\]$'"
  digest_b=$(schema ra migrate status --schema B)
  check "$t: B's schema differs from A's" test -n "$digest_b" -a "$digest_b" != "$digest_a"

  expect_exit 0 "$t: migrate status --json --schema" ra migrate status B --json --schema
  check "$t: ... is one JSON document with every migration, flag and the digest" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = d["migrations"]
assert d["release"] == "B" and d["dirty"] is False, d
assert d["schema_sha256"] == sys.argv[3] and d["schema"], d
assert len(m) == int(sys.argv[2]), len(m)
assert all(x["state"] == "applied" and x["applied_at"] > 0 for x in m)
assert all(x["recorded"] == x["expected"] and len(x["recorded"]) == 64 for x in m)
assert sum(x["baseline"] for x in m) == 20
assert [x["id"] for x in m if x["irreversible"]] == ["0046_backfill_pipeline_runs_trigger_kind"]
assert m[0]["id"] == "0001_create_table_accounts" and m[1]["id"] == "0001_create_table_users"
' "$WORK/last.out" "$N_B" "$digest_b"

  for dry in --dry-run ""; do
    expect_exit 1 "$t: migrate down --to A $dry is refused" ra migrate down --to A $dry
    err_has "$t: ... naming the irreversible migration" \
      "migration '0046_backfill_pipeline_runs_trigger_kind' is irreversible (it has no down), so the schema cannot go back past it; nothing was changed"
    check "$t: ... before any step ran" test ! -s "$WORK/last.out"
  done
  check "$t: still all $N_B applied" test "$(summary ra migrate status B)" = \
    "$N_B applied, 0 pending, 0 changed, 0 dirty, 0 not in release B (${DB_WHERE})"
  check "$t: the schema is exactly B's still" schema_is "$digest_b" ra migrate status --schema B

  expect_exit 0 "$t: lint A: rebuilds, index changes and nullable columns are no findings" ra migrate lint A
  check "$t: ... it says so" grep -qx "no findings in $N_A migrations of release A" "$WORK/last.out"
  expect_exit 1 "$t: lint B exits 1: an up drops a column" ra migrate lint B
  check "$t: ... printed as file:line: rule: message" grep -q \
    '^B\.tar\.zst:ripcord/migrations/0047_drop_column_execution_tasks_ai_model\.up\.sql:1: drop-column: drops column execution_tasks\.ai_model ' "$WORK/last.out"
  expect_exit 1 "$t: lint B --json" ra migrate lint B --json
  check "$t: ... parses, with migration, file, line, rule and message" python3 -c '
import json, sys
f = [x for x in json.load(open(sys.argv[1])) if x["migration"] == "0047_drop_column_execution_tasks_ai_model"]
assert [x["rule"] for x in f] == ["drop-column", "destructive-not-contract"] and f[0]["line"] == f[1]["line"] == 1, f
assert f[0]["file"].endswith("0047_drop_column_execution_tasks_ai_model.up.sql") and f[0]["message"], f
assert "mark it contract" in f[1]["message"], f
' "$WORK/last.out"

  # someone edits an applied migration in git and adds a new one
  local changed=0020_add_index_pipeline_runs_commit_sha
  printf -- '-- the deploy page looks runs up by commit\n' >> "db/migrations/$changed.up.sql"
  printf 'CREATE INDEX users_locale ON users (locale);\n' > db/migrations/0081_add_index_users_locale.up.sql
  printf 'DROP INDEX users_locale;\n' > db/migrations/0081_add_index_users_locale.down.sql
  commit "comment an old migration, index users.locale"
  expect_exit 0 "$t: cut B2" ra cut --id B2
  check "$t: status B2 shows the changed migration" \
    sh -c "'$RIPCORD' -c '$REPO/ripcord.ini' migrate status B2 | grep -q '^changed .* $changed$'"
  check "$t: ... and counts it" test "$(summary ra migrate status B2)" = \
    "$((N_B - 1)) applied, 1 pending, 1 changed, 0 dirty, 0 not in release B2 (${DB_WHERE})"
  expect_exit 1 "$t: migrate up B2 is refused" ra migrate up B2
  err_has "$t: ... naming the changed migration" "migration '$changed' changed since it was applied to ${DB_WHERE}"
  err_has "$t: ... with the ack advice" "restore the file, or accept the change with 'ripcord migrate ack $changed'"
  check "$t: ... and ran nothing" test ! -s "$WORK/last.out"
  expect_exit 2 "$t: ack of a migration B2 does not carry is exit 2" ra migrate ack 0999_nope B2
  expect_exit 0 "$t: migrate ack $changed B2" ra migrate ack "$changed" B2
  err_has "$t: ... says what it recorded" "migration $changed now carries the checksum of release B2"
  expect_exit 0 "$t: migrate up B2 now goes through" ra migrate up B2
  check "$t: ... running only the new migration" sh -c "test \"\$(grep -c '^ok   up ' '$WORK/last.out')\" -eq 1 && grep -q '^ok   up     0081_add_index_users_locale ' '$WORK/last.out'"
  check "$t: all $((N_B + 1)) applied, none changed" test "$(summary ra migrate status B2)" = \
    "$((N_B + 1)) applied, 0 pending, 0 changed, 0 dirty, 0 not in release B2 (${DB_WHERE})"

  expect_exit 4 "$t: while another operation holds the store lock, up is exit 4" flock .ripcord/lock "$RIPCORD" -c "$REPO/ripcord.ini" migrate up B2
  expect_exit 0 "$t: ... but status, which only reads, works" flock .ripcord/lock "$RIPCORD" -c "$REPO/ripcord.ini" migrate status B2
}

# The variant database: up A, data, up C, down to A gives A back exactly;
# below the baseline is refused.
variant_history() {
  local t="$DRIVER variant"
  expect_exit 0 "$t: migrate up A" rv migrate up A
  check "$t: two databases at release A have one fingerprint" schema_is "$DIGEST_A" rv migrate status --schema A
  check "$t: write the project's data" q variant "$DATA"
  expect_exit 0 "$t: migrate up C" rv migrate up C
  check "$t: ... ran $((N_C - N_A)) ups" test "$(ups)" -eq $((N_C - N_A))
  check "$t: write data into what C added" q variant "$LATER"
  # an emergency rollback needs the downs it runs, not every artifact
  cp .ripcord/artifacts/B2.tar.zst "$WORK/B2.keep" && printf 'x' >> .ripcord/artifacts/B2.tar.zst
  expect_exit 0 "$t: a damaged artifact of an unrelated release (B2) does not block the plan down to A" \
    rv migrate down --to A --dry-run
  check "$t: ... which lists $((N_C - N_A)) downs" test "$(grep -c '^plan down ' "$WORK/last.out")" -eq $((N_C - N_A))
  cp "$WORK/B2.keep" .ripcord/artifacts/B2.tar.zst
  expect_exit 0 "$t: migrate down --to A" rv migrate down --to A
  check "$t: ... ran $((N_C - N_A)) downs" test "$(downs)" -eq $((N_C - N_A))
  check "$t: ... newest first: 0080 first, 0041_add_column last" sh -c \
    "head -1 '$WORK/last.out' | grep -q ' 0080_add_index_execution_tasks_name ' && grep '^ok   down ' '$WORK/last.out' | tail -1 | grep -q ' 0041_add_column_pipeline_runs_trigger_kind '"
  check "$t: the fingerprint is exactly A's again" schema_is "$DIGEST_A" rv migrate status --schema A
  check "$t: the data in every surviving column is exactly A's" same "$DUMP_A" "$(dump variant || echo failed)"
  check "$t: execution_tasks.ai_model is back, empty (its data went with the drop)" \
    test "$(q variant "SELECT count(*) FROM execution_tasks WHERE ai_model IS NULL")" = 3
  check "$t: status: A's $N_A applied, nothing else" test "$(summary rv migrate status A)" = \
    "$N_A applied, 0 pending, 0 changed, 0 dirty, 0 not in release A (${DB_VWHERE})"

  expect_exit 1 "$t: migrate down --to v0 (below the baseline) is refused" rv migrate down --to v0
  err_has "$t: ... naming the newest baseline migration" \
    "migration '0010_create_table_invoices' is part of the baseline: a rollback never goes below it; nothing was changed"
  check "$t: ... before any step ran" test ! -s "$WORK/last.out"
  check "$t: ... the schema is still A's" schema_is "$DIGEST_A" rv migrate status --schema A
  check "$t: ... and all $N_A are still applied" test "$(summary rv migrate status A)" = \
    "$N_A applied, 0 pending, 0 changed, 0 dirty, 0 not in release A (${DB_VWHERE})"
}

# Variant database at A: a migration whose second statement fails rolls
# back whole, names file:line, and stays pending; nothing is dirty.
failing_history() {
  local t="$DRIVER variant"
  expect_exit 1 "$t: migrate up G: the second statement fails" rv migrate up G
  err_has "$t: ... naming the file and line 2" "G.tar.zst:ripcord/migrations/0041_add_runner_capacity.up.sql:2: "
  check "$t: ... the first statement was rolled back" \
    test "$(has_column variant runners max_jobs)$(has_column variant runners capacity)" = 10
  check "$t: ... the schema is A's" schema_is "$DIGEST_A" rv migrate status --schema A
  check "$t: ... and the migration is pending, nothing dirty" test "$(summary rv migrate status G)" = \
    "$N_A applied, 1 pending, 0 changed, 0 dirty, 0 not in release G (${DB_VWHERE})"
}

# driver = command: apply.sh feeds each file to sqlite3 and refuses one
# holding FAIL; a failure always leaves a dirty level.
command_history() {
  local t="command" objects="SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite%' AND name NOT LIKE 'ripcord%' ORDER BY 1"
  cat > var/apply.sh <<EOF
#!/bin/sh
# the project's own deploy tool: one SQL file into the database
if grep -q FAIL "\$1"; then echo "apply.sh: refusing \$1" >&2; exit 1; fi
exec sqlite3 -bail "$REPO/var/command.db" < "\$1"
EOF
  chmod +x var/apply.sh
  printf '[project]\nname = ci\nstore = ../.ripcord\n[migrations]\ndir = db/migrations\ndriver = command\napply = %s {file}\nbaseline = 0010\n' \
    "$REPO/var/apply.sh" > var/command.ini
  expect_exit 0 "$t: migrate up A through apply.sh" rx migrate up A
  check "$t: ... ran $N_A ups" test "$(ups)" -eq "$N_A"
  check "$t: the ledger is <store>/migrations-ledger.db" test -s .ripcord/migrations-ledger.db
  check "$t: apply.sh made the same tables and indexes as the sqlite driver" \
    same "$(sqlite3 var/variant.db "$objects")" "$(sqlite3 var/command.db "$objects")"
  expect_exit 2 "$t: --schema needs a driver that can read one" rx migrate status --schema A

  expect_exit 1 "$t: migrate up D: the file holding FAIL fails with exit 1" rx migrate up D
  err_has "$t: ... and leaves its level dirty" "the level of '$D_FAIL' is now dirty"
  err_has "$t: ... naming the command and its exit status" "apply.sh' exited with 1"
  expect_exit 0 "$t: migrate status D" rx migrate status D
  check "$t: ... lists it as dirty" grep -q "^dirty .* $D_FAIL\$" "$WORK/last.out"
  check "$t: ... counts it, the next one still pending" grep -q "^$N_A applied, 1 pending, 0 changed, 1 dirty, 0 not in release D " "$WORK/last.out"
  check "$t: ... and says how to settle it" grep -qF "a dirty level blocks every migration command: inspect the schema, then 'ripcord migrate mark ID applied|not-applied'" "$WORK/last.out"
  expect_exit 0 "$t: migrate status D --json" rx migrate status D --json
  check "$t: ... says dirty" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dirty"] is True and [x["id"] for x in d["migrations"] if x["state"] == "dirty"] == [sys.argv[2]], d
' "$WORK/last.out" "$D_FAIL"
  expect_exit 1 "$t: migrate up D again is refused" rx migrate up D
  err_has "$t: ... with the mark advice" "then run 'ripcord migrate mark $D_FAIL applied' (all of its changes are in) or 'ripcord migrate mark $D_FAIL not-applied' (none are)"
  check "$t: ... and ran nothing" test ! -s "$WORK/last.out"
  expect_exit 1 "$t: migrate down --to v0 is refused for the dirty level too" rx migrate down --to v0
  err_has "$t: ... the same way" "migration '$D_FAIL' is dirty in command ledger"
  expect_exit 2 "$t: mark takes applied or not-applied" rx migrate mark "$D_FAIL" undone
  expect_exit 2 "$t: mark of a migration that is not recorded is exit 2" rx migrate mark 0999_nope not-applied
  check "$t: runners has no capacity column (nothing ran)" \
    test "$(sqlite3 var/command.db "SELECT group_concat(name) FROM pragma_table_info('runners') WHERE name IN ('max_jobs', 'capacity')")" = max_jobs
  expect_exit 0 "$t: migrate mark $D_FAIL not-applied" rx migrate mark "$D_FAIL" not-applied
  check "$t: the level is clean, both pending" sh -c "'$RIPCORD' -c '$REPO/var/command.ini' migrate status D | grep -q '^$N_A applied, 2 pending, 0 changed, 0 dirty, 0 not in release D '"
}

# SQLite, variant database at A with data: a rebuild of a parent table that
# brings its own BEGIN/COMMIT, right after an ordinary migration in the same
# run, still has foreign keys off as SQLite's procedure needs.
wrapped_history() {
  local t="sqlite variant"
  expect_exit 0 "$t: migrate up F: a BEGIN/COMMIT rebuild of projects after another migration" rv migrate up F
  check "$t: ... ran 2 ups" test "$(ups)" -eq 2
  check "$t: ... the projects and the rows that refer to them are intact" \
    test "$(q variant "SELECT count(*) FROM projects JOIN repositories ON repositories.project_id = projects.id")" = 1
  expect_exit 0 "$t: migrate down --to A from F" rv migrate down --to A
  check "$t: ... the fingerprint is exactly A's again" schema_is "$DIGEST_A" rv migrate status --schema A
}

# PostgreSQL: CREATE INDEX CONCURRENTLY outside a transaction, and the
# dirty level when its second statement fails.
pg_history() {
  local t="postgres"
  check "$t: 0043's CREATE INDEX CONCURRENTLY ran outside a transaction: its index is valid" \
    test "$(q app "SELECT indisvalid FROM pg_index WHERE indexrelid = 'task_logs_created_at'::regclass")" = t
  expect_exit 1 "$t: migrate up D: the second CONCURRENTLY statement fails" rv migrate up D
  err_has "$t: ... outside a transaction, leaving a dirty level" "(outside a transaction: the level of '$D_FAIL' is now dirty)"
  err_has "$t: ... naming the file and line 2" "$D_FAIL.up.sql:2: "
  check "$t: the first index was built (no transaction undid it)" \
    test "$(q variant "SELECT count(*) FROM pg_indexes WHERE indexname = 'runners_last_seen_at'")" = 1
  check "$t: 0042 did not run" test "$(has_column variant runners max_jobs)$(has_column variant runners capacity)" = 10
  check "$t: status D lists it as dirty" sh -c "'$RIPCORD' -c '$REPO/var/variant.ini' migrate status D | grep -q '^dirty .* $D_FAIL\$'"
  expect_exit 1 "$t: migrate up D again is refused" rv migrate up D
  err_has "$t: ... with the mark advice" "'ripcord migrate mark $D_FAIL not-applied'"
  check "$t: a human drops the half-built index" q variant "DROP INDEX runners_last_seen_at"
  expect_exit 0 "$t: migrate mark $D_FAIL not-applied" rv migrate mark "$D_FAIL" not-applied
  check "$t: the schema is A's again" schema_is "$DIGEST_A" rv migrate status --schema A
  check "$t: both of D's migrations are pending, nothing dirty" sh -c "'$RIPCORD' -c '$REPO/var/variant.ini' migrate status D | grep -q '^$N_A applied, 2 pending, 0 changed, 0 dirty, 0 not in release D '"

  # "concurrently" inside a string literal does not make a statement one
  # that cannot run in a transaction
  expect_exit 1 "$t: migrate up E: its third statement fails" rv migrate up E
  err_has "$t: ... naming file:line" "0041_comment_on_runners.up.sql:3: "
  check "$t: ... in a transaction: the column it added is rolled back" \
    test "$(has_column variant runners max_jobs)$(has_column variant runners capacity)" = 10
  check "$t: ... and the level is not dirty, the migration still pending" sh -c "'$RIPCORD' -c '$REPO/var/variant.ini' migrate status E | grep -q '^$N_A applied, 1 pending, 0 changed, 0 dirty, 0 not in release E '"
}

run_history() {
  DRIVER=$1
  setup_repo
  if [ "$DRIVER" = sqlite ]; then
    DB_WHERE="sqlite '$REPO/var/app.db'" DB_VWHERE="sqlite '$REPO/var/variant.db'"
  else
    DB_WHERE="postgres '$(pg_url "${PGBASE}_app")'" DB_VWHERE="postgres '$(pg_url "${PGBASE}_variant")'"
  fi
  cut_history
  app_history
  variant_history
  failing_history
  if [ "$DRIVER" = sqlite ]; then command_history; wrapped_history; else pg_history; fi
  printf 'x' >> .ripcord/artifacts/B2.tar.zst
  expect_exit 3 "$DRIVER: a damaged artifact is exit 3, before the database is touched" ra migrate up B2
  cd "$WORK" || exit 1
}

run_history sqlite
if [ -n "${RIPCORD_TEST_PG:-}" ]; then run_history postgres
else ok "# SKIP postgres: RIPCORD_TEST_PG is not set (scripts/test starts a server)"; fi

done_testing
