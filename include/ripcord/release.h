/* SPDX-License-Identifier: MIT */
/*
 * release.h: cutting a release into the store, and verifying an artifact.
 */
#ifndef RIPCORD_RELEASE_H
#define RIPCORD_RELEASE_H

#include "ripcord/config.h"
#include "ripcord/digest.h"
#include "ripcord/manifest.h"
#include "ripcord/migration.h"
#include "ripcord/store.h"
#include "ripcord/strlist.h"

struct rip_cut_opts {
	const char *rev;          /* default "HEAD" */
	const char *id;           /* default: git describe --tags --always */
	bool tag;                 /* create the annotated tag release/<id> */
	/* called now and then while packaging; may be NULL */
	void (*progress)(void *data, size_t done, size_t total);
	void *progress_data;
};

struct rip_cut_result {
	char *id;
	char *path;               /* the artifact in the store */
	char *parent;             /* NULL for the first release */
	char commit[41];
	char tree[41];
	char sha256[RIP_SHA256_HEX];
	uint64_t size;
	uint64_t files;
	uint64_t bytes;
	size_t migrations;
	size_t lint;              /* lint findings in them, each warned about */
	bool is_signed;
	bool unchanged;           /* the same release was already in the store */
	bool restored;            /* ... and its missing or damaged artifact or
				     signature was put back */
};

/*
 * Packages opts->rev into the store of cfg (DESIGN.md §4), signs it when
 * signing_key is set, records it in state.db, and optionally tags it.
 * Holds the store lock throughout. On failure nothing is left in the store
 * under a real name. Secrets in the tree are RIP_ESECURITY naming every
 * offending path; an id taken by other content is RIP_EEXISTS. Cutting a
 * recorded release again restores its artifact and signature if they were
 * lost, since the recorded digest proves the new bytes are the same.
 */
RIP_MUST_CHECK int rip_cut(struct rip_cut_result *out,
	const struct rip_config *cfg, const struct rip_cut_opts *opts,
	struct rip_err *err);
void rip_cut_result_release(struct rip_cut_result *r);

struct rip_verify_result {
	char *id;                 /* from MANIFEST */
	char *path;
	char sha256[RIP_SHA256_HEX];
	uint64_t files;
	uint64_t links;
	size_t migrations;
	bool is_signed;           /* a .sig file is beside it */
	bool sig_checked;         /* ... and was verified with verify_key */
	struct rip_manifest *manifest;   /* its MANIFEST, once verified */
};

/*
 * Verifies the artifact at path: its digest against expect_sha256 (when
 * not NULL), its signature (required when verify_key is not NULL), every
 * entry against SHA256SUMS and LINKS and the reverse, and MANIFEST against
 * the entries and expect_id (when not NULL). Any mismatch is
 * RIP_EINTEGRITY or RIP_ESECURITY naming the entry, expected and actual.
 */
RIP_MUST_CHECK int rip_verify_file(struct rip_verify_result *out,
	const char *path, const char *expect_sha256, const char *expect_id,
	const char *verify_key, struct rip_err *err);

/*
 * 0 when verify_key is NULL (signatures are not required) or names a file
 * that exists; else RIP_ECONFIG naming it. A configured key that is gone
 * never means "accept unsigned": every reader of artifacts refuses then.
 */
RIP_MUST_CHECK int rip_verify_key_check(const char *verify_key,
	struct rip_err *err);

/* Verifies release id of the store against its state.db record. */
RIP_MUST_CHECK int rip_verify_release(struct rip_verify_result *out,
	struct rip_store *store, const char *id, const char *verify_key,
	struct rip_err *err);
void rip_verify_result_release(struct rip_verify_result *r);

/*
 * Verifies release id exactly as rip_verify_release does and returns the
 * migrations it carries, in apply order, flags read from their markers.
 * Nothing from an artifact is used before the whole artifact verified.
 */
RIP_MUST_CHECK int rip_release_migrations(struct rip_migrations *out,
	struct rip_store *store, const char *id, const char *verify_key,
	struct rip_err *err);

/*
 * For views only (status, releases, rollout status, the report, the
 * metrics): never to run, apply or plan a migration.
 * The migrations release id carries, in apply order, with ids, flags and
 * checksums as rip_release_migrations reads them but no SQL (up, down and
 * verify are absent), from the copy state.db keeps of them (cut writes
 * it), so no artifact is read. A release without that copy (cut before
 * state.db schema 10), or whose copy names another sha256 than its
 * record, is read as rip_release_migrations reads it (verified; errors as
 * there) and the copy is stored when state.db can be written. An unknown
 * id is RIP_ENOTFOUND.
 */
RIP_MUST_CHECK int rip_release_view_migrations(struct rip_migrations *out,
	struct rip_store *store, const char *id, const char *verify_key,
	struct rip_err *err);

/*
 * For views only, as rip_release_view_migrations: of each of ids, the
 * copy the newest release of the store carrying it has (ids no release
 * carries are left out), reading releases newest first only as far as
 * needed. A release that cannot be read is skipped with a warning; a
 * verify_key that is set but missing is RIP_ECONFIG.
 */
RIP_MUST_CHECK int rip_release_view_newest(struct rip_migrations *out,
	struct rip_store *store, const char *verify_key,
	const struct rip_strlist *ids, struct rip_err *err);

/*
 * Records in state.db what views read of release id: the migrations of
 * its artifact whose digest is sha256 (hex), ids, flags and checksums,
 * replacing any copy it had. migs are the artifact's, as cut wrote them
 * or rip_release_migrations read them back. RIP_EDB when the store does
 * not record id.
 */
RIP_MUST_CHECK int rip_release_view_record(struct rip_store *store,
	const char *id, const char *sha256, const struct rip_migrations *migs,
	struct rip_err *err);

/* Deletes what views read of release id (gc, before its artifact goes);
 * 0 when there was nothing. */
RIP_MUST_CHECK int rip_release_view_forget(struct rip_store *store,
	const char *id, struct rip_err *err);

/*
 * As rip_release_migrations, for the artifact file at path, wherever it
 * is: its entries against its own SHA256SUMS and LINKS, its signature when
 * verify_key is not NULL; no store record to check its digest against.
 */
RIP_MUST_CHECK int rip_file_migrations(struct rip_migrations *out,
	const char *path, const char *verify_key, struct rip_err *err);

/*
 * The migrations of every release in the store, newest release first:
 * where the downs are. An artifact that fails verification is skipped
 * with a warning, so one damaged release never blocks a rollback whose
 * downs others carry; a verify_key that is set but missing fails them all
 * and is RIP_ECONFIG (rip_verify_key_check), not a warning per release. enough (may be NULL: read them all) is told of each
 * migration added; once it has returned true, no older release is read
 * (nor verified).
 */
typedef bool (*rip_sources_enough_fn)(void *data,
	const struct rip_migration *added);
RIP_MUST_CHECK int rip_release_all_migrations(struct rip_migrations *out,
	struct rip_store *store, const char *verify_key,
	rip_sources_enough_fn enough, void *data, struct rip_err *err);

#endif
