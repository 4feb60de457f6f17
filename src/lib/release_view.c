/* SPDX-License-Identifier: MIT */
/*
 * release_view.c: the migrations of each release as the views show them
 * (status, releases, rollout status, the report, the metrics: everything
 * that reaches rip_schema_phase), read from state.db's release_migrations
 * table instead of from the release's artifact.
 *
 * One row per release: the sha256 of the artifact it describes and its
 * migrations as a JSON array of {id, checksum, baseline, irreversible,
 * no_transaction, contract}: what rip_migrate_status and the phase need,
 * and no SQL. Cut writes the row in the transaction that records the
 * release, from the list it normalised into the artifact, so the row says
 * what a verified read of the artifact says. A row is used only while its
 * sha256 is the release record's; without one (a release cut before
 * state.db schema 10) or with another, the view reads the verified
 * artifact as before and stores what it read, best effort: a store this
 * user cannot write, or one busy past the timeout, just reads again next
 * time.
 *
 * The trust boundary: nothing read here may run or apply a migration.
 * The rows carry no SQL, so nothing could be run from them; deploy,
 * rollback, rollout, migrate, drills and contract keep reading the
 * verified artifact (rip_release_migrations, verify.c).
 *
 * A row goes with its release (ON DELETE CASCADE), and gc deletes it
 * before the artifact, so a release half removed by a killed gc is read
 * (and refused) as its artifact says.
 *
 * Tuned for status at 3 a.m.: one small indexed read per release instead
 * of hashing, checking the signature of and decompressing an artifact of
 * hundreds of MiB.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/log.h"
#include "ripcord/release.h"
#include "json_internal.h"
#include "state_internal.h"
#include "banned.h"

/* The flags a row keeps, in the order of its JSON keys. */
static const struct {
	const char *key;
	size_t off;
} flags[] = {
	{ "baseline", offsetof(struct rip_migration, baseline) },
	{ "irreversible", offsetof(struct rip_migration, irreversible) },
	{ "no_transaction", offsetof(struct rip_migration, no_transaction) },
	{ "contract", offsetof(struct rip_migration, contract) },
};

static bool *flag_of(struct rip_migration *g, size_t i)
{
	return (bool *)((char *)g + flags[i].off);
}

/* The row's text for migs: ids, checksums and flags, compact JSON. */
static char *to_text(const struct rip_migrations *migs)
{
	json_t *a = json_array();
	char *text;

	for (size_t i = 0; i < migs->n; i++) {
		struct rip_migration *g = &migs->v[i];
		char hex[RIP_SHA256_HEX];
		json_t *o;

		rip_hex(hex, g->checksum, RIP_SHA256_LEN);
		o = json_pack("{s:s, s:s}", "id", g->id, "checksum", hex);
		for (size_t j = 0; j < RIP_ARRAY_SIZE(flags); j++)
			json_object_set_new(o, flags[j].key,
				json_boolean(*flag_of(g, j)));
		json_array_append_new(a, o);
	}
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text;
}

/* One item of a row into g; -1 when it is not what to_text writes. */
static int item_from(struct rip_migration *g, json_t *o)
{
	const char *id = json_string_value(json_object_get(o, "id"));
	const char *hex = json_string_value(json_object_get(o, "checksum"));
	const char *us;

	if (!id || !hex || !rip_migration_id_valid(id) ||
	    strlen(hex) != RIP_SHA256_HEX - 1 ||
	    rip_unhex(g->checksum, hex, RIP_SHA256_LEN) < 0)
		return -1;
	for (size_t j = 0; j < RIP_ARRAY_SIZE(flags); j++) {
		json_t *b = json_object_get(o, flags[j].key);

		if (!json_is_boolean(b))
			return -1;
		*flag_of(g, j) = json_is_true(b);
	}
	/* version and name as verify.c splits the artifact's ids */
	us = strchr(id, '_');
	g->id = rip_xstrdup(id);
	g->version = us ? rip_xstrndup(id, (size_t)(us - id)) :
			  rip_xstrdup(id);
	g->name = rip_xstrdup(us ? us + 1 : "");
	return 0;
}

/* A row's text into out; -1 (out empty) when it does not parse. */
static int from_text(struct rip_migrations *out, const char *text)
{
	json_t *a = json_loads(text, 0, NULL);
	int rc = json_is_array(a) ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < json_array_size(a); i++)
		rc = item_from(rip_migrations_add(out), json_array_get(a, i));
	json_decref(a);
	if (rc < 0)
		rip_migrations_release(out);
	return rc;
}

/*
 * The release record's sha256 into *sha (caller frees) and, when its row
 * describes that artifact and parses, the row into out with *hit true.
 * An unknown id is RIP_ENOTFOUND, as rip_state_release_get says it.
 */
static int lookup(struct rip_migrations *out, bool *hit, char **sha,
	struct rip_store *store, const char *id, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	*hit = false;
	*sha = NULL;
	if ((rc = rip_state_prepare(&s, store->state, "cannot read releases",
			"SELECT r.sha256, m.sha256 = r.sha256, m.migrations FROM "
			"releases r LEFT JOIN release_migrations m ON m.release = "
			"r.id WHERE r.id = ?", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, id);
	rc = rip_state_step(s, err);
	if (rc == 0)
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' not found in "
			"the store (see 'ripcord releases')", id);
	if (rc != RIP_STATE_ROW)
		goto done;
	rc = 0;
	*sha = rip_state_col_text(s, 0);
	if (rip_state_col_int64(s, 1) == 1 && rip_state_col_str(s, 2))
		*hit = from_text(out, rip_state_col_str(s, 2)) == 0;
	if (!*hit && rip_state_col_str(s, 2))
		rip_debug("the migrations state.db keeps of %s do not describe "
			"its artifact: reading the artifact", id);
done:
	rip_state_stmt_free(s);
	return rc;
}

/* Drops the SQL of every migration: a view's answer never carries any,
 * read from a row or from the artifact alike. */
static void strip_sql(struct rip_migrations *m)
{
	for (size_t i = 0; i < m->n; i++) {
		rip_sql_release(&m->v[i].up);
		rip_sql_release(&m->v[i].down);
		rip_sql_release(&m->v[i].verify);
	}
}

int rip_release_view_migrations(struct rip_migrations *out,
	struct rip_store *store, const char *id, const char *verify_key,
	struct rip_err *err)
{
	struct rip_err ignored = { 0 };
	char *sha = NULL;
	bool hit;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = lookup(out, &hit, &sha, store, id, err)) < 0 || hit)
		goto done;
	if ((rc = rip_release_migrations(out, store, id, verify_key,
			err)) < 0)
		goto done;
	if (rip_release_view_record(store, id, sha, out, &ignored) < 0)
		rip_debug("cannot keep the migrations of %s for the next view: "
			"%s", id, ignored.msg);
	strip_sql(out);
done:
	free(sha);
	return rc;
}

/* Moves the copies of ids out of one (newest release first, so the
 * first copy found of an id is its newest) into out. */
static void take_newest(struct rip_migrations *out, struct rip_strlist *found,
	struct rip_migrations *one, const struct rip_strlist *ids)
{
	for (size_t j = 0; j < one->n; j++) {
		struct rip_migration *g = &one->v[j];

		if (!rip_strlist_has(ids, g->id) || rip_strlist_has(found, g->id))
			continue;
		rip_strlist_push(found, g->id);
		*rip_migrations_add(out) = *g;
		memset(g, 0, sizeof(*g));
	}
}

int rip_release_view_newest(struct rip_migrations *out,
	struct rip_store *store, const char *verify_key,
	const struct rip_strlist *ids, struct rip_err *err)
{
	struct rip_strlist found = { 0 };
	struct rip_release_rec *v = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!ids->n)
		return 0;
	if ((rc = rip_state_release_list(&v, &n, store->state, err)) < 0)
		return rc;
	for (size_t i = n; found.n < ids->n && i-- > 0; ) {
		struct rip_migrations one;
		struct rip_err skip = { 0 };

		rc = rip_release_view_migrations(&one, store, v[i].id, verify_key,
			&skip);
		if (rc == RIP_ECONFIG) {   /* a lost verify_key fails them all */
			if (err)
				*err = skip;
			break;
		}
		rc = 0;
		if (skip.code) {
			rip_warn("release %s is left out of what the schema is ahead "
				"by: %s", v[i].id, skip.msg);
			continue;
		}
		take_newest(out, &found, &one, ids);
		rip_migrations_release(&one);
	}
	rip_strlist_release(&found);
	rip_release_recs_free(v, n);
	if (rc < 0)
		rip_migrations_release(out);
	return rc;
}

int rip_release_view_record(struct rip_store *store, const char *id,
	const char *sha256, const struct rip_migrations *migs,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	char *text = to_text(migs);
	int rc;

	if ((rc = rip_state_prepare(&s, store->state, "cannot record the "
			"migrations of a release", "INSERT OR REPLACE INTO "
			"release_migrations (release, sha256, migrations) VALUES "
			"(?, ?, ?)", err)) == 0) {
		rip_state_bind_text(s, 1, id);
		rip_state_bind_text(s, 2, sha256);
		rip_state_bind_text(s, 3, text);
		rc = rip_state_run(s, err);
		rip_state_stmt_free(s);
	}
	free(text);
	return rc;
}

int rip_release_view_forget(struct rip_store *store, const char *id,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, store->state, "cannot forget the "
			"migrations of a release", "DELETE FROM release_migrations "
			"WHERE release = ?", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, id);
	rc = rip_state_run(s, err);
	rip_state_stmt_free(s);
	return rc;
}
