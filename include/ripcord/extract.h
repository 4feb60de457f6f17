/* SPDX-License-Identifier: MIT */
/*
 * extract.h: unpacking a release's payload onto disk, securely.
 *
 * The artifact is read twice (a drill's scratch copy: once, see
 * rip_extract_verify_scratch): once defensively for its lists (SHA256SUMS
 * and LINKS sort after payload/), then streamed, every entry checked
 * against those lists as it passes, written below a temporary dot-folder
 * beside the destination, which is renamed into place only when everything
 * matched. Nothing is written through a symlink, no path leaves
 * the folder, no device, fifo, hard link or setuid bit is created, and the
 * expansion ratio is bounded (the reader's rules, artifact.h). One stream
 * can fill many destinations at once (a deploy to many roots), each block
 * written to each of them.
 */
#ifndef RIPCORD_EXTRACT_H
#define RIPCORD_EXTRACT_H

#include "ripcord/err.h"

struct rip_migrations;
struct rip_store;
struct rip_verify_result;

struct rip_extract_result {
	uint64_t files;
	uint64_t bytes;
	uint64_t links;
};

/*
 * Extracts the payload/ of the artifact at artifact_path into dest (which
 * must not exist; its parent must, and must not be a symlink: that is
 * RIP_ESECURITY naming it): payload/x becomes dest/x, with the
 * modes of the artifact (0644/0755 files, 0755 folders, symlinks as
 * written). The artifact must already have been verified (rip_verify_*);
 * the digests are checked again while streaming, against the SHA256SUMS
 * inside the artifact, so a file swapped between verify and extract is
 * caught. On failure *out is zeroed and dest is as it was: RIP_EEXISTS
 * when it exists, RIP_ENOTFOUND when the artifact or dest's parent is
 * missing, RIP_EINTEGRITY or RIP_ESECURITY naming the entry, RIP_EIO
 * naming the path.
 */
RIP_MUST_CHECK int rip_extract_payload(struct rip_extract_result *out,
	const char *artifact_path, const char *dest, struct rip_err *err);

/*
 * rip_extract_payload into each of dests[0..n) (n >= 1), decompressing and
 * checking the artifact once for all of them (more than once only when
 * the process's open-file limit cannot hold every destination's
 * descriptors at the same time), with the same guarantees, all or
 * nothing: on success every dest holds the same tree and *out counts one
 * of them; on failure *out is zeroed and no dest appears, nor any
 * temporary folder. Dests may lie on different file systems; each must
 * not exist (RIP_EEXISTS naming the first that does, before any work),
 * and naming one folder twice is RIP_EUSAGE. Other codes as above, the
 * message naming the dest that failed.
 */
RIP_MUST_CHECK int rip_extract_payload_many(struct rip_extract_result *out,
	const char *artifact_path, const char *const *dests, size_t n,
	struct rip_err *err);

/*
 * A drill's scratch copy of release id, in the one read of its artifact
 * that verifies it: rip_verify_release (and rip_release_migrations into
 * migs, when not NULL), with the payload extracted into dest as the
 * artifact streams past, below a dot-folder beside dest that is renamed
 * to dest only when the whole artifact verified. The artifact is opened
 * once, hashed and its signature checked before it is parsed, and
 * decompressed once. dest is thrown away afterwards, so nothing is made
 * durable. On failure dest does not exist, *out is zeroed and migs is
 * empty; the code is verify's (RIP_EINTEGRITY or RIP_ESECURITY for a
 * tampered or hostile artifact) or extraction's. *vr is filled as
 * rip_verify_release leaves it: release it in every case.
 */
RIP_MUST_CHECK int rip_extract_verify_scratch(struct rip_verify_result *vr,
	struct rip_migrations *migs, struct rip_extract_result *out,
	struct rip_store *store, const char *id, const char *verify_key,
	const char *dest, struct rip_err *err);

/*
 * The same one read for a file that is not in a store (a host's cached
 * artifact, ripcord agent): rip_verify_file of path against sha256 and
 * id, the payload extracted into dest as it streams, dest renamed into
 * place only when the whole artifact verified, and made durable as
 * rip_extract_payload makes it. Fails as rip_extract_verify_scratch;
 * release *vr in every case.
 */
RIP_MUST_CHECK int rip_extract_verify_file(struct rip_verify_result *vr,
	struct rip_extract_result *out, const char *path, const char *sha256,
	const char *id, const char *dest, struct rip_err *err);

#endif
