/* SPDX-License-Identifier: MIT */
/*
 * extract_internal.h: what extract_dest.c lends extract.c: the
 * destinations of one extraction, each a temporary folder filled through
 * folder fds and renamed into place at the end, all or nothing; and what
 * verify.c lends it for a drill's one-pass extraction (at the end).
 *
 * extract.c owns the stream and every check of what an entry may be;
 * these functions only put an entry that passed them into every
 * destination of the current batch, never through a symlink. Each reports
 * its failures to the err given to rip_dests_new (borrowed for d's life);
 * entry and rel name the entry in the artifact ("payload/x") and below
 * the destination ("x") for the messages.
 */
#ifndef RIPCORD_EXTRACT_INTERNAL_H
#define RIPCORD_EXTRACT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "ripcord/err.h"

struct rip_artifact_sink;
struct rip_dests;
struct rip_migrations;
struct rip_store;
struct rip_verify_result;

/* The destinations dests[0..n), nothing made on disk yet. Never NULL. */
struct rip_dests *rip_dests_new(const char *const *dests, size_t n,
	struct rip_err *err);
/* Closes every fd and frees d; when failed, removes every temporary
 * folder not renamed. rip_dests_free(NULL, ...) does nothing. */
void rip_dests_free(struct rip_dests *d, bool failed);

/* What can be refused before any work: no dest, one that exists, one
 * folder named twice. */
int rip_dests_check(struct rip_dests *d);
/* Creates each destination's temporary dot-folder beside it. */
int rip_dests_make_temps(struct rip_dests *d);

/* Moves to the next batch that fits within RLIMIT_NOFILE; false when
 * every destination has had its batch. */
bool rip_dests_next_batch(struct rip_dests *d);
/* Opens the root of each destination of the batch, before its stream. */
int rip_dests_batch_open(struct rip_dests *d);
/* After the batch's stream: each destination synced, its fds closed. */
int rip_dests_batch_close(struct rip_dests *d);
/* The destinations are thrown away afterwards (a drill's scratch): they
 * are not made durable before their rename. */
void rip_dests_scratch(struct rip_dests *d);

/* Creates file rel, 0600, in every destination of the batch. */
int rip_dests_open_files(struct rip_dests *d, const char *entry,
	const char *rel);
/* One block to the file open in every destination of the batch. */
int rip_dests_write(struct rip_dests *d, const char *rel, const void *buf,
	size_t len);
/* Closes what rip_dests_open_files opened; with rc 0 so far, each file
 * gets mode first. Returns rc, or the first error when rc was 0. */
int rip_dests_close_files(struct rip_dests *d, const char *rel,
	unsigned mode, int rc);
/* Creates symlink rel -> target in every destination of the batch. */
int rip_dests_symlink(struct rip_dests *d, const char *entry,
	const char *rel, const char *target);
/* Creates folder rel (unless made already) in every destination. */
int rip_dests_mkdir(struct rip_dests *d, const char *entry, const char *rel);

/* Every folder renamed to its dest (never over anything), then every
 * parent fsynced; on failure the renames made are taken back. */
int rip_dests_commit(struct rip_dests *d);

/*
 * rip_verify_release (and, when migs is not NULL, rip_release_migrations)
 * of release id, each entry of its artifact handed to sink as the one
 * decompression of it streams past (artifact.h). Returns 0 only when the
 * whole artifact verified: only then may what sink made of it be trusted.
 * On failure migs is empty.
 */
int rip_verify_release_sink(struct rip_verify_result *out,
	struct rip_migrations *migs, struct rip_store *store, const char *id,
	const char *verify_key, const struct rip_artifact_sink *sink,
	struct rip_err *err);

/* rip_verify_file of the artifact at path, handing sink every entry as
 * rip_verify_release_sink does. */
int rip_verify_file_sink(struct rip_verify_result *out, const char *path,
	const char *expect_sha256, const char *expect_id,
	const struct rip_artifact_sink *sink, struct rip_err *err);

#endif
