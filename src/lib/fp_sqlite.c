/* SPDX-License-Identifier: MIT */
/*
 * fp_sqlite.c: the structural fingerprint of a SQLite schema, read from
 * the pragmas (table_xinfo, index_list, index_xinfo, foreign_key_list,
 * table_list) and not from sqlite_schema.sql, which SQLite rewrites on
 * RENAME and which a table rebuild replaces with the author's new text.
 * What has no pragma is read from that text, canonicalised (rip_fp_sql):
 * triggers and views whole, and, with the library's SQL scanner, the
 * CHECK constraints of a CREATE TABLE and the WHERE of a partial index.
 *
 * The key and value formats are listed in fp_read.h. Automatic indexes
 * are keyed by what they enforce, "unique T(a, b)" or "primary key T(a)",
 * because their sqlite_autoindex_T_N names change when a table is rebuilt.
 * CHECKs are keyed by name, or by expression when they have none, as
 * their order in the text is no part of the schema.
 *
 * Column collations and AUTOINCREMENT come from SQLite's column metadata
 * (rip_db_sqlite_column_meta). The SQLite driver's connection is read
 * through db_internal.h, since db_sqlite.c owns the SQLite calls. What the
 * fingerprint still misses: the expression of a generated column and of
 * an expression index (flagged as "(expression)"), DEFERRABLE on foreign
 * keys, and a virtual table's module.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/buf.h"
#include "fp_read.h"
#include "db_internal.h"
#include "sqltok.h"
#include "banned.h"

struct sq {
	struct rip_db *db;
	struct rip_fingerprint *fp;
	bool strict;
	struct rip_err *err;
	struct rip_fp_window win; /* non-strict: when "now" may be frozen */
};

/* "sqlite fingerprint: cannot read the columns of 'orders': <why>", the
 * why being what the driver put in q->err. */
static int sq_fail(struct sq *q, const char *what, const char *name)
{
	if (!name)
		return rip_err_prefix(q->err, "sqlite fingerprint: cannot read "
			"the %s", what);
	return rip_err_prefix(q->err, "sqlite fingerprint: cannot read the %s "
		"of '%s'", what, name);
}

/* Prepares sql and binds name (when not NULL) to ?1. */
static int sq_prepare(struct sq *q, struct rip_db_sqlite_stmt **out, const char *sql,
	const char *name, const char *what)
{
	if (rip_db_sqlite_prepare(out, q->db, sql, name, q->err) < 0)
		return sq_fail(q, what, name);
	return 0;
}

/* Column i as text, "" for NULL. */
static const char *col(struct rip_db_sqlite_stmt *s, int i)
{
	return rip_db_sqlite_col(s, i);
}

/* The end of a step loop: done (0) or the error; frees s. */
static int sq_done(struct sq *q, struct rip_db_sqlite_stmt *s, int step,
	const char *what, const char *name)
{
	int rc = step == 0 ? 0 : sq_fail(q, what, name);

	rip_db_sqlite_stmt_free(s);
	return rc;
}

/* The next row of s: RIP_DB_SQLITE_ROW, 0 when done, or the error. */
static int next(struct sq *q, struct rip_db_sqlite_stmt *s)
{
	return rip_db_sqlite_step(s, q->err);
}

static void add_upper(struct rip_buf *b, const char *s)
{
	size_t start = b->len, i;

	rip_fp_sql(b, s, true);
	for (i = start; i < b->len; i++)
		b->buf[i] = (char)toupper((unsigned char)b->buf[i]);
}

static void add_lower(struct rip_buf *b, const char *s)
{
	for (; *s; s++)
		rip_buf_addch(b, (char)tolower((unsigned char)*s));
}

/*
 * Appends canonical sql; in non-strict mode with a frozen "now" as a
 * placeholder and, for a view, its select list sorted.
 */
static void add_loose(struct rip_buf *b, const struct sq *q, const char *sql,
	bool view)
{
	struct rip_buf canon = RIP_BUF_INIT, sorted = RIP_BUF_INIT;

	if (q->strict) {
		rip_fp_sql(b, sql, true);
		return;
	}
	rip_fp_sql(&canon, sql, true);
	if (view)
		rip_fp_view_columns(&sorted, canon.buf);
	rip_fp_frozen_now(b, view ? sorted.buf : canon.buf, &q->win);
	rip_buf_release(&canon);
	rip_buf_release(&sorted);
}

/* Before 3.37 (no table_list, no STRICT) only WITHOUT ROWID can be told,
 * by whether the table has a rowid to select. */
static void table_flags_old(struct sq *q, struct rip_buf *val,
	const char *table)
{
	struct rip_buf sql = RIP_BUF_INIT;
	struct rip_db_sqlite_stmt *s = NULL;

	rip_buf_adds(&sql, "SELECT _rowid_ FROM main.");
	rip_fp_ident(&sql, table, false);
	if (rip_db_sqlite_prepare(&s, q->db, sql.buf, NULL, NULL) < 0)
		rip_buf_adds(val, "without rowid");
	rip_db_sqlite_stmt_free(s);
	rip_buf_release(&sql);
}

/* WITHOUT ROWID, STRICT and virtual, from pragma table_list (3.37+). */
static int table_flags(struct sq *q, struct rip_buf *val, const char *table)
{
	struct rip_db_sqlite_stmt *s;
	int rc, step;

	if (rip_db_sqlite_version() < 3037000) {
		table_flags_old(q, val, table);
		return 0;
	}
	if ((rc = sq_prepare(q, &s, "SELECT type, wr, strict FROM "
			"pragma_table_list(?1) WHERE schema = 'main'", table,
			"flags")) < 0)
		return rc;
	while ((step = next(q, s)) == RIP_DB_SQLITE_ROW) {
		if (!strcmp(col(s, 0), "virtual"))
			rip_buf_adds(val, "virtual");
		if (rip_db_sqlite_col_int(s, 1))
			rip_buf_adds(val, "without rowid");
		if (rip_db_sqlite_col_int(s, 2))
			rip_buf_adds(val, val->len ? ", strict" : "strict");
	}
	return sq_done(q, s, step, "flags", table);
}

static int read_table(struct sq *q, const char *table)
{
	struct rip_buf key = RIP_BUF_INIT, val = RIP_BUF_INIT;
	int rc;

	rip_buf_adds(&key, "table ");
	rip_fp_ident(&key, table, true);
	if ((rc = table_flags(q, &val, table)) == 0)
		rip_fp_add(q->fp, key.buf, "%s", val.buf);
	rip_buf_release(&key);
	rip_buf_release(&val);
	return rc;
}

/* Collation and AUTOINCREMENT, which table_xinfo does not report. */
static void column_meta(struct rip_buf *val, struct sq *q, const char *table,
	const char *column, bool *autoinc)
{
	const char *coll;

	if (rip_db_sqlite_column_meta(&coll, autoinc, q->db, table, column) < 0)
		return; /* virtual tables have no such metadata */
	if (coll && strcasecmp(coll, "BINARY")) {
		rip_buf_adds(val, ", collate ");
		for (; *coll; coll++)
			rip_buf_addch(val, (char)toupper((unsigned char)*coll));
	}
}

static void column_value(struct rip_buf *val, struct sq *q,
	const char *table, struct rip_db_sqlite_stmt *s)
{
	int pk = rip_db_sqlite_col_int(s, 5), hidden = rip_db_sqlite_col_int(s, 6);
	int npk = rip_db_sqlite_col_int(s, 7);
	bool autoinc = false;

	if (col(s, 2)[0]) {
		rip_buf_adds(val, "type ");
		add_upper(val, col(s, 2));
	} else {
		rip_buf_adds(val, "no type");
	}
	if (rip_db_sqlite_col_int(s, 3))
		rip_buf_adds(val, ", not null");
	if (!rip_db_sqlite_col_null(s, 4)) {
		rip_buf_adds(val, ", default ");
		add_loose(val, q, col(s, 4), false);
	}
	column_meta(val, q, table, col(s, 1), &autoinc);
	if (pk && npk > 1)
		rip_buf_addf(val, ", primary key %d", pk);
	else if (pk)
		rip_buf_adds(val, autoinc ? ", primary key autoincrement" :
			", primary key");
	if (hidden == 1)
		rip_buf_adds(val, ", hidden");
	else if (hidden == 2)
		rip_buf_adds(val, ", generated virtual");
	else if (hidden == 3)
		rip_buf_adds(val, ", generated stored");
	if (q->strict)
		rip_buf_addf(val, ", position %d", rip_db_sqlite_col_int(s, 0) + 1);
}

static int read_columns(struct sq *q, const char *table)
{
	struct rip_buf key = RIP_BUF_INIT, val = RIP_BUF_INIT;
	struct rip_db_sqlite_stmt *s;
	int rc, step;

	if ((rc = sq_prepare(q, &s, "SELECT cid, name, type, \"notnull\", "
			"dflt_value, pk, hidden, (SELECT count(*) FROM "
			"pragma_table_xinfo(?1) WHERE pk > 0) FROM "
			"pragma_table_xinfo(?1) ORDER BY cid", table,
			"columns")) < 0)
		return rc;
	while ((step = next(q, s)) == RIP_DB_SQLITE_ROW) {
		rip_buf_reset(&key);
		rip_buf_reset(&val);
		rip_buf_adds(&key, "column ");
		rip_fp_ident(&key, table, true);
		rip_buf_addch(&key, '.');
		rip_fp_ident(&key, col(s, 1), true);
		column_value(&val, q, table, s);
		rip_fp_add(q->fp, key.buf, "%s", val.buf);
	}
	rc = sq_done(q, s, step, "columns", table);
	rip_buf_release(&key);
	rip_buf_release(&val);
	return rc;
}

/*
 * Appends the key columns of an index, comma-separated: the names alone to
 * names (when not NULL), names with collation and order to spec.
 */
static int index_columns(struct sq *q, const char *index,
	struct rip_buf *names, struct rip_buf *spec)
{
	struct rip_buf name = RIP_BUF_INIT;
	struct rip_db_sqlite_stmt *s;
	int rc, step, n = 0;
	const char *p;

	if ((rc = sq_prepare(q, &s, "SELECT cid, name, \"desc\", coll FROM "
			"pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
			index, "index columns")) < 0)
		return rc;
	while ((step = next(q, s)) == RIP_DB_SQLITE_ROW) {
		int cid = rip_db_sqlite_col_int(s, 0);

		rip_buf_reset(&name);
		if (cid == -2)
			rip_buf_adds(&name, "(expression)");
		else if (cid == -1)
			rip_buf_adds(&name, "rowid");
		else
			rip_fp_ident(&name, col(s, 1), true);
		if (n++)
			rip_buf_adds(spec, ", ");
		rip_buf_adds(spec, name.buf);
		if (names) {
			if (n > 1)
				rip_buf_adds(names, ", ");
			rip_buf_adds(names, name.buf);
		}
		if (strcasecmp(col(s, 3), "BINARY")) {
			rip_buf_adds(spec, " COLLATE ");
			for (p = col(s, 3); *p; p++)
				rip_buf_addch(spec, (char)toupper((unsigned char)*p));
		}
		if (rip_db_sqlite_col_int(s, 2))
			rip_buf_adds(spec, " DESC");
	}
	rip_buf_release(&name);
	return sq_done(q, s, step, "index columns", index);
}

/*
 * CHECK constraints and the WHERE of a partial index have no pragma: they
 * are read from the stored CREATE text, with the library's SQL scanner,
 * and only there. The stored text is what SQLite keeps up to date on
 * RENAME, so names in it are current.
 */

/* The stored sql of the table or index name into out ("" if none). */
static int stored_sql(struct sq *q, struct rip_buf *out, bool index,
	const char *name)
{
	struct rip_db_sqlite_stmt *s;
	int rc, step;

	if ((rc = sq_prepare(q, &s, index ? "SELECT sql FROM sqlite_master "
			"WHERE type = 'index' AND name = ?1" : "SELECT sql FROM "
			"sqlite_master WHERE type = 'table' AND name = ?1", name,
			"definition")) < 0)
		return rc;
	while ((step = next(q, s)) == RIP_DB_SQLITE_ROW)
		rip_buf_adds(out, col(s, 0));
	return sq_done(q, s, step, "definition", name);
}

static bool word_is(const struct rip_sqltok *t, const char *w)
{
	size_t n = strlen(w);

	return t->kind == RIP_SQLTOK_WORD && t->end - t->start == n &&
		!strncasecmp(t->text + t->start, w, n);
}

/* The next token that is not white space or a comment. */
static bool code(struct rip_sqltok *t)
{
	while (rip_sqltok_next(t))
		if (t->kind != RIP_SQLTOK_SPACE && t->kind != RIP_SQLTOK_COMMENT)
			return true;
	return false;
}

/* Appends sql[start..end) canonicalised (it is not NUL-terminated). */
static void add_part(struct rip_buf *b, const char *sql, size_t start,
	size_t end)
{
	char *part = rip_xstrndup(sql + start, end - start);

	rip_fp_sql(b, part, true);
	free(part);
}

/* ", where EXPR" for a partial index, or ", partial" if it cannot be told. */
static int partial_where(struct sq *q, struct rip_buf *val, const char *index)
{
	struct rip_buf sql = RIP_BUF_INIT;
	struct rip_sqltok t;
	bool found = false;
	int rc, depth = 0;

	if ((rc = stored_sql(q, &sql, true, index)) < 0)
		goto done;
	rip_sqltok_init(&t, sql.buf, sql.len, 0, true);
	while (!found && code(&t)) {
		if (rip_sqltok_is(&t, '('))
			depth++;
		else if (rip_sqltok_is(&t, ')'))
			depth--;
		else if (depth == 0 && word_is(&t, "where"))
			found = true;
	}
	if (found) {
		rip_buf_adds(val, ", where ");
		add_part(val, sql.buf, t.end, sql.len);
	} else {
		rip_buf_adds(val, ", partial");
	}
done:
	rip_buf_release(&sql);
	return rc;
}

/*
 * A constraint's name, unquoted, into name: a word, "x", `x`, 'x' (the
 * quote doubled inside) or [x]; leaves t on its last token.
 */
static void name_of(struct rip_buf *name, struct rip_sqltok *t)
{
	const char *p = t->text + t->start, *end = t->text + t->end;
	char quote = *p;

	rip_buf_reset(name);
	if (t->kind == RIP_SQLTOK_WORD) {
		rip_buf_add(name, p, (size_t)(end - p));
		return;
	}
	if (rip_sqltok_is(t, '[')) {
		while (rip_sqltok_next(t) && !rip_sqltok_is(t, ']'))
			rip_buf_add(name, t->text + t->start, t->end - t->start);
		return;
	}
	for (p++, end--; p < end; p++) {
		rip_buf_addch(name, *p);
		if (*p == quote && p + 1 < end && p[1] == quote)
			p++;
	}
}

static void add_check(struct sq *q, const char *table, const char *name,
	const char *sql, size_t start, size_t end)
{
	struct rip_buf key = RIP_BUF_INIT, val = RIP_BUF_INIT;

	rip_buf_adds(&key, "check ");
	rip_fp_ident(&key, table, true);
	if (name) {
		rip_buf_addch(&key, '.');
		rip_fp_ident(&key, name, true);
		add_part(&val, sql, start, end);
	} else {
		rip_buf_addch(&key, '(');
		add_part(&key, sql, start, end);
		rip_buf_addch(&key, ')');
	}
	rip_fp_add(q->fp, key.buf, "%s", val.buf);
	rip_buf_release(&key);
	rip_buf_release(&val);
}

/*
 * Every CHECK of table, on a column or on the table, from its CREATE
 * TABLE text: "[CONSTRAINT name] CHECK (expr)" in the parenthesised body.
 * A virtual table's body is its module's arguments, and CREATE TABLE ...
 * AS SELECT has no constraints.
 */
static int read_checks(struct sq *q, const char *table)
{
	struct rip_buf sql = RIP_BUF_INIT, name = RIP_BUF_INIT;
	struct rip_sqltok t;
	bool named = false, body = false;
	int rc, depth = 0;

	if ((rc = stored_sql(q, &sql, false, table)) < 0)
		goto done;
	rip_sqltok_init(&t, sql.buf, sql.len, 0, true);
	while (code(&t)) {
		if (!body && (word_is(&t, "virtual") || word_is(&t, "as")))
			break;
		if (depth == 1 && word_is(&t, "constraint")) {
			if (!code(&t))
				break;
			name_of(&name, &t);
			named = true;
			continue;
		}
		if (depth == 1 && word_is(&t, "check")) {
			size_t open;
			int d = 1;

			if (!code(&t) || !rip_sqltok_is(&t, '('))
				break;
			open = t.end;
			while (d > 0 && code(&t))
				d += rip_sqltok_is(&t, '(') - rip_sqltok_is(&t, ')');
			add_check(q, table, named ? name.buf : NULL, sql.buf, open,
				d == 0 ? t.start : sql.len);
			named = false;
			continue;
		}
		named = false;
		if (rip_sqltok_is(&t, '(')) {
			body = true;
			depth++;
		} else if (rip_sqltok_is(&t, ')')) {
			depth--;
		}
	}
done:
	rip_buf_release(&sql);
	rip_buf_release(&name);
	return rc;
}

static int read_indexes(struct sq *q, const char *table)
{
	struct rip_buf key = RIP_BUF_INIT, val = RIP_BUF_INIT;
	struct rip_db_sqlite_stmt *s;
	int rc = 0, step;

	if ((rc = sq_prepare(q, &s, "SELECT name, \"unique\", origin, partial "
			"FROM pragma_index_list(?1) ORDER BY name", table,
			"indexes")) < 0)
		return rc;
	while ((step = next(q, s)) == RIP_DB_SQLITE_ROW) {
		const char *origin = col(s, 2);
		bool automatic = strcmp(origin, "c") != 0;

		rip_buf_reset(&key);
		rip_buf_reset(&val);
		if (automatic) {
			rip_buf_adds(&key, strcmp(origin, "pk") ? "unique " :
				"primary key ");
			rip_fp_ident(&key, table, true);
			rip_buf_addch(&key, '(');
		} else {
			rip_buf_adds(&key, "index ");
			rip_fp_ident(&key, col(s, 0), true);
			rip_buf_adds(&val, "on ");
			rip_fp_ident(&val, table, true);
			rip_buf_addch(&val, ' ');
		}
		rip_buf_addch(&val, '(');
		if ((rc = index_columns(q, col(s, 0), automatic ? &key : NULL,
				&val)) < 0)
			break;
		rip_buf_addch(&val, ')');
		if (automatic)
			rip_buf_addch(&key, ')');
		else if (rip_db_sqlite_col_int(s, 1))
			rip_buf_adds(&val, ", unique");
		if (rip_db_sqlite_col_int(s, 3) &&
				(rc = partial_where(q, &val, col(s, 0))) < 0)
			break;
		rip_fp_add(q->fp, key.buf, "%s", val.buf);
	}
	if (rc == 0)
		rc = sq_done(q, s, step, "indexes", table);
	else
		rip_db_sqlite_stmt_free(s);
	rip_buf_release(&key);
	rip_buf_release(&val);
	return rc;
}

/* "NO ACTION", "NONE" and the like are the defaults and left out. */
static void fk_action(struct rip_buf *val, const char *what, const char *v)
{
	if (!v[0] || !strcasecmp(v, "NO ACTION") || !strcasecmp(v, "NONE"))
		return;
	rip_buf_addf(val, ", %s ", what);
	add_lower(val, v);
}

/*
 * A REFERENCES without columns means the parent's primary key: spelled
 * out, so that both ways of writing one foreign key compare equal. Leaves
 * to empty when the parent has none (or does not exist).
 */
static int parent_key(struct sq *q, const char *parent, struct rip_buf *to)
{
	struct rip_db_sqlite_stmt *s;
	int rc, step;

	if ((rc = sq_prepare(q, &s, "SELECT name FROM pragma_table_info(?1) "
			"WHERE pk > 0 ORDER BY pk", parent, "primary key")) < 0)
		return rc;
	while ((step = next(q, s)) == RIP_DB_SQLITE_ROW) {
		if (to->len)
			rip_buf_adds(to, ", ");
		rip_fp_ident(to, col(s, 0), true);
	}
	return sq_done(q, s, step, "primary key", parent);
}

struct fk {
	char *parent;
	struct rip_buf from, to, tail;
	bool implicit;
};

static int fk_add(struct sq *q, const char *table, struct fk *fk)
{
	struct rip_buf key = RIP_BUF_INIT, val = RIP_BUF_INIT;
	int rc = 0;

	if (fk->implicit && (rc = parent_key(q, fk->parent, &fk->to)) < 0)
		goto done;
	rip_buf_adds(&key, "foreign key ");
	rip_fp_ident(&key, table, true);
	rip_buf_addf(&key, "(%s)", fk->from.buf);
	rip_buf_adds(&val, "references ");
	rip_fp_ident(&val, fk->parent, true);
	if (fk->to.len)
		rip_buf_addf(&val, "(%s)", fk->to.buf);
	rip_buf_adds(&val, fk->tail.buf);
	rip_fp_add(q->fp, key.buf, "%s", val.buf);
done:
	rip_buf_release(&key);
	rip_buf_release(&val);
	return rc;
}

/* Starts the foreign key whose first column is the current row. */
static void fk_start(struct fk *fk, struct rip_db_sqlite_stmt *s)
{
	free(fk->parent);
	fk->parent = rip_xstrdup(col(s, 1));
	rip_buf_reset(&fk->from);
	rip_buf_reset(&fk->to);
	rip_buf_reset(&fk->tail);
	fk_action(&fk->tail, "on update", col(s, 4));
	fk_action(&fk->tail, "on delete", col(s, 5));
	fk_action(&fk->tail, "match", col(s, 6));
	fk->implicit = rip_db_sqlite_col_null(s, 3);
}

/*
 * Foreign keys, keyed by table and columns: their ids are positions in
 * CREATE TABLE and change when constraints are declared in another order.
 */
static int read_foreign_keys(struct sq *q, const char *table)
{
	struct fk fk = { NULL, RIP_BUF_INIT, RIP_BUF_INIT, RIP_BUF_INIT, false };
	struct rip_db_sqlite_stmt *s;
	int rc, step, id = -1;

	if ((rc = sq_prepare(q, &s, "SELECT id, \"table\", \"from\", \"to\", "
			"on_update, on_delete, match FROM "
			"pragma_foreign_key_list(?1) ORDER BY id, seq", table,
			"foreign keys")) < 0)
		return rc;
	while ((step = next(q, s)) == RIP_DB_SQLITE_ROW) {
		if (rip_db_sqlite_col_int(s, 0) != id) {
			if (id >= 0 && (rc = fk_add(q, table, &fk)) < 0)
				break;
			id = rip_db_sqlite_col_int(s, 0);
			fk_start(&fk, s);
		} else {
			rip_buf_adds(&fk.from, ", ");
			if (!fk.implicit)
				rip_buf_adds(&fk.to, ", ");
		}
		rip_fp_ident(&fk.from, col(s, 2), true);
		if (!fk.implicit)
			rip_fp_ident(&fk.to, col(s, 3), true);
	}
	if (rc == 0 && id >= 0 && step == 0)
		rc = fk_add(q, table, &fk);
	if (rc == 0)
		rc = sq_done(q, s, step, "foreign keys", table);
	else
		rip_db_sqlite_stmt_free(s);
	free(fk.parent);
	rip_buf_release(&fk.from);
	rip_buf_release(&fk.to);
	rip_buf_release(&fk.tail);
	return rc;
}

static const char tables_sql[] =
	"SELECT name FROM sqlite_master WHERE type = 'table' "
	"AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
	"AND name <> 'ripcord_migrations' COLLATE NOCASE ORDER BY name";

static int read_tables(struct sq *q)
{
	struct rip_db_sqlite_stmt *s;
	int rc, step;

	if ((rc = sq_prepare(q, &s, tables_sql, NULL, "tables")) < 0)
		return rc;
	while ((step = next(q, s)) == RIP_DB_SQLITE_ROW) {
		char *name = rip_xstrdup(col(s, 0));

		if ((rc = read_table(q, name)) == 0 &&
				(rc = read_columns(q, name)) == 0 &&
				(rc = read_indexes(q, name)) == 0 &&
				(rc = read_checks(q, name)) == 0)
			rc = read_foreign_keys(q, name);
		free(name);
		if (rc < 0) {
			rip_db_sqlite_stmt_free(s);
			return rc;
		}
	}
	return sq_done(q, s, step, "tables", NULL);
}

/* Triggers and views: SQLite keeps no catalog of them but their text. */
static int read_triggers_views(struct sq *q)
{
	struct rip_buf key = RIP_BUF_INIT, val = RIP_BUF_INIT;
	struct rip_db_sqlite_stmt *s;
	int rc, step;

	if ((rc = sq_prepare(q, &s, "SELECT type, name, tbl_name, sql FROM "
			"sqlite_master WHERE type IN ('trigger', 'view') AND "
			"tbl_name <> 'ripcord_migrations' COLLATE NOCASE "
			"ORDER BY type, name", NULL, "triggers and views")) < 0)
		return rc;
	while ((step = next(q, s)) == RIP_DB_SQLITE_ROW) {
		bool trigger = !strcmp(col(s, 0), "trigger");

		rip_buf_reset(&key);
		rip_buf_reset(&val);
		rip_buf_adds(&key, trigger ? "trigger " : "view ");
		rip_fp_ident(&key, col(s, 1), true);
		if (trigger) {
			rip_buf_adds(&val, "on ");
			rip_fp_ident(&val, col(s, 2), true);
			rip_buf_adds(&val, ": ");
		}
		if (trigger)
			rip_fp_sql(&val, col(s, 3), true);
		else
			add_loose(&val, q, col(s, 3), true);
		rip_fp_add(q->fp, key.buf, "%s", val.buf);
	}
	rc = sq_done(q, s, step, "triggers and views", NULL);
	rip_buf_release(&key);
	rip_buf_release(&val);
	return rc;
}

int rip_fp_read_sqlite(struct rip_fingerprint *out, struct rip_db *db,
	bool strict, struct rip_err *err)
{
	struct sq q = { db, out, strict, err, { 0, 0, { 0, 0 } } };
	bool own_txn = !rip_db_sqlite_in_tx(db);
	int rc;

	memset(out, 0, sizeof(*out));
	rip_fp_window_local(&q.win);
	/* one read transaction: one consistent view of the schema */
	if (own_txn && rip_db_sqlite_exec(db, "BEGIN", err) < 0)
		return sq_fail(&q, "tables", NULL);
	if ((rc = read_tables(&q)) == 0)
		rc = read_triggers_views(&q);
	if (own_txn)
		(void)rip_db_sqlite_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL);
	if (rc < 0) {
		rip_fp_release(out);
		return rc;
	}
	rip_fp_sort(out);
	return 0;
}
