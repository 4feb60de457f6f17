/* SPDX-License-Identifier: MIT */
/*
 * test_lint.c: migrate lint's rules, each shown firing on a realistic
 * statement (rule, line, and the table/column named in the message) and
 * staying quiet where it must: keywords in strings, comments, quoted
 * identifiers and function bodies, defaults, tables the same up created,
 * downs that undo exactly their up, baseline migrations. And the phase
 * rules (issue 16): a destructive expand up is told to become contract,
 * a contract up is spared the rules about the previous release, and a
 * contract with the expand of its table new in one release is flagged.
 */
#include "helpers.h"

#include "ripcord/lint.h"
#include "lint_internal.h"

/* Appends migration id to m, with a down when down is not NULL. */
static struct rip_migration *add(struct rip_migrations *m, const char *id,
	const char *up, const char *down)
{
	struct rip_migration *g = rip_migrations_add(m);
	char file[256];

	g->id = rip_xstrdup(id);
	snprintf(file, sizeof(file), "db/migrations/%s.up.sql", id);
	rip_sql_set(&g->up, up, strlen(up), file);
	if (down) {
		snprintf(file, sizeof(file), "db/migrations/%s.down.sql", id);
		rip_sql_set(&g->down, down, strlen(down), file);
	}
	return g;
}

/* Lints a single migration "0001_x" made of up and down into l. */
static void lint1(struct rip_lint *l, const char *up, const char *down)
{
	struct rip_migrations m = { 0 };

	add(&m, "0001_x", up, down);
	rip_lint_run(l, &m);
	rip_migrations_release(&m);
}

static void dump(const struct rip_lint *l)
{
	for (size_t i = 0; i < l->n; i++)
		print_message("# %zu: %s:%d: %s: %s\n", i,
			l->v[i].file ? l->v[i].file : "(null)", l->v[i].line,
			l->v[i].rule, l->v[i].message);
}

static void expect_count(const struct rip_lint *l, size_t n)
{
	if (l->n != n) {
		dump(l);
		fail_msg("%zu findings, wanted %zu", l->n, n);
	}
}

/* Asserts finding i has rule and line and its message contains needle. */
static void expect(const struct rip_lint *l, size_t i, const char *rule,
	int line, const char *needle)
{
	const struct rip_lint_finding *f;

	if (i >= l->n) {
		dump(l);
		fail_msg("%zu findings, wanted #%zu (%s)", l->n, i, rule);
	}
	f = &l->v[i];
	if (strcmp(f->rule, rule) || f->line != line ||
			!strstr(f->message, needle)) {
		dump(l);
		fail_msg("finding %zu is %s at line %d (%s), wanted %s at "
			"line %d naming '%s'", i, f->rule, f->line, f->message,
			rule, line, needle);
	}
}

/* Lints up alone and expects no finding. */
static void expect_clean(const char *up, const char *down)
{
	struct rip_lint l = { 0 };

	lint1(&l, up, down);
	expect_count(&l, 0);
	rip_lint_release(&l);
}

/* Lints up alone and expects exactly one finding. */
static void expect_one(const char *up, const char *rule, int line,
	const char *needle)
{
	struct rip_lint l = { 0 };

	lint1(&l, up, NULL);
	expect_count(&l, 1);
	expect(&l, 0, rule, line, needle);
	rip_lint_release(&l);
}

static void test_lint_drop_table(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	lint1(&l, "-- audit moves to audit_v2\n"
		"CREATE TABLE audit_v2 (id bigint PRIMARY KEY);\n"
		"\n"
		"DROP TABLE audit;\n", NULL);
	expect_count(&l, 1);
	expect(&l, 0, "drop-table", 4, "audit");
	assert_string_equal(l.v[0].message, "drops table audit while the "
		"previous release may still read it (drop it one release "
		"later)");
	assert_string_equal(l.v[0].id, "0001_x");
	assert_string_equal(l.v[0].file, "db/migrations/0001_x.up.sql");
	rip_lint_release(&l);

	/* a list: only the table that is not the up's own */
	lint1(&l, "CREATE TABLE tmp_import (id int);\n"
		"DROP TABLE IF EXISTS tmp_import, public.legacy CASCADE;\n",
		NULL);
	expect_count(&l, 1);
	expect(&l, 0, "drop-table", 2, "drops table public.legacy");
	rip_lint_release(&l);
	expect_one("DROP TABLE `sessions`;", "drop-table", 1, "sessions");
}

static void test_lint_drop_table_created_in_same_up(void **state)
{
	(void)state;
	expect_clean("CREATE TABLE tmp_import (id int, email text);\n"
		"INSERT INTO tmp_import SELECT id, email FROM customers;\n"
		"UPDATE customers SET email = lower(email);\n"
		"DROP TABLE tmp_import;\n", NULL);
	expect_clean("CREATE TEMPORARY TABLE IF NOT EXISTS scratch (id int);\n"
		"DROP TEMPORARY TABLE scratch;\n", NULL);
}

/* SQLite's 12-step rebuild, as migrate_history.sh generates it. */
static const char rebuild_orders[] =
	"-- default of orders.status: SQLite cannot do that in place\n"
	"CREATE TABLE new_orders (id INTEGER PRIMARY KEY, status TEXT NOT "
	"NULL DEFAULT 'open');\n"
	"INSERT INTO new_orders (id, status) SELECT id, status FROM orders;\n"
	"DROP TABLE orders;\n"
	"ALTER TABLE new_orders RENAME TO orders;\n"
	"CREATE INDEX orders_status ON orders (status);\n";

static void test_lint_table_rebuild(void **state)
{
	char *wrapped = rip_xasprintf("BEGIN;\n%sCOMMIT;\n", rebuild_orders);

	(void)state;
	/* the up rebuilds orders, and its down rebuilds it back */
	expect_clean(rebuild_orders, rebuild_orders);
	expect_clean(wrapped, wrapped);
	/* a down may rebuild a table its up altered in place */
	expect_clean("ALTER TABLE orders ADD COLUMN status TEXT;\n",
		rebuild_orders);
	expect_clean("CREATE TABLE \"new_Orders\" (id int);\n"
		"INSERT INTO \"new_Orders\" SELECT id FROM public.orders;\n"
		"DROP TABLE public.orders;\n"
		"ALTER TABLE \"new_Orders\" RENAME TO orders;\n", NULL);
	free(wrapped);
}

static void test_lint_table_rebuild_lookalikes(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	/* dropped and never re-created */
	lint1(&l, "CREATE TABLE new_orders (id int);\n"
		"INSERT INTO new_orders SELECT id FROM orders;\n"
		"DROP TABLE orders;\n", NULL);
	expect_count(&l, 1);
	expect(&l, 0, "drop-table", 3, "drops table orders");
	rip_lint_release(&l);

	/* re-created by renaming a table that was already there */
	lint1(&l, "DROP TABLE orders;\n"
		"ALTER TABLE orders_v2 RENAME TO orders;\n", NULL);
	expect_count(&l, 2);
	expect(&l, 0, "drop-table", 1, "drops table orders");
	expect(&l, 1, "rename", 2, "renames table orders_v2 to orders");
	rip_lint_release(&l);

	/* renamed back before the drop, or to another name: still a drop */
	lint1(&l, "CREATE TABLE new_orders (id int);\n"
		"ALTER TABLE new_orders RENAME TO orders_v2;\n"
		"DROP TABLE orders;\n", NULL);
	expect_count(&l, 1);
	expect(&l, 0, "drop-table", 3, "drops table orders");
	rip_lint_release(&l);

	/* a rebuild beside a rename of a pre-existing table */
	lint1(&l, "ALTER TABLE customers RENAME TO clients;\n"
		"CREATE TABLE new_orders (id int);\n"
		"DROP TABLE orders;\n"
		"ALTER TABLE new_orders RENAME TO orders;\n", NULL);
	expect_count(&l, 1);
	expect(&l, 0, "rename", 1, "renames table customers to clients");
	rip_lint_release(&l);
}

static void test_lint_table_rebuild_in_down(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	/* a down that rebuilds a table its up never touched is foreign */
	lint1(&l, "ALTER TABLE customers ADD COLUMN note text;\n",
		rebuild_orders);
	expect_count(&l, 5);
	expect(&l, 0, "down-foreign-object", 2, "creates table new_orders");
	expect(&l, 1, "down-foreign-object", 3, "writes to table new_orders");
	expect(&l, 2, "down-foreign-object", 4, "drops table orders, which "
		"its up never created or altered");
	expect(&l, 3, "down-foreign-object", 5, "renames table new_orders");
	expect(&l, 4, "down-foreign-object", 6, "index orders_status");
	rip_lint_release(&l);

	/* a down that drops the table its up rebuilt loses it whole */
	lint1(&l, rebuild_orders, "DROP TABLE orders;\n");
	expect_count(&l, 1);
	expect(&l, 0, "down-foreign-object", 1, "drops table orders, which "
		"its up did not create");
	rip_lint_release(&l);

	/* IF EXISTS in a down's rebuild is still flagged */
	lint1(&l, rebuild_orders, "CREATE TABLE new_orders (id int);\n"
		"DROP TABLE IF EXISTS orders;\n"
		"ALTER TABLE new_orders RENAME TO orders;\n");
	expect_count(&l, 1);
	expect(&l, 0, "down-if-exists", 2, "drops table orders with IF EXISTS");
	rip_lint_release(&l);
}

static void test_lint_drop_column(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	lint1(&l, "ALTER TABLE orders DROP COLUMN status;\n", NULL);
	expect_count(&l, 1);
	expect(&l, 0, "drop-column", 1, "orders.status");
	assert_string_equal(l.v[0].message, "drops column orders.status "
		"while the previous release may still read it (drop it one "
		"release later)");
	rip_lint_release(&l);

	/* a multi-action ALTER: each DROP COLUMN, nothing else */
	lint1(&l, "ALTER TABLE orders\n"
		"    ADD COLUMN state text,\n"
		"    DROP COLUMN status,\n"
		"    DROP CONSTRAINT orders_status_check,\n"
		"    ALTER COLUMN total SET DEFAULT 0,\n"
		"    DROP legacy_flag CASCADE;\n", NULL);
	expect_count(&l, 2);
	expect(&l, 0, "drop-column", 1, "orders.status");
	expect(&l, 1, "drop-column", 1, "orders.legacy_flag");
	rip_lint_release(&l);

	expect_one("ALTER TABLE ONLY public.orders DROP COLUMN IF EXISTS note;",
		"drop-column", 1, "public.orders.note");
}

static void test_lint_drop_column_not_a_column(void **state)
{
	(void)state;
	expect_clean("ALTER TABLE orders DROP CONSTRAINT orders_pkey;\n"
		"ALTER TABLE orders DROP PRIMARY KEY, DROP INDEX idx_status, "
		"DROP FOREIGN KEY fk_customer;\n"
		"ALTER TABLE orders ALTER COLUMN note DROP DEFAULT;\n"
		"ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;\n"
		"DROP INDEX orders_status_idx;\n"
		"DROP VIEW order_totals;\n", NULL);
	/* a column this up added is no one's yet */
	expect_clean("ALTER TABLE orders ADD COLUMN tmp int;\n"
		"UPDATE orders SET tmp = 1;\n"
		"ALTER TABLE orders DROP COLUMN tmp;\n", NULL);
}

static void test_lint_rename(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	lint1(&l, "ALTER TABLE orders RENAME TO purchases;\n"
		"ALTER TABLE customers RENAME COLUMN mail TO email;\n"
		"ALTER TABLE customers RENAME phone TO phone_number;\n"
		"RENAME TABLE a TO b, c TO d;\n", NULL);
	expect_count(&l, 5);
	expect(&l, 0, "rename", 1, "renames table orders to purchases");
	expect(&l, 1, "rename", 2, "renames column customers.mail to email");
	expect(&l, 2, "rename", 3, "customers.phone to phone_number");
	expect(&l, 3, "rename", 4, "renames table a to b");
	expect(&l, 4, "rename", 4, "renames table c to d");
	rip_lint_release(&l);

	expect_clean("ALTER TABLE orders RENAME CONSTRAINT a_check TO b_check;\n"
		"ALTER INDEX orders_idx RENAME TO orders_status_idx;\n"
		"CREATE TABLE staging (id int);\n"
		"ALTER TABLE staging RENAME TO imports;\n", NULL);
}

static void test_lint_type_change(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	lint1(&l, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2) "
		"USING total::numeric;\n"
		"ALTER TABLE orders ALTER qty SET DATA TYPE bigint;\n"
		"ALTER TABLE orders MODIFY COLUMN price DECIMAL(12,2) NOT NULL;\n"
		"ALTER TABLE orders CHANGE note note VARCHAR(500);\n"
		"ALTER TABLE orders CHANGE COLUMN status state VARCHAR(20);\n",
		NULL);
	expect_count(&l, 5);
	expect(&l, 0, "type-change", 1, "changes the type of column "
		"orders.total");
	expect(&l, 1, "type-change", 2, "orders.qty");
	expect(&l, 2, "type-change", 3, "column orders.price with MODIFY");
	expect(&l, 3, "type-change", 4, "column orders.note with CHANGE");
	expect(&l, 4, "rename", 5, "renames column orders.status to state");
	rip_lint_release(&l);

	expect_clean("ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0;\n"
		"ALTER TABLE orders ALTER COLUMN total SET STATISTICS 500;\n"
		"ALTER TABLE orders ADD COLUMN kind text;\n"
		"ALTER TABLE orders ALTER COLUMN kind TYPE varchar(20);\n",
		NULL);
}

/* Widening loses nothing: the old type is read from the down (which
 * restores it), and a type that holds every old value is no finding, nor
 * a data loss of the down that widens back; narrowing still is. */
static void test_lint_widening(void **state)
{
	struct rip_migrations m = { 0 };
	struct rip_migration *g;
	struct rip_lint l = { 0 };

	(void)state;
	expect_clean("ALTER TABLE users ALTER COLUMN id TYPE bigint;\n",
		"ALTER TABLE users ALTER COLUMN id TYPE integer;\n");
	expect_clean("ALTER TABLE public.users ALTER COLUMN mail TYPE "
		"varchar(500);\n", "ALTER TABLE users ALTER COLUMN mail TYPE "
		"varchar(200);\n");
	expect_clean("ALTER TABLE users ALTER COLUMN mail SET DATA TYPE text;\n",
		"ALTER TABLE users ALTER COLUMN mail TYPE character varying(80);\n");
	expect_clean("ALTER TABLE t ALTER COLUMN p TYPE numeric(14,2);\n",
		"ALTER TABLE t ALTER COLUMN p TYPE numeric(12,2);\n");
	expect_clean("ALTER TABLE t MODIFY COLUMN n BIGINT NOT NULL;\n",
		"ALTER TABLE t MODIFY COLUMN n INT NOT NULL;\n");
	/* narrowing, or no old type to compare with: a change as before */
	lint1(&l, "ALTER TABLE users ALTER COLUMN id TYPE integer;\n"
		"ALTER TABLE users ALTER COLUMN mail TYPE varchar(100);\n"
		"ALTER TABLE users ALTER COLUMN old TYPE integer USING "
		"old::integer;\n"
		"ALTER TABLE users ALTER COLUMN p TYPE numeric(14,4);\n"
		"ALTER TABLE users ALTER COLUMN q TYPE bigint;\n",
		"ALTER TABLE users ALTER COLUMN id TYPE bigint;\n"
		"ALTER TABLE users ALTER COLUMN mail TYPE varchar(200);\n"
		"ALTER TABLE users ALTER COLUMN old TYPE text;\n"
		"ALTER TABLE users ALTER COLUMN p TYPE numeric(14,2);\n");
	expect_count(&l, 5);
	expect(&l, 0, "type-change", 1, "users.id");
	expect(&l, 1, "type-change", 2, "users.mail");
	expect(&l, 2, "type-change", 3, "users.old");
	expect(&l, 3, "type-change", 4, "users.p");
	expect(&l, 4, "type-change", 5, "users.q");
	rip_lint_release(&l);

	/* no destructive-not-contract for a widening expand up */
	g = add(&m, "0006_widen", "ALTER TABLE users ALTER COLUMN id TYPE "
		"bigint;\n", "ALTER TABLE users ALTER COLUMN id TYPE int;\n");
	rip_lint_phases(&l, &m, NULL);
	expect_count(&l, 0);
	/* the down that narrows back loses data; one that widens back not */
	rip_lint_data_loss(&l, g);
	expect_count(&l, 1);
	expect(&l, 0, "type-change", 1, "users.id");
	rip_lint_release(&l);
	g = add(&m, "0007_narrow", "ALTER TABLE users ALTER COLUMN n TYPE "
		"varchar(20);\n", "ALTER TABLE users ALTER COLUMN n TYPE "
		"varchar(80);\n");
	rip_lint_data_loss(&l, g);
	expect_count(&l, 0);
	rip_migrations_release(&m);

	assert_true(rip_lint_widens("smallint", "int"));
	assert_true(rip_lint_widens("varchar(10)", "varchar"));
	assert_true(rip_lint_widens("char(3)", "text"));
	assert_true(rip_lint_widens("int", "numeric"));
	assert_false(rip_lint_widens("bigint", "int"));
	assert_false(rip_lint_widens("varchar", "varchar(10)"));
	assert_false(rip_lint_widens("text", "varchar(10)"));
	assert_false(rip_lint_widens("int", "text"));
	assert_false(rip_lint_widens("numeric(10,2)", "numeric(10,3)"));
	assert_false(rip_lint_widens("jsonb", "json"));
	assert_false(rip_lint_widens(NULL, "text"));
}

/* DELETE (with or without WHERE), TRUNCATE and UPDATE ... SET col = NULL
 * remove data the previous release may read: destructive, so an expand up
 * is told to become contract, and a contract up is spared. */
static void test_lint_rows(void **state)
{
	struct rip_migrations m = { 0 };
	struct rip_migration *g;
	struct rip_lint l = { 0 };

	(void)state;
	lint1(&l, "DELETE FROM sessions;\n"
		"DELETE FROM public.audit WHERE at < now() - interval '1 year';\n"
		"TRUNCATE TABLE tokens;\n"
		"UPDATE users SET old = NULL;\n"
		"UPDATE users u SET n = 1, fax = NULL WHERE u.id IN (1, 2);\n"
		"UPDATE users SET mail = lower(mail), note = coalesce(note, NULL);\n"
		"INSERT INTO users (id) VALUES (1);\n", NULL);
	expect_count(&l, 5);
	expect(&l, 0, "delete-rows", 1, "deletes rows from table sessions "
		"(every row: it has no WHERE) while the previous release may "
		"still read them, and no down brings them back");
	expect(&l, 1, "delete-rows", 2, "public.audit (the rows its WHERE "
		"matches)");
	expect(&l, 2, "truncate", 3, "truncates table tokens, removing every "
		"row");
	expect(&l, 3, "set-null", 4, "sets column users.old to NULL (in every "
		"row)");
	expect(&l, 4, "set-null", 5, "users.fax to NULL (in the rows its WHERE "
		"matches)");
	rip_lint_release(&l);
	/* rows of a table the up made itself are its own business */
	expect_clean("CREATE TABLE tmp (x int);\nDELETE FROM tmp;\n"
		"TRUNCATE tmp;\nUPDATE tmp SET x = NULL;\n", NULL);
	expect_clean("ALTER TABLE users ADD COLUMN z int;\n"
		"UPDATE users SET z = NULL;\n", NULL);

	g = add(&m, "0011_purge", "UPDATE users SET mail = mail;\n"
		"DELETE FROM sessions;\nTRUNCATE tokens;\n", NULL);
	rip_lint_phases(&l, &m, NULL);
	expect_count(&l, 1);
	expect(&l, 0, "destructive-not-contract", 2, "deletes rows from table "
		"sessions (and 1 more destructive statement), but is not marked "
		"contract");
	rip_lint_release(&l);
	g->contract = true;
	rip_lint_phases(&l, &m, NULL);
	rip_lint_run(&l, &m);
	expect_count(&l, 0);
	rip_migrations_release(&m);
}

static void test_lint_not_null(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	lint1(&l, "ALTER TABLE orders ADD COLUMN note text NOT NULL;\n"
		"ALTER TABLE orders ADD source text DEFAULT NULL NOT NULL;\n"
		"ALTER TABLE orders ALTER COLUMN total SET NOT NULL;\n"
		"ALTER TABLE orders ADD customer_id int NOT NULL REFERENCES "
		"customers (id) ON DELETE SET DEFAULT;\n", NULL);
	expect_count(&l, 4);
	expect(&l, 0, "not-null-no-default", 1, "adds column orders.note "
		"NOT NULL without a default");
	expect(&l, 1, "not-null-no-default", 2, "orders.source");
	expect(&l, 2, "not-null-no-default", 3, "sets column orders.total "
		"NOT NULL without a default");
	expect(&l, 3, "not-null-no-default", 4, "orders.customer_id");
	rip_lint_release(&l);

	/* a column this up added without a default: old inserts omit it */
	lint1(&l, "ALTER TABLE orders ADD COLUMN region text;\n"
		"UPDATE orders SET region = 'eu';\n"
		"ALTER TABLE orders ALTER COLUMN region SET NOT NULL;\n", NULL);
	expect_count(&l, 1);
	expect(&l, 0, "not-null-no-default", 3, "orders.region");
	rip_lint_release(&l);
}

static void test_lint_not_null_quiet(void **state)
{
	(void)state;
	expect_clean("ALTER TABLE orders ADD COLUMN note text NOT NULL "
		"DEFAULT '';\n"
		"ALTER TABLE orders ADD COLUMN n int NOT NULL DEFAULT 0, "
		"ADD COLUMN m int CHECK (m IS NOT NULL);\n"
		"ALTER TABLE orders ADD COLUMN id2 bigint GENERATED ALWAYS AS "
		"IDENTITY NOT NULL;\n"
		"ALTER TABLE orders ADD COLUMN seq bigserial NOT NULL;\n"
		"ALTER TABLE orders ADD COLUMN nn int NOT NULL AUTO_INCREMENT;\n"
		"ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0, "
		"ALTER COLUMN total SET NOT NULL;\n", NULL);
	/* a table this up creates is not existing */
	expect_clean("CREATE TABLE invoices (id bigint PRIMARY KEY);\n"
		"ALTER TABLE invoices ADD COLUMN number text NOT NULL;\n"
		"ALTER TABLE invoices ALTER COLUMN number SET NOT NULL;\n"
		"ALTER TABLE invoices DROP COLUMN number;\n", NULL);
}

static void test_lint_ignores_strings_and_comments(void **state)
{
	(void)state;
	expect_one("INSERT INTO notes (body) VALUES ('DROP TABLE orders; "
		"ALTER TABLE orders DROP COLUMN status');\n"
		"INSERT INTO notes (body) VALUES ('it''s; DROP TABLE x');\n"
		"INSERT INTO notes (body) VALUES (E'it\\'s; DROP TABLE y');\n"
		"-- DROP TABLE orders;\n"
		"/* ALTER TABLE orders DROP COLUMN status;\n"
		"   /* nested */ ALTER TABLE orders RENAME TO x; */\n"
		"COMMENT ON TABLE orders IS 'RENAME COLUMN a TO b';\n"
		"DROP TABLE legacy; -- the only real one\n",
		"drop-table", 8, "legacy");
}

static void test_lint_ignores_quoted_identifiers(void **state)
{
	(void)state;
	expect_clean("CREATE TABLE \"DROP TABLE orders\" (id int);\n"
		"ALTER TABLE orders ADD COLUMN \"drop\" boolean;\n"
		"ALTER TABLE `orders` ADD COLUMN `rename` int;\n"
		"ALTER TABLE orders ADD COLUMN \"type\" text, "
		"ADD COLUMN \"say \"\"not null\"\"\" text;\n"
		"INSERT INTO \"alter table x drop column y\" VALUES (1);\n",
		NULL);
	expect_one("ALTER TABLE \"order;s\" DROP COLUMN `st``atus`;",
		"drop-column", 1, "order;s.st`atus");
}

static void test_lint_ignores_dollar_bodies(void **state)
{
	(void)state;
	expect_one("CREATE FUNCTION purge() RETURNS void AS $$\n"
		"BEGIN\n"
		"    DROP TABLE orders;\n"
		"    ALTER TABLE customers RENAME TO clients;\n"
		"END;\n"
		"$$ LANGUAGE plpgsql;\n"
		"CREATE FUNCTION f() RETURNS text AS $body$\n"
		"    SELECT 'x $$ y'; ALTER TABLE t DROP COLUMN c;\n"
		"$body$ LANGUAGE sql;\n"
		"DO $do$ BEGIN EXECUTE 'DROP TABLE x'; END $do$;\n"
		"PREPARE p AS UPDATE orders SET n = $1 WHERE id = $2;\n"
		"DROP TABLE legacy;\n",
		"drop-table", 12, "legacy");
}

static void test_lint_line_numbers(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	lint1(&l, "-- ripcord:irreversible\n"
		"CREATE TABLE a (id int);\n"
		"\n"
		"/* two\n"
		"   lines */\n"
		"ALTER TABLE orders\n"
		"    DROP COLUMN status;   ALTER TABLE orders\n"
		"\n"
		"    RENAME COLUMN x TO y;\n"
		"INSERT INTO a VALUES ('one\n"
		"two');\n"
		"DROP TABLE legacy", NULL);
	expect_count(&l, 3);
	expect(&l, 0, "drop-column", 6, "orders.status");
	expect(&l, 1, "rename", 7, "orders.x");
	expect(&l, 2, "drop-table", 12, "legacy");
	rip_lint_release(&l);

	/* CRLF counts lines the same */
	lint1(&l, "CREATE TABLE a (id int);\r\n\r\nDROP TABLE b;\r\n", NULL);
	expect_count(&l, 1);
	expect(&l, 0, "drop-table", 3, "b");
	rip_lint_release(&l);
}

static void test_lint_mixed_case(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	lint1(&l, "alter TABLE Orders Drop Column Status;\n"
		"Alter Table \"Orders\" DROP COLUMN \"Status\";\n"
		"drop table AUDIT;\n"
		"ALTER table orders alter column TOTAL type BIGINT;\n"
		"alter table orders add column Note TEXT not null;\n", NULL);
	expect_count(&l, 5);
	expect(&l, 0, "drop-column", 1, "orders.status");
	expect(&l, 1, "drop-column", 2, "Orders.Status");
	expect(&l, 2, "drop-table", 3, "table audit");
	expect(&l, 3, "type-change", 4, "orders.total");
	expect(&l, 4, "not-null-no-default", 5, "orders.note");
	rip_lint_release(&l);
}

static void test_lint_down_foreign_object(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	lint1(&l, "ALTER TABLE orders ADD COLUMN note text;\n",
		"ALTER TABLE customers DROP COLUMN note;\n"
		"DROP TABLE audit;\n"
		"ALTER TABLE orders DROP COLUMN notes;\n"
		"DROP INDEX customers_email_idx;\n"
		"UPDATE customers SET note = NULL;\n");
	expect_count(&l, 5);
	expect(&l, 0, "down-foreign-object", 1, "drops column customers.note,"
		" which its up never created or altered");
	assert_string_equal(l.v[0].file, "db/migrations/0001_x.down.sql");
	expect(&l, 1, "down-foreign-object", 2, "drops table audit");
	expect(&l, 2, "down-foreign-object", 3, "orders.notes");
	expect(&l, 3, "down-foreign-object", 4, "index customers_email_idx");
	expect(&l, 4, "down-foreign-object", 5, "writes to table customers");
	rip_lint_release(&l);

	/* dropping a table its up only altered loses the whole table */
	lint1(&l, "ALTER TABLE orders ADD COLUMN note text;\n",
		"DROP TABLE orders;\n");
	expect_count(&l, 1);
	expect(&l, 0, "down-foreign-object", 1, "drops table orders, which "
		"its up did not create");
	rip_lint_release(&l);
}

static void test_lint_down_matches_up(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	expect_clean("ALTER TABLE execution_tasks ADD COLUMN ai_model text;",
		"ALTER TABLE execution_tasks DROP COLUMN ai_model;");
	expect_clean("CREATE TABLE audit (id bigint, at timestamptz);\n"
		"CREATE INDEX CONCURRENTLY audit_at ON audit (at);\n"
		"CREATE UNIQUE INDEX ON audit (id);\n"
		"CREATE VIEW recent_audit AS SELECT * FROM audit a JOIN x "
		"ON a.id = x.id;\n"
		"CREATE TYPE mood AS ENUM ('ok', 'sad');\n",
		"DROP VIEW recent_audit;\n"
		"DROP TYPE mood;\n"
		"DROP INDEX audit_at;\n"
		"DROP TABLE audit;\n");
	expect_clean("ALTER TABLE public.orders ADD COLUMN note text;\n",
		"ALTER TABLE orders DROP COLUMN note;\n");
	expect_clean("ALTER TABLE orders ADD COLUMN region text DEFAULT 'eu', "
		"ADD CONSTRAINT region_check CHECK (region <> '');\n",
		"ALTER TABLE orders DROP CONSTRAINT region_check;\n"
		"ALTER TABLE orders DROP COLUMN region;\n");

	/* the up's finding stays; the down that undoes it is fine */
	lint1(&l, "ALTER TABLE customers RENAME COLUMN mail TO email;\n",
		"ALTER TABLE customers RENAME COLUMN email TO mail;\n");
	expect_count(&l, 1);
	expect(&l, 0, "rename", 1, "customers.mail");
	rip_lint_release(&l);
	lint1(&l, "ALTER TABLE orders DROP COLUMN legacy;\n",
		"ALTER TABLE orders ADD COLUMN legacy int;\n");
	expect_count(&l, 1);
	expect(&l, 0, "drop-column", 1, "orders.legacy");
	assert_string_equal(l.v[0].file, "db/migrations/0001_x.up.sql");
	rip_lint_release(&l);
}

static void test_lint_down_if_exists(void **state)
{
	struct rip_lint l = { 0 };

	(void)state;
	lint1(&l, "CREATE TABLE audit (id bigint, at timestamptz);\n"
		"CREATE INDEX audit_at ON audit (at);\n"
		"ALTER TABLE orders ADD COLUMN note text;\n",
		"DROP INDEX IF EXISTS audit_at;\n"
		"ALTER TABLE orders DROP COLUMN IF EXISTS note;\n"
		"DROP TABLE IF EXISTS audit;\n"
		"ALTER TABLE IF EXISTS orders DROP COLUMN note;\n");
	expect_count(&l, 4);
	expect(&l, 0, "down-if-exists", 1, "drops index audit_at with IF "
		"EXISTS");
	expect(&l, 1, "down-if-exists", 2, "drops column orders.note with IF "
		"EXISTS");
	expect(&l, 2, "down-if-exists", 3, "drops table audit with IF EXISTS");
	expect(&l, 3, "down-if-exists", 4, "orders.note");
	rip_lint_release(&l);

	/* a foreign object behind IF EXISTS is both */
	lint1(&l, "ALTER TABLE orders ADD COLUMN note text;\n",
		"DROP TABLE IF EXISTS audit;\n");
	expect_count(&l, 2);
	expect(&l, 0, "down-foreign-object", 1, "audit");
	expect(&l, 1, "down-if-exists", 1, "audit");
	rip_lint_release(&l);

	/* IF NOT EXISTS, and IF EXISTS in an up, are not this rule */
	expect_clean("DROP INDEX IF EXISTS orders_old_idx;\n",
		"CREATE INDEX IF NOT EXISTS orders_old_idx ON orders (x);\n");
}

static void test_lint_baseline_and_irreversible(void **state)
{
	struct rip_migrations m = { 0 };
	struct rip_lint l = { 0 };
	struct rip_migration *g;

	(void)state;
	g = add(&m, "0001_base", "DROP TABLE IF EXISTS old;\n"
		"ALTER TABLE orders DROP COLUMN status;\n", NULL);
	g->baseline = true;
	g = add(&m, "0002_purge", "DROP TABLE legacy;\n",
		"DROP TABLE IF EXISTS somewhere_else;\n");
	g->irreversible = true;
	rip_lint_run(&l, &m);
	expect_count(&l, 1);
	expect(&l, 0, "drop-table", 1, "legacy");
	assert_string_equal(l.v[0].id, "0002_purge");
	rip_lint_release(&l);
	rip_migrations_release(&m);
}

static void test_lint_order_and_fields(void **state)
{
	struct rip_migrations m = { 0 };
	struct rip_lint l = { 0 };
	struct rip_migration *g;

	(void)state;
	add(&m, "0001_a", "ALTER TABLE orders ADD COLUMN note text;\n",
		"\n\nDROP TABLE audit;\n");
	add(&m, "0002_b", "SELECT 1;\nDROP TABLE legacy;\n", NULL);
	rip_migrations_add(&m);  /* no id, no file, no text */
	g = rip_migrations_add(&m);
	rip_sql_set(&g->up, "DROP TABLE x;", 13, NULL);
	rip_lint_run(&l, &m);
	expect_count(&l, 3);
	expect(&l, 0, "down-foreign-object", 3, "audit");
	assert_string_equal(l.v[0].id, "0001_a");
	assert_string_equal(l.v[0].file, "db/migrations/0001_a.down.sql");
	expect(&l, 1, "drop-table", 2, "legacy");
	assert_string_equal(l.v[1].id, "0002_b");
	assert_string_equal(l.v[1].file, "db/migrations/0002_b.up.sql");
	expect(&l, 2, "drop-table", 1, "x");
	assert_null(l.v[2].id);
	assert_null(l.v[2].file);

	/* appends: a second run adds to what is there */
	rip_lint_run(&l, &m);
	expect_count(&l, 6);
	rip_lint_release(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	rip_lint_release(&l);
	rip_migrations_release(&m);
}

/* What a rollback's down loses (rollback --dry-run): drops and type
 * changes, with their lines; a rebuild, a dropped index and a baseline or
 * irreversible migration lose nothing. */
static void test_lint_data_loss(void **state)
{
	struct rip_migrations m = { 0 };
	struct rip_migration *g;
	struct rip_lint l = { 0 };

	(void)state;
	g = add(&m, "0005_rating", "ALTER TABLE orders ADD COLUMN rating int;\n",
		"-- the rating goes\n"
		"DROP INDEX orders_rating;\n"
		"ALTER TABLE orders\n  DROP COLUMN rating;\n"
		"ALTER TABLE orders ALTER COLUMN qty TYPE smallint;\n"
		"DROP TABLE IF EXISTS ratings;\n");
	rip_lint_data_loss(&l, g);
	expect_count(&l, 3);
	expect(&l, 0, "drop-column", 3, "drops column orders.rating: the "
		"values in it are lost");
	expect(&l, 1, "type-change", 5, "changes the type of column orders.qty");
	expect(&l, 2, "drop-table", 6, "drops table ratings: every row in it "
		"is lost");
	assert_string_equal(l.v[0].file, "db/migrations/0005_rating.down.sql");
	rip_lint_release(&l);

	g = add(&m, "0006_rebuild", "ALTER TABLE orders ADD COLUMN x int;\n",
		rebuild_orders);
	rip_lint_data_loss(&l, g);
	expect_count(&l, 0);
	g->irreversible = true;
	g = add(&m, "0007_base", "CREATE TABLE t (id int);\n", "DROP TABLE t;\n");
	g->baseline = true;
	rip_lint_data_loss(&l, &m.v[1]);
	rip_lint_data_loss(&l, g);
	g = add(&m, "0008_nodown", "CREATE TABLE u (id int);\n", NULL);
	rip_lint_data_loss(&l, g);
	expect_count(&l, 0);
	rip_migrations_release(&m);
}

/* destructive-not-contract: once per expand up, at its first destructive
 * statement, with the fix; a contract up gets neither it nor the
 * destructive rules, but keeps the others. */
static void test_lint_destructive_not_contract(void **state)
{
	struct rip_migrations m = { 0 };
	struct rip_migration *g;
	struct rip_lint l = { 0 };

	(void)state;
	add(&m, "0001_users", "CREATE TABLE users (id int, mail text);\n"
		"DROP TABLE users_tmp_made_here;\n", "DROP TABLE users;\n");
	g = add(&m, "0002_drop_mail", "SELECT 1;\n"
		"ALTER TABLE users DROP COLUMN mail;\n"
		"DROP TABLE legacy;\nALTER TABLE orders RENAME TO purchases;\n",
		NULL);
	add(&m, "0003_add_phone", "ALTER TABLE users ADD COLUMN phone text;\n",
		"ALTER TABLE users DROP COLUMN phone;\n");
	rip_lint_phases(&l, &m, NULL);
	expect_count(&l, 2);
	/* 0001 drops a table it did not create: one finding there too */
	expect(&l, 0, "destructive-not-contract", 2, "drops table "
		"users_tmp_made_here, but is not marked contract");
	expect(&l, 1, "destructive-not-contract", 2, "drops column users.mail "
		"(and 2 more destructive statements), but is not marked contract, "
		"so deploy and rollout run it before the switch while the "
		"previous release may still need it: mark it contract: first line "
		"'-- ripcord:contract' or [migrations] contract = 0002_drop_mail");
	assert_string_equal(l.v[1].id, "0002_drop_mail");
	assert_string_equal(l.v[1].file, "db/migrations/0002_drop_mail.up.sql");
	rip_lint_release(&l);

	/* marked contract: no phase finding, and the destructive rules of
	 * rip_lint_run are spared; a NOT NULL without default is not */
	g->contract = true;
	m.v[0].contract = true;
	rip_lint_phases(&l, &m, NULL);
	expect_count(&l, 0);
	rip_migrations_release(&m);
	g = add(&m, "0004_c", "ALTER TABLE users DROP COLUMN mail;\n"
		"ALTER TABLE users ADD COLUMN n int NOT NULL;\n", NULL);
	g->contract = true;
	rip_lint_run(&l, &m);
	expect_count(&l, 1);
	expect(&l, 0, "not-null-no-default", 2, "users.n");
	rip_lint_release(&l);
	g->contract = false;
	rip_lint_run(&l, &m);
	expect_count(&l, 2);
	expect(&l, 0, "drop-column", 1, "users.mail");
	rip_lint_release(&l);

	/* a baseline up, and an up that drops what it created, say nothing */
	rip_migrations_release(&m);
	g = add(&m, "0005_base", "DROP TABLE old;\n", NULL);
	g->baseline = true;
	add(&m, "0006_tmp", "CREATE TABLE t (x int);\nDROP TABLE t;\n", NULL);
	rip_lint_phases(&l, &m, NULL);
	expect_count(&l, 0);
	rip_migrations_release(&m);

	/* only the new against the parent: one carried may have run long
	 * ago, and marking it now would change nothing it did */
	{
		struct rip_migrations parent = { 0 };

		add(&m, "0002_drop_old", "ALTER TABLE users DROP COLUMN old;\n",
			NULL);
		add(&m, "0004_drop_fax", "ALTER TABLE users DROP COLUMN fax;\n",
			NULL);
		add(&parent, "0002_drop_old", "SELECT 1;\n", NULL);
		rip_lint_phases(&l, &m, &parent);
		expect_count(&l, 1);
		expect(&l, 0, "destructive-not-contract", 1, "users.fax");
		rip_lint_release(&l);
		rip_migrations_release(&parent);
		rip_migrations_release(&m);
	}
}

/* expand-contract-together: the contract and an expand of its table, both
 * new against the parent; not once the expand shipped before, not for
 * another table, not without a parent. */
static void test_lint_expand_contract_together(void **state)
{
	struct rip_migrations m = { 0 }, parent = { 0 };
	struct rip_migration *g;
	struct rip_lint l = { 0 };

	(void)state;
	add(&m, "0001_users", "CREATE TABLE users (id int, mail text);\n",
		"DROP TABLE users;\n");
	add(&m, "0002_add_email", "ALTER TABLE users ADD COLUMN email text;\n"
		"UPDATE users SET email = mail;\n",
		"ALTER TABLE users DROP COLUMN email;\n");
	g = add(&m, "0003_drop_mail", "-- ripcord:contract\n"
		"ALTER TABLE public.users DROP COLUMN mail;\n",
		"ALTER TABLE users ADD COLUMN mail text;\n");
	g->contract = true;
	add(&parent, "0001_users", "CREATE TABLE users (id int, mail text);\n",
		NULL);
	rip_lint_phases(&l, &m, &parent);
	expect_count(&l, 1);
	expect(&l, 0, "expand-contract-together", 2, "contract migration "
		"0003_drop_mail and expand migration 0002_add_email both touch "
		"table public.users and are both new in this release: expand and "
		"contract of one change belong in two releases");
	assert_string_equal(l.v[0].id, "0003_drop_mail");
	rip_lint_release(&l);

	/* without a parent the rule is skipped */
	rip_lint_phases(&l, &m, NULL);
	expect_count(&l, 0);
	/* the expand shipped in the parent: the contract comes after it */
	add(&parent, "0002_add_email", "ALTER TABLE users ADD COLUMN email "
		"text;\n", NULL);
	rip_lint_phases(&l, &m, &parent);
	expect_count(&l, 0);
	/* both shipped already: nothing new */
	rip_migrations_release(&parent);
	add(&parent, "0001_users", "SELECT 1;\n", NULL);
	add(&parent, "0003_drop_mail", "SELECT 1;\n", NULL);
	rip_lint_phases(&l, &m, &parent);
	expect_count(&l, 0);
	rip_migrations_release(&parent);

	/* a new expand of another table does not count */
	rip_migrations_release(&m);
	add(&parent, "0001_users", "SELECT 1;\n", NULL);
	add(&m, "0001_users", "CREATE TABLE users (id int, mail text);\n", NULL);
	add(&m, "0002_orders", "CREATE TABLE orders (id int);\n", NULL);
	g = add(&m, "0003_drop_legacy", "DROP TABLE legacy;\n", NULL);
	g->contract = true;
	rip_lint_phases(&l, &m, &parent);
	expect_count(&l, 0);
	rip_migrations_release(&m);
	rip_migrations_release(&parent);
}

static void test_lint_hostile_input(void **state)
{
	static const char *const texts[] = {
		"", ";;;", "DROP", "DROP TABLE", "ALTER TABLE;",
		"ALTER TABLE t DROP", "ALTER TABLE t RENAME COLUMN a",
		"ALTER TABLE t ALTER COLUMN", "ALTER TABLE t CHANGE",
		"RENAME TABLE a", "CREATE INDEX ON", "DROP FUNCTION f(",
		"INSERT INTO 'x' VALUES ('unterminated",
		"/* unterminated DROP TABLE a;", "-- DROP TABLE a",
		"SELECT $$ DROP TABLE a;", "SELECT $tag DROP", "$", "$$",
		"\"unterminated", "`", "E'\\", "x.", "ALTER TABLE a. DROP b",
		"ALTER TABLE t ADD ((((", "ALTER TABLE t ADD ))))",
	};
	struct rip_lint l = { 0 };

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(texts); i++) {
		lint1(&l, texts[i], texts[i]);
		rip_lint_release(&l);
	}
	/* whatever they yield, a real statement after them still counts */
	lint1(&l, "ALTER TABLE t ADD )))); DROP TABLE z;", NULL);
	expect_count(&l, 1);
	expect(&l, 0, "drop-table", 1, "z");
	rip_lint_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lint_drop_table),
		cmocka_unit_test(test_lint_drop_table_created_in_same_up),
		cmocka_unit_test(test_lint_table_rebuild),
		cmocka_unit_test(test_lint_table_rebuild_lookalikes),
		cmocka_unit_test(test_lint_table_rebuild_in_down),
		cmocka_unit_test(test_lint_drop_column),
		cmocka_unit_test(test_lint_drop_column_not_a_column),
		cmocka_unit_test(test_lint_rename),
		cmocka_unit_test(test_lint_type_change),
		cmocka_unit_test(test_lint_widening),
		cmocka_unit_test(test_lint_rows),
		cmocka_unit_test(test_lint_not_null),
		cmocka_unit_test(test_lint_not_null_quiet),
		cmocka_unit_test(test_lint_ignores_strings_and_comments),
		cmocka_unit_test(test_lint_ignores_quoted_identifiers),
		cmocka_unit_test(test_lint_ignores_dollar_bodies),
		cmocka_unit_test(test_lint_line_numbers),
		cmocka_unit_test(test_lint_mixed_case),
		cmocka_unit_test(test_lint_down_foreign_object),
		cmocka_unit_test(test_lint_down_matches_up),
		cmocka_unit_test(test_lint_down_if_exists),
		cmocka_unit_test(test_lint_baseline_and_irreversible),
		cmocka_unit_test(test_lint_order_and_fields),
		cmocka_unit_test(test_lint_data_loss),
		cmocka_unit_test(test_lint_destructive_not_contract),
		cmocka_unit_test(test_lint_expand_contract_together),
		cmocka_unit_test(test_lint_hostile_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
