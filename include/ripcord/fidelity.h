/* SPDX-License-Identifier: MIT */
/*
 * fidelity.h: the drill's fidelity step (DESIGN.md §6, step 2): an
 * extracted payload hashed as git would hash it, blobs and trees, and
 * compared with MANIFEST's `tree` and with the commit's tree in the
 * repository for the same include/exclude selection.
 */
#ifndef RIPCORD_FIDELITY_H
#define RIPCORD_FIDELITY_H

#include "ripcord/config.h"
#include "ripcord/gitsrc.h"
#include "ripcord/manifest.h"

struct rip_fidelity {
	char tree[RIP_OID_HEX];          /* what the extracted payload hashes to */
	char manifest_tree[RIP_OID_HEX]; /* MANIFEST's tree, for messages */
	char repo_tree[RIP_OID_HEX];     /* the commit's selected tree; "" when
					    there is no repository or it
					    lacks the commit */
	uint64_t files;                  /* regular files, executables too */
	uint64_t bytes;                  /* their total size */
	uint64_t links;
	uint64_t submodules;
	bool manifest_ok;                /* tree equals MANIFEST's */
	bool repo_checked;               /* repo_tree was computed */
	bool repo_ok;                    /* ... and equals tree */
};

/*
 * Git's tree id of the extracted payload in dir, computed in memory
 * (nothing is written, no repository is needed): a regular file is a blob
 * of mode 100755 when its owner may execute it, else 100644; a symlink a
 * blob of its target (120000); an empty folder that m lists as a submodule
 * a gitlink (160000) to the commit m records; other empty folders are not
 * in git trees. m may be NULL (no submodules). Symlinks are never
 * followed, dir itself included. Anything else (fifo, socket, device),
 * or a file swapped for another mid-walk, is RIP_ESECURITY naming the
 * path; a submodule folder that is not empty, or a malformed submodule
 * line in m, RIP_EINTEGRITY; dir missing RIP_ENOTFOUND; a read that
 * fails, or a file whose size changes while it is hashed, RIP_EIO.
 */
RIP_MUST_CHECK int rip_tree_id_of_dir(char out[RIP_OID_HEX], const char *dir,
	const struct rip_manifest *m, struct rip_err *err);

/*
 * The fidelity check of the payload of release m extracted in dir:
 * rip_tree_id_of_dir must equal MANIFEST's tree, and, when repo_path lies
 * in a git repository (searched upwards, as cut does) that holds m's
 * commit, the tree that include/exclude (NULL: everything) select from
 * that commit. A repository that is not there, or lacks the commit, is
 * not an error: repo_checked stays false. A mismatch is RIP_EINTEGRITY
 * ("payload of release 'X' hashes to tree T, MANIFEST says M"), naming
 * the first path that differs when the commit's selection is at hand;
 * *out is filled as far as the check got, mismatch or not (zeroed when
 * the folder could not be hashed). Other errors as rip_tree_id_of_dir,
 * or from opening the repository (RIP_ECONFIG, RIP_EGIT).
 */
RIP_MUST_CHECK int rip_fidelity_check(struct rip_fidelity *out,
	const char *dir, const struct rip_manifest *m, const char *repo_path,
	const struct rip_strlist *include, const struct rip_strlist *exclude,
	struct rip_err *err);

#endif
