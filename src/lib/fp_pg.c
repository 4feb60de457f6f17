/* SPDX-License-Identifier: MIT */
/*
 * fp_pg.c: the structural fingerprint of a PostgreSQL database, read from
 * the system catalogs with one query per kind of object, each with an
 * explicit ORDER BY, in one REPEATABLE READ snapshot.
 *
 * The key and value formats are listed in fp_read.h. Definitions come from
 * the server's own deparsers (format_type, pg_get_expr, pg_get_indexdef,
 * pg_get_constraintdef, pg_get_viewdef, pg_get_triggerdef), which print
 * the same text for the same object whatever SQL created it. Their output
 * depends on a few settings, so search_path (pg_catalog, public: objects
 * in public print unqualified), DateStyle, IntervalStyle, TimeZone,
 * extra_float_digits and bytea_output are pinned while reading and put
 * back after.
 *
 * Choices, documented because the drill prints them:
 * - Standalone indexes are keyed by name with the definition minus the
 *   name as value: PostgreSQL never renames an index behind the user's
 *   back (no SQLite-style rebuilds), and a later migration that drops the
 *   index by name depends on it. Indexes that back a PRIMARY KEY, UNIQUE
 *   or EXCLUDE constraint are described by their constraint.
 * - Constraints are keyed by table and name ("constraint orders.orders_pkey").
 * - Triggers are keyed by name and table, valued by their definition minus
 *   "CREATE TRIGGER name".
 * - Functions are valued by signature, language, attributes and the first
 *   16 hex digits of the SHA-256 of their body (exact text, not
 *   normalised). Sequences behind identity columns and functions created
 *   implicitly by a type are left out: the column and the type say it all.
 * - Members of extensions are left out; the extension and its version are
 *   one item. ripcord_migrations is left out with its constraints, indexes,
 *   triggers and the sequence it owns.
 * Needs PostgreSQL 12 or later (generated columns).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/buf.h"
#include "ripcord/digest.h"
#include "fp_read.h"
#include "pg.h"
#include "banned.h"

struct pg {
	struct rip_pg *conn;
	struct rip_fingerprint *fp;
	bool strict;
	struct rip_err *err;
	struct rip_buf key;
	struct rip_buf val;
	struct rip_fp_window win; /* non-strict: when "now" may be frozen */
};

/* Filters on a pg_namespace n and on membership in an extension. */
#define USER_NS \
	" n.nspname NOT IN ('pg_catalog', 'information_schema') AND" \
	" n.nspname !~ '^pg_(toast|temp_)' "
#define NOT_EXT(catalog, oid) \
	" NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '" catalog \
	"'::regclass AND e.objid = " oid " AND e.deptype = 'e') "
#define NOT_OURS " c.relname <> 'ripcord_migrations' "

/* Prefixes the wrapper's message with what could not be read. */
static int pg_fail(struct pg *q, const char *what)
{
	return rip_err_prefix(q->err, "postgres fingerprint: cannot read the %s",
		what);
}

/* Field c of row as text, NULL for SQL NULL. */
static const char *get(const struct rip_pg_res *r, size_t row, size_t c)
{
	return rip_pg_get(r, row, c);
}

static const char *get0(const struct rip_pg_res *r, size_t row, size_t c)
{
	return rip_pg_value(r, row, c);
}

static bool flag(const struct rip_pg_res *r, size_t row, size_t c)
{
	return rip_pg_flag(r, row, c);
}

/* Starts the next part of a value. */
static struct rip_buf *part(struct rip_buf *b)
{
	if (b->len)
		rip_buf_adds(b, ", ");
	return b;
}

/* schema.name, or name alone in public. */
static void qname(struct rip_buf *b, const char *nsp, const char *name)
{
	if (strcmp(nsp, "public")) {
		rip_fp_ident(b, nsp, false);
		rip_buf_addch(b, '.');
	}
	rip_fp_ident(b, name, false);
}

static void comment(struct pg *q, const struct rip_pg_res *r, size_t row,
	size_t c)
{
	const char *s = get(r, row, c);

	if (!q->strict || !s)
		return;
	rip_buf_adds(part(&q->val), "comment '");
	for (; *s; s++) {
		if (*s == '\'')
			rip_buf_addch(&q->val, '\'');
		rip_buf_addch(&q->val, *s);
	}
	rip_buf_addch(&q->val, '\'');
}

/*
 * Appends a view's text or a default (view false) to q->val; in non-strict
 * mode with a frozen "now" as a placeholder and a view's select list
 * sorted.
 */
static void add_loose(struct pg *q, const char *sql, bool view)
{
	struct rip_buf canon = RIP_BUF_INIT, sorted = RIP_BUF_INIT;

	if (view)
		rip_fp_sql(&canon, sql, false);
	else
		rip_buf_adds(&canon, sql);
	if (q->strict) {
		rip_buf_adds(&q->val, canon.buf);
	} else {
		if (view)
			rip_fp_view_columns(&sorted, canon.buf);
		rip_fp_frozen_now(&q->val, view ? sorted.buf : canon.buf, &q->win);
	}
	rip_buf_release(&canon);
	rip_buf_release(&sorted);
}

typedef void row_fn(struct pg *q, const struct rip_pg_res *r, size_t row);

/* Runs sql and adds one item per row, built by fn into q->key, q->val. */
static int each(struct pg *q, const char *what, const char *sql, row_fn *fn)
{
	struct rip_pg_res *r;

	if (rip_pg_query(&r, q->conn, sql, 0, NULL, q->err) < 0)
		return pg_fail(q, what);
	for (size_t i = 0; i < rip_pg_rows(r); i++) {
		rip_buf_reset(&q->key);
		rip_buf_reset(&q->val);
		fn(q, r, i);
		rip_fp_add(q->fp, q->key.buf, "%s", q->val.buf);
	}
	rip_pg_res_free(r);
	return 0;
}

static void schema_row(struct pg *q, const struct rip_pg_res *r, size_t row)
{
	rip_buf_adds(&q->key, "schema ");
	rip_fp_ident(&q->key, get0(r, row, 0), false);
	comment(q, r, row, 1);
}

static const char schemas_sql[] =
	"SELECT n.nspname, obj_description(n.oid, 'pg_namespace') "
	"FROM pg_namespace n WHERE" USER_NS "AND"
	NOT_EXT("pg_namespace", "n.oid") "ORDER BY 1";

static void extension_row(struct pg *q, const struct rip_pg_res *r, size_t row)
{
	const char *nsp = get0(r, row, 2);

	rip_buf_adds(&q->key, "extension ");
	rip_fp_ident(&q->key, get0(r, row, 0), false);
	rip_buf_addf(&q->val, "version %s", get0(r, row, 1));
	if (strcmp(nsp, "public") && strcmp(nsp, "pg_catalog")) {
		rip_buf_adds(&q->val, ", schema ");
		rip_fp_ident(&q->val, nsp, false);
	}
}

static const char extensions_sql[] =
	"SELECT e.extname, e.extversion, n.nspname FROM pg_extension e "
	"JOIN pg_namespace n ON n.oid = e.extnamespace "
	"WHERE e.extname <> 'plpgsql' ORDER BY 1";

static void relation_row(struct pg *q, const struct rip_pg_res *r, size_t row)
{
	const char *kind = get0(r, row, 2), *s;

	rip_buf_adds(&q->key, *kind == 'v' ? "view " : *kind == 'm' ?
		"materialized view " : *kind == 'f' ? "foreign table " : "table ");
	qname(&q->key, get0(r, row, 0), get0(r, row, 1));
	if ((s = get(r, row, 10))) {
		add_loose(q, s, true);
		comment(q, r, row, 11);
		return;
	}
	if ((s = get(r, row, 6)))
		rip_buf_addf(part(&q->val), "partitioned by %s", s);
	if (flag(r, row, 3))
		rip_buf_adds(part(&q->val), "unlogged");
	if ((s = get(r, row, 7)))
		rip_buf_addf(part(&q->val), "partition of %s %s",
			get0(r, row, 8), s);
	else if ((s = get(r, row, 8)))
		rip_buf_addf(part(&q->val), "inherits %s", s);
	if (flag(r, row, 4))
		rip_buf_adds(part(&q->val), flag(r, row, 5) ?
			"forced row level security" : "row level security");
	if ((s = get(r, row, 9)))
		rip_buf_addf(part(&q->val), "options %s", s);
	comment(q, r, row, 11);
}

static const char relations_sql[] =
	"SELECT n.nspname, c.relname, c.relkind, c.relpersistence = 'u', "
	"c.relrowsecurity, c.relforcerowsecurity, "
	"CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, "
	"CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) "
	"END, (SELECT string_agg(i.inhparent::regclass::text, ', ' "
	"ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = c.oid), "
	"array_to_string(c.reloptions, ', '), "
	"CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) "
	"END, obj_description(c.oid, 'pg_class') "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND" USER_NS "AND"
	NOT_OURS "AND" NOT_EXT("pg_class", "c.oid") "ORDER BY 1, 2";

static void column_row(struct pg *q, const struct rip_pg_res *r, size_t row)
{
	const char *def = get(r, row, 5), *ident = get0(r, row, 6);
	const char *coll = get(r, row, 8);

	rip_buf_adds(&q->key, "column ");
	qname(&q->key, get0(r, row, 0), get0(r, row, 1));
	rip_buf_addch(&q->key, '.');
	rip_fp_ident(&q->key, get0(r, row, 2), false);
	rip_buf_addf(&q->val, "type %s", get0(r, row, 3));
	if (flag(r, row, 4))
		rip_buf_adds(&q->val, ", not null");
	if (def && !strcmp(get0(r, row, 7), "s"))
		rip_buf_addf(&q->val, ", generated as (%s) stored", def);
	else if (def) {
		rip_buf_adds(&q->val, ", default ");
		add_loose(q, def, false);
	}
	if (*ident == 'a')
		rip_buf_adds(&q->val, ", identity always");
	else if (*ident == 'd')
		rip_buf_adds(&q->val, ", identity by default");
	if (coll)
		rip_buf_addf(&q->val, ", collate %s", coll);
	if (q->strict)
		rip_buf_addf(&q->val, ", position %s", get0(r, row, 9));
	comment(q, r, row, 10);
}

/* The position counts live columns only: a dropped one leaves no gap. */
static const char columns_sql[] =
	"SELECT n.nspname, c.relname, a.attname, "
	"format_type(a.atttypid, a.atttypmod), a.attnotnull, "
	"pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, "
	"CASE WHEN a.attcollation <> t.typcollation "
	"THEN quote_ident(co.collname) END, "
	"row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum), "
	"col_description(c.oid, a.attnum) "
	"FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"JOIN pg_type t ON t.oid = a.atttypid "
	"LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
	"LEFT JOIN pg_collation co ON co.oid = a.attcollation "
	"WHERE a.attnum > 0 AND NOT a.attisdropped "
	"AND c.relkind IN ('r', 'p', 'f') AND" USER_NS "AND" NOT_OURS "AND"
	NOT_EXT("pg_class", "c.oid") "ORDER BY 1, 2, 3";

/*
 * Appends def without the object's name: "CREATE UNIQUE INDEX orders_s ON
 * ..." becomes "CREATE UNIQUE INDEX ON ..." (still valid SQL), "CREATE
 * TRIGGER t AFTER ..." becomes "AFTER ...". quoted is the name as the
 * deparser quotes it; def is kept whole when it is not where expected.
 */
static void add_without_name(struct rip_buf *b, const char *def,
	const char *quoted)
{
	static const char *const leads[][2] = {
		{ "CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX " },
		{ "CREATE INDEX ", "CREATE INDEX " },
		{ "CREATE CONSTRAINT TRIGGER ", "CONSTRAINT " },
		{ "CREATE TRIGGER ", "" },
	};
	size_t i, lead, n = strlen(quoted);

	for (i = 0; i < RIP_ARRAY_SIZE(leads); i++) {
		lead = strlen(leads[i][0]);
		if (!strncmp(def, leads[i][0], lead) &&
				!strncmp(def + lead, quoted, n) && def[lead + n] == ' ') {
			rip_buf_adds(b, leads[i][1]);
			rip_buf_adds(b, def + lead + n + 1);
			return;
		}
	}
	rip_buf_adds(b, def);
}

static void index_row(struct pg *q, const struct rip_pg_res *r, size_t row)
{
	rip_buf_adds(&q->key, "index ");
	qname(&q->key, get0(r, row, 0), get0(r, row, 1));
	add_without_name(&q->val, get0(r, row, 2), get0(r, row, 3));
	comment(q, r, row, 4);
}

static const char indexes_sql[] =
	"SELECT n.nspname, ic.relname, pg_get_indexdef(i.indexrelid), "
	"quote_ident(ic.relname), obj_description(ic.oid, 'pg_class') "
	"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
	"JOIN pg_class c ON c.oid = i.indrelid "
	"JOIN pg_namespace n ON n.oid = ic.relnamespace WHERE" USER_NS "AND"
	NOT_OURS "AND" NOT_EXT("pg_class", "c.oid") "AND NOT EXISTS "
	"(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid "
	"AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')) "
	"ORDER BY 1, 2";

static void constraint_row(struct pg *q, const struct rip_pg_res *r, size_t row)
{
	rip_buf_adds(&q->key, "constraint ");
	qname(&q->key, get0(r, row, 0), get0(r, row, 1));
	rip_buf_addch(&q->key, '.');
	rip_fp_ident(&q->key, get0(r, row, 2), false);
	rip_buf_adds(&q->val, get0(r, row, 3));
	comment(q, r, row, 4);
}

/* NOT NULL is a column property here (PostgreSQL 18 also lists it as a
 * constraint), constraint triggers are triggers. */
static const char constraints_sql[] =
	"SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid), "
	"obj_description(k.oid, 'pg_constraint') FROM pg_constraint k "
	"JOIN pg_class c ON c.oid = k.conrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE k.contype IN ('c', 'f', 'p', 'u', 'x') AND" USER_NS "AND"
	NOT_OURS "AND" NOT_EXT("pg_class", "c.oid") "ORDER BY 1, 2, 3";

static void sequence_row(struct pg *q, const struct rip_pg_res *r, size_t row)
{
	const char *owner = get(r, row, 9);

	rip_buf_adds(&q->key, "sequence ");
	qname(&q->key, get0(r, row, 0), get0(r, row, 1));
	rip_buf_addf(&q->val, "type %s, start %s, increment %s, min %s, "
		"max %s, cache %s, %s", get0(r, row, 2), get0(r, row, 3),
		get0(r, row, 4), get0(r, row, 5), get0(r, row, 6),
		get0(r, row, 7), flag(r, row, 8) ? "cycle" : "no cycle");
	if (owner)
		rip_buf_addf(&q->val, ", owned by %s", owner);
	comment(q, r, row, 10);
}

static const char sequences_sql[] =
	"SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), "
	"s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, "
	"s.seqcycle, (SELECT d.refobjid::regclass::text || '.' || "
	"quote_ident(a.attname) FROM pg_depend d JOIN pg_attribute a "
	"ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
	"WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
	"AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' LIMIT 1), "
	"obj_description(c.oid, 'pg_class') "
	"FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE" USER_NS "AND"
	NOT_EXT("pg_class", "c.oid") "AND NOT EXISTS (SELECT 1 FROM "
	"pg_depend d LEFT JOIN pg_class o ON o.oid = d.refobjid "
	"AND d.refclassid = 'pg_class'::regclass "
	"WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
	"AND (d.deptype = 'i' OR o.relname = 'ripcord_migrations')) "
	"ORDER BY 1, 2";

static void function_row(struct pg *q, const struct rip_pg_res *r, size_t row)
{
	const char *kind = get0(r, row, 3), *res = get(r, row, 4);
	const char *vol = get0(r, row, 6), *par = get0(r, row, 9);
	const char *config = get(r, row, 10), *body = get0(r, row, 11);
	unsigned char md[RIP_SHA256_LEN];
	char hex[RIP_SHA256_HEX];

	rip_buf_adds(&q->key, *kind == 'p' ? "procedure " : *kind == 'a' ?
		"aggregate " : "function ");
	qname(&q->key, get0(r, row, 0), get0(r, row, 1));
	rip_buf_addf(&q->key, "(%s)", get0(r, row, 2));
	if (res)
		rip_buf_addf(&q->val, "returns %s, ", res);
	rip_buf_addf(&q->val, "language %s, %s", get0(r, row, 5),
		*vol == 'i' ? "immutable" : *vol == 's' ? "stable" : "volatile");
	if (flag(r, row, 7))
		rip_buf_adds(&q->val, ", strict");
	if (flag(r, row, 8))
		rip_buf_adds(&q->val, ", security definer");
	if (*par == 's' || *par == 'r')
		rip_buf_addf(&q->val, ", parallel %s", *par == 's' ? "safe" :
			"restricted");
	if (config)
		rip_buf_addf(&q->val, ", set %s", config);
	rip_sha256(md, body, strlen(body));
	rip_hex(hex, md, RIP_SHA256_LEN);
	rip_buf_addf(&q->val, ", source %.16s", hex);
	comment(q, r, row, 12);
}

/* The body: prosrc, or for SQL-standard bodies (BEGIN ATOMIC, 14+) their
 * deparsed form, since prosrc is empty then. */
#define FUNCTIONS_SQL(body) \
	"SELECT n.nspname, p.proname, " \
	"pg_get_function_identity_arguments(p.oid), p.prokind, " \
	"pg_get_function_result(p.oid), l.lanname, p.provolatile, " \
	"p.proisstrict, p.prosecdef, p.proparallel, " \
	"array_to_string(p.proconfig, ', '), " body ", " \
	"obj_description(p.oid, 'pg_proc') FROM pg_proc p " \
	"JOIN pg_namespace n ON n.oid = p.pronamespace " \
	"JOIN pg_language l ON l.oid = p.prolang WHERE" USER_NS "AND" \
	NOT_EXT("pg_proc", "p.oid") "AND NOT EXISTS (SELECT 1 FROM pg_depend d " \
	"WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid " \
	"AND d.deptype = 'i') ORDER BY 1, 2, 3"

static const char functions_sql[] = FUNCTIONS_SQL("p.prosrc");
static const char functions14_sql[] = FUNCTIONS_SQL(
	"COALESCE(pg_get_function_sqlbody(p.oid), p.prosrc)");

static void trigger_row(struct pg *q, const struct rip_pg_res *r, size_t row)
{
	const char *on = get0(r, row, 5);

	rip_buf_adds(&q->key, "trigger ");
	rip_fp_ident(&q->key, get0(r, row, 2), false);
	rip_buf_adds(&q->key, " on ");
	qname(&q->key, get0(r, row, 0), get0(r, row, 1));
	add_without_name(&q->val, get0(r, row, 3), get0(r, row, 4));
	if (*on == 'D')
		rip_buf_adds(&q->val, ", disabled");
	else if (*on == 'R')
		rip_buf_adds(&q->val, ", enabled replica");
	else if (*on == 'A')
		rip_buf_adds(&q->val, ", enabled always");
	comment(q, r, row, 6);
}

static const char triggers_sql[] =
	"SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid), "
	"quote_ident(t.tgname), t.tgenabled, "
	"obj_description(t.oid, 'pg_trigger') FROM pg_trigger t "
	"JOIN pg_class c ON c.oid = t.tgrelid "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE NOT t.tgisinternal AND" USER_NS "AND" NOT_OURS "AND"
	NOT_EXT("pg_class", "c.oid") "ORDER BY 1, 2, 3";

static void type_row(struct pg *q, const struct rip_pg_res *r, size_t row)
{
	const char *kind = get0(r, row, 2), *what = get(r, row, 3);
	const char *def = get(r, row, 5), *checks = get(r, row, 6);

	rip_buf_adds(&q->key, *kind == 'd' ? "domain " : "type ");
	qname(&q->key, get0(r, row, 0), get0(r, row, 1));
	if (!what)
		what = "";
	if (*kind == 'e')
		rip_buf_addf(&q->val, "enum (%s)", what);
	else if (*kind == 'c')
		rip_buf_addf(&q->val, "composite (%s)", what);
	else if (*kind == 'r')
		rip_buf_addf(&q->val, "range of %s", what);
	else
		rip_buf_addf(&q->val, "type %s", what);
	if (flag(r, row, 4))
		rip_buf_adds(&q->val, ", not null");
	if (def) {
		rip_buf_adds(&q->val, ", default ");
		add_loose(q, def, false);
	}
	if (checks)
		rip_buf_addf(&q->val, ", %s", checks);
	comment(q, r, row, 7);
}

static const char types_sql[] =
	"SELECT n.nspname, t.typname, t.typtype, CASE t.typtype "
	"WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' "
	"ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) "
	"WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) "
	"WHEN 'r' THEN (SELECT format_type(g.rngsubtype, NULL) FROM pg_range g "
	"WHERE g.rngtypid = t.oid) "
	"WHEN 'c' THEN (SELECT string_agg(quote_ident(a.attname) || ' ' || "
	"format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) "
	"FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 "
	"AND NOT a.attisdropped) END, t.typnotnull, t.typdefault, "
	"(SELECT string_agg('constraint ' || quote_ident(k.conname) || ' ' || "
	"pg_get_constraintdef(k.oid), ', ' ORDER BY k.conname) "
	"FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'), "
	"obj_description(t.oid, 'pg_type') FROM pg_type t "
	"JOIN pg_namespace n ON n.oid = t.typnamespace WHERE" USER_NS "AND"
	NOT_EXT("pg_type", "t.oid") "AND (t.typtype IN ('e', 'd', 'r') OR "
	"(t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c "
	"WHERE c.oid = t.typrelid AND c.relkind = 'c'))) ORDER BY 1, 2";

/* The settings the deparsers' output depends on, pinned while reading. */
static const char *const settings[][2] = {
	{ "search_path", "pg_catalog, public" },
	{ "DateStyle", "ISO, MDY" },
	{ "IntervalStyle", "postgres" },
	{ "TimeZone", "UTC" },
	{ "extra_float_digits", "1" },
	{ "bytea_output", "hex" },
};

/* Sets every setting to vals[i] for the rest of the transaction. */
static int set_all(struct pg *q, const char *const *vals)
{
	size_t i;

	for (i = 0; i < RIP_ARRAY_SIZE(settings); i++) {
		const char *params[2] = { settings[i][0], vals[i] };

		if (rip_pg_query(NULL, q->conn, "SELECT set_config($1, $2, true)",
				2, params, q->err) < 0)
			return pg_fail(q, "session settings");
	}
	return 0;
}

/* Saves the current settings into saved (free it) and pins ours. */
static int pin_settings(struct pg *q, struct rip_pg_res **saved)
{
	const char *ours[RIP_ARRAY_SIZE(settings)];
	size_t i;

	if (rip_pg_query(saved, q->conn, "SELECT "
			"current_setting('search_path'), "
			"current_setting('DateStyle'), current_setting('IntervalStyle'), "
			"current_setting('TimeZone'), "
			"current_setting('extra_float_digits'), "
			"current_setting('bytea_output'), "
			"extract(epoch FROM clock_timestamp())::float8, "
			"(extract(epoch FROM now()::timestamp) - "
			"extract(epoch FROM now()))::bigint", 0, NULL, q->err) < 0)
		return pg_fail(q, "session settings");
	/* the server's clock and the session's zone, in which a "now"
	 * frozen by the migrations on this connection was written */
	rip_fp_window_init(&q->win, strtod(rip_pg_value(*saved, 0, 6), NULL),
		strtol(rip_pg_value(*saved, 0, 7), NULL, 10));
	for (i = 0; i < RIP_ARRAY_SIZE(settings); i++)
		ours[i] = settings[i][1];
	return set_all(q, ours);
}

static int restore_settings(struct pg *q, const struct rip_pg_res *saved)
{
	const char *vals[RIP_ARRAY_SIZE(settings)];
	size_t i;

	for (i = 0; i < RIP_ARRAY_SIZE(settings); i++)
		vals[i] = rip_pg_value(saved, 0, i);
	return set_all(q, vals);
}

static int pg_run(struct pg *q, const char *sql, const char *what)
{
	return rip_pg_exec(q->conn, sql, q->err) < 0 ? pg_fail(q, what) : 0;
}

static int read_all(struct pg *q)
{
	int rc;

	if ((rc = each(q, "schemas", schemas_sql, schema_row)) < 0 ||
			(rc = each(q, "extensions", extensions_sql,
				extension_row)) < 0 ||
			(rc = each(q, "tables and views", relations_sql,
				relation_row)) < 0 ||
			(rc = each(q, "columns", columns_sql, column_row)) < 0 ||
			(rc = each(q, "indexes", indexes_sql, index_row)) < 0 ||
			(rc = each(q, "constraints", constraints_sql,
				constraint_row)) < 0 ||
			(rc = each(q, "sequences", sequences_sql,
				sequence_row)) < 0 ||
			(rc = each(q, "functions", rip_pg_server_version(q->conn) >=
				140000 ? functions14_sql : functions_sql,
				function_row)) < 0 ||
			(rc = each(q, "triggers", triggers_sql, trigger_row)) < 0)
		return rc;
	return each(q, "types", types_sql, type_row);
}

int rip_fp_read_pg(struct rip_fingerprint *out, struct rip_pg *conn,
	bool strict, struct rip_err *err)
{
	struct pg q = { conn, out, strict, err, RIP_BUF_INIT, RIP_BUF_INIT,
		{ 0, 0, { 0, 0 } } };
	enum rip_pg_tx ts = rip_pg_tx(conn);
	bool own_txn = ts == RIP_PG_IDLE;
	struct rip_pg_res *saved = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (ts != RIP_PG_IDLE && ts != RIP_PG_INTRANS)
		return rip_err_set(err, RIP_EFAIL, "postgres fingerprint: the "
			"connection is %s", ts == RIP_PG_INERROR ? "in a failed "
			"transaction (roll it back first)" : "busy or broken");
	if (rip_pg_server_version(conn) < 120000)
		return rip_err_set(err, RIP_EFAIL, "postgres fingerprint: server "
			"version %d is too old (PostgreSQL 12 or later is needed)",
			rip_pg_server_version(conn));
	if (own_txn && (rc = pg_run(&q, "BEGIN ISOLATION LEVEL REPEATABLE READ "
			"READ ONLY", "snapshot")) < 0)
		return rc;
	if ((rc = pin_settings(&q, &saved)) == 0)
		rc = read_all(&q);
	if (own_txn) {
		int rc2 = pg_run(&q, rc ? "ROLLBACK" : "COMMIT", "snapshot");

		if (rc == 0)
			rc = rc2;
	} else if (rc == 0 || rip_pg_tx(conn) == RIP_PG_INTRANS) {
		int rc2 = saved ? restore_settings(&q, saved) : 0;

		if (rc == 0)
			rc = rc2;
	}
	rip_pg_res_free(saved);
	rip_buf_release(&q.key);
	rip_buf_release(&q.val);
	if (rc < 0) {
		rip_fp_release(out);
		return rc;
	}
	rip_fp_sort(out);
	return 0;
}
