/* SPDX-License-Identifier: MIT */
/*
 * extract.h: unpacking a release's payload onto disk, securely.
 *
 * The artifact is read twice: once defensively for its lists (SHA256SUMS
 * and LINKS sort after payload/), then streamed, every entry checked
 * against those lists as it passes, written below a temporary dot-folder
 * beside the destination, which is renamed into place only when everything
 * matched. Nothing is written through a symlink, no path leaves
 * the folder, no device, fifo, hard link or setuid bit is created, and the
 * expansion ratio is bounded (the reader's rules, artifact.h).
 */
#ifndef RIPCORD_EXTRACT_H
#define RIPCORD_EXTRACT_H

#include "ripcord/err.h"

struct rip_extract_result {
	uint64_t files;
	uint64_t bytes;
	uint64_t links;
};

/*
 * Extracts the payload/ of the artifact at artifact_path into dest (which
 * must not exist; its parent must): payload/x becomes dest/x, with the
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

#endif
