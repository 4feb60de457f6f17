/* SPDX-License-Identifier: MIT */
/*
 * pg.c: the library's one door to libpq (pg.h). It owns the PGconn and
 * PGresult lifetimes and turns libpq's way of failing (a status to test,
 * a message with a trailing newline kept on the connection or the result)
 * into struct rip_err.
 *
 * Messages keep the server's words: "ERROR:  relation "x" does not exist"
 * for statements, the primary message alone for migration scripts (their
 * caller adds file:line). A conninfo appears in a message only through
 * rip_pg_mask, so a password in [migrations] database never reaches a log.
 * Tuned for nothing: every call is one round trip, results are small.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ripcord/buf.h"
#include "lazy.h"
#include "pg.h"
#include "banned.h"

/* libpq, loaded by the first connection (lazy.h): most commands never
 * talk to PostgreSQL, and libpq pulls in Kerberos, LDAP and TLS. */
#define PQ_FUNCS(X) \
	X(PQclear) \
	X(PQcmdTuples) \
	X(PQconnectdb) \
	X(PQconninfoFree) \
	X(PQconninfoParse) \
	X(PQerrorMessage) \
	X(PQexec) \
	X(PQexecParams) \
	X(PQfinish) \
	X(PQfreemem) \
	X(PQgetisnull) \
	X(PQgetvalue) \
	X(PQntuples) \
	X(PQreset) \
	X(PQresultErrorField) \
	X(PQresultErrorMessage) \
	X(PQresultStatus) \
	X(PQserverVersion) \
	X(PQsetNoticeProcessor) \
	X(PQstatus) \
	X(PQtransactionStatus)

static struct {
	PQ_FUNCS(RIP_LAZY_SLOT)
} pq;
static const char *const pq_names[] = { PQ_FUNCS(RIP_LAZY_NAME) };
static struct rip_lazy libpq = RIP_LAZY_INIT("libpq.so.5", "libpq",
	pq_names, &pq);

struct rip_pg {
	PGconn *conn;
};

struct rip_pg_res {
	PGresult *r;
};

/* Sets err to prefix + msg, without msg's trailing newline. */
static int pg_msg(struct rip_err *err, const char *prefix, const char *msg)
{
	size_t len = msg ? strlen(msg) : 0;

	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	return rip_err_set(err, RIP_EFAIL, "%s%.*s", prefix, (int)len,
		msg ? msg : "");
}

/* ------------------------------------------------------------------ */
/* conninfo */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		c == '\v';
}

/* Masks the password of a postgres:// URI: user:PASS@ and ?password=. */
static void mask_uri(struct rip_buf *b, const char *s)
{
	const char *auth = strstr(s, "://") + 3;
	size_t alen = strcspn(auth, "/?");
	const char *at = NULL, *colon, *q;

	for (const char *p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p;
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon) {
		rip_buf_add(b, s, (size_t)(colon + 1 - s));
		rip_buf_adds(b, "***");
		s = at;
	}
	q = strchr(s, '?');
	if (!q) {
		rip_buf_adds(b, s);
		return;
	}
	rip_buf_add(b, s, (size_t)(q - s));
	while (*q) {
		size_t n = strcspn(q + 1, "&");

		rip_buf_addch(b, *q++);
		if (!strncmp(q, "password=", 9) && n >= 9) {
			rip_buf_adds(b, "password=***");
		} else {
			rip_buf_add(b, q, n);
		}
		q += n;
	}
}

/* Masks the password of key=value pairs, quoted or not. */
static void mask_pairs(struct rip_buf *b, const char *s)
{
	while (*s) {
		const char *key = s, *v;
		size_t klen;

		while (*s && !is_space(*s) && *s != '=')
			s++;
		klen = (size_t)(s - key);
		while (is_space(*s))
			s++;
		if (*s != '=') {
			rip_buf_add(b, key, (size_t)(s - key));
			continue;
		}
		s++;
		while (is_space(*s))
			s++;
		v = s;
		if (*s == '\'') {
			for (s++; *s && *s != '\''; s++)
				if (*s == '\\' && s[1])
					s++;
			if (*s)
				s++;
		} else {
			while (*s && !is_space(*s))
				s++;
		}
		if (klen == 8 && !strncmp(key, "password", 8)) {
			rip_buf_add(b, key, (size_t)(v - key));
			rip_buf_adds(b, "***");
		} else {
			rip_buf_add(b, key, (size_t)(s - key));
		}
		while (is_space(*s))
			rip_buf_addch(b, *s++);
	}
}

char *rip_pg_mask(const char *conninfo)
{
	struct rip_buf b = RIP_BUF_INIT;

	if (!conninfo)
		return rip_xstrdup("");
	if (!strncmp(conninfo, "postgresql://", 13) ||
	    !strncmp(conninfo, "postgres://", 11))
		mask_uri(&b, conninfo);
	else
		mask_pairs(&b, conninfo);
	return rip_buf_detach(&b, NULL);
}

/* Appends k='v' to a conninfo, quoting as libpq reads it. */
static void add_kv(struct rip_buf *b, const char *k, const char *v)
{
	if (b->len)
		rip_buf_addch(b, ' ');
	rip_buf_addf(b, "%s='", k);
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			rip_buf_addch(b, '\\');
		rip_buf_addch(b, *v);
	}
	rip_buf_addch(b, '\'');
}

int rip_pg_conninfo_with_db(char **out, const char *conninfo,
	const char *dbname, struct rip_err *err)
{
	struct rip_buf b = RIP_BUF_INIT;
	PQconninfoOption *opts;
	const char *own = NULL;
	char *msg = NULL;
	int rc;

	*out = NULL;
	if ((rc = rip_lazy_load(&libpq, err)) < 0)
		return rc;
	opts = pq.PQconninfoParse(conninfo, &msg);
	if (!opts) {
		rc = rip_err_set(err, RIP_ECONFIG, "%s", msg ? msg :
			"out of memory");
		pq.PQfreemem(msg);
		return rc;
	}
	for (const PQconninfoOption *p = opts; p->keyword; p++) {
		if (!p->val)
			continue;
		if (strcmp(p->keyword, "dbname"))
			add_kv(&b, p->keyword, p->val);
		else if (p->val[0])
			own = p->val;
	}
	add_kv(&b, "dbname", dbname ? dbname : own ? own : "postgres");
	pq.PQconninfoFree(opts);
	*out = rip_buf_detach(&b, NULL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* connections */

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;  /* NOTICEs ("relation exists, skipping") are noise */
}

int rip_pg_connect(struct rip_pg **out, const char *conninfo,
	struct rip_err *err)
{
	struct rip_pg *pg;
	char *masked, *prefix;
	int rc;

	*out = NULL;
	if ((rc = rip_lazy_load(&libpq, err)) < 0)
		return rc;
	pg = rip_xcalloc(1, sizeof(*pg));
	pg->conn = pq.PQconnectdb(conninfo);
	if (pq.PQstatus(pg->conn) != CONNECTION_OK) {
		masked = rip_pg_mask(conninfo);
		prefix = rip_xasprintf("cannot connect to postgres '%s': ",
			masked);
		rc = pg_msg(err, prefix, pq.PQerrorMessage(pg->conn));
		free(prefix);
		free(masked);
		rip_pg_free(pg);
		return rc;
	}
	pq.PQsetNoticeProcessor(pg->conn, quiet, NULL);
	*out = pg;
	return 0;
}

void rip_pg_free(struct rip_pg *pg)
{
	if (!pg)
		return;
	pq.PQfinish(pg->conn);
	free(pg);
}

enum rip_pg_tx rip_pg_tx(const struct rip_pg *pg)
{
	switch (pq.PQtransactionStatus(pg->conn)) {
	case PQTRANS_IDLE:
		return RIP_PG_IDLE;
	case PQTRANS_INTRANS:
		return RIP_PG_INTRANS;
	case PQTRANS_INERROR:
		return RIP_PG_INERROR;
	default:
		return RIP_PG_BROKEN;
	}
}

int rip_pg_server_version(const struct rip_pg *pg)
{
	return pq.PQserverVersion(pg->conn);
}

/* ------------------------------------------------------------------ */
/* statements */

static bool ok(const PGresult *r, bool empty_ok)
{
	ExecStatusType st = pq.PQresultStatus(r);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
		(empty_ok && st == PGRES_EMPTY_QUERY);
}

int rip_pg_query(struct rip_pg_res **out, struct rip_pg *pg,
	const char *sql, size_t nparams, const char *const *params,
	struct rip_err *err)
{
	PGresult *r;
	int rc;

	if (out)
		*out = NULL;
	if (nparams > 65535)
		return rip_err_set(err, RIP_EFAIL, "postgres: too many "
			"parameters (%zu)", nparams);
	r = nparams ? pq.PQexecParams(pg->conn, sql, (int)nparams, NULL, params,
		NULL, NULL, 0) : pq.PQexec(pg->conn, sql);
	if (!ok(r, false)) {
		rc = pg_msg(err, "", r ? pq.PQresultErrorMessage(r) :
			pq.PQerrorMessage(pg->conn));
		pq.PQclear(r);
		return rc;
	}
	if (!out) {
		pq.PQclear(r);
		return 0;
	}
	*out = rip_xcalloc(1, sizeof(**out));
	(*out)->r = r;
	return 0;
}

int rip_pg_exec(struct rip_pg *pg, const char *sql, struct rip_err *err)
{
	return rip_pg_query(NULL, pg, sql, 0, NULL, err);
}

int rip_pg_exec_script(size_t *pos, struct rip_pg *pg, const char *sql,
	struct rip_err *err)
{
	PGresult *r = pq.PQexec(pg->conn, sql);
	int rc = 0;

	*pos = 0;
	if (!ok(r, true)) {
		const char *at = pq.PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
		const char *msg = pq.PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

		*pos = at ? strtoul(at, NULL, 10) : 0;
		rc = msg ? rip_err_set(err, RIP_EFAIL, "%s", msg) :
			pg_msg(err, "", r ? pq.PQresultErrorMessage(r) :
				pq.PQerrorMessage(pg->conn));
	}
	pq.PQclear(r);
	return rc;
}

void rip_pg_rollback(struct rip_pg *pg)
{
	pq.PQclear(pq.PQexec(pg->conn, "ROLLBACK"));
}

/* ------------------------------------------------------------------ */
/* results */

size_t rip_pg_rows(const struct rip_pg_res *r)
{
	int n = pq.PQntuples(r->r);

	return n > 0 ? (size_t)n : 0;
}

const char *rip_pg_get(const struct rip_pg_res *r, size_t row, size_t col)
{
	return pq.PQgetisnull(r->r, (int)row, (int)col) ? NULL :
		pq.PQgetvalue(r->r, (int)row, (int)col);
}

const char *rip_pg_value(const struct rip_pg_res *r, size_t row, size_t col)
{
	return pq.PQgetvalue(r->r, (int)row, (int)col);
}

bool rip_pg_flag(const struct rip_pg_res *r, size_t row, size_t col)
{
	return !strcmp(pq.PQgetvalue(r->r, (int)row, (int)col), "t");
}

uint64_t rip_pg_changed(const struct rip_pg_res *r)
{
	return strtoull(pq.PQcmdTuples(r->r), NULL, 10);
}

void rip_pg_res_free(struct rip_pg_res *r)
{
	if (!r)
		return;
	pq.PQclear(r->r);
	free(r);
}

/* ------------------------------------------------------------------ */
/* scratch databases */

/* name as a quoted identifier: "name", quotes doubled. */
static void add_ident(struct rip_buf *b, const char *name)
{
	rip_buf_addch(b, '"');
	for (; *name; name++) {
		if (*name == '"')
			rip_buf_addch(b, '"');
		rip_buf_addch(b, *name);
	}
	rip_buf_addch(b, '"');
}

int rip_pg_database_create(struct rip_pg *admin, const char *name,
	struct rip_err *err)
{
	struct rip_buf sql = RIP_BUF_INIT;
	int rc;

	rip_buf_adds(&sql, "CREATE DATABASE ");
	add_ident(&sql, name);
	rc = rip_pg_exec(admin, sql.buf, err);
	rip_buf_release(&sql);
	return rc;
}

int rip_pg_database_drop(struct rip_pg *admin, const char *name,
	struct rip_err *err)
{
	struct rip_buf sql = RIP_BUF_INIT;
	int rc;

	if (pq.PQstatus(admin->conn) != CONNECTION_OK)
		pq.PQreset(admin->conn);
	rip_buf_adds(&sql, "DROP DATABASE IF EXISTS ");
	add_ident(&sql, name);
	/* FORCE (13+) ends sessions a failed migration may have left */
	if (pq.PQserverVersion(admin->conn) >= 130000)
		rip_buf_adds(&sql, " WITH (FORCE)");
	rc = rip_pg_exec(admin, sql.buf, err);
	rip_buf_release(&sql);
	return rc;
}
