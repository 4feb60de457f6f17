/* SPDX-License-Identifier: MIT */
/*
 * target.h: a deploy root on disk: <root>/releases/<id>/ holds extracted
 * payloads and <root>/current is a symlink to the one that runs.
 *
 * The current link is the truth about what runs. It is always relative
 * ("releases/<id>"), so a root can be moved, and it is switched atomically:
 * a new link under a temporary name, then rename(2) over current, then an
 * fsync of the root. Anything else in a root (logs, shared folders) is
 * left alone.
 *
 * Below the root's own path nothing is followed: a releases/ that is a
 * symlink makes every call below RIP_ESECURITY naming it, and a
 * releases/<id> that is one is no release (not listed, never switched to
 * nor removed: RIP_ESECURITY). Every call works on fds of the folders it
 * looked at, so a link swapped in meanwhile does not lead out either.
 */
#ifndef RIPCORD_TARGET_H
#define RIPCORD_TARGET_H

#include "ripcord/config.h"

struct rip_root_state {
	char *current;            /* release current points at; NULL: none */
	bool has_releases;        /* releases/ exists */
	struct rip_strlist extracted;   /* release folders under releases/,
					   sorted */
};

/*
 * Reads what root holds without changing it. A current that is not a
 * symlink, or points outside releases/, is RIP_ESECURITY naming it: ripcord
 * never overwrites what it did not make.
 */
RIP_MUST_CHECK int rip_root_inspect(struct rip_root_state *out,
	const char *root, struct rip_err *err);
void rip_root_state_release(struct rip_root_state *s);

/*
 * Makes root ready for a first deploy: creates it (and releases/) when
 * missing. A non-empty root without releases/ is refused (RIP_EEXISTS: "not
 * ours"), and so is a current that is not a symlink.
 */
RIP_MUST_CHECK int rip_root_prepare(const char *root, struct rip_err *err);

/* The checks of rip_root_prepare, without creating anything. */
RIP_MUST_CHECK int rip_root_check(const char *root, struct rip_err *err);

/* "<root>/releases/<id>"; newly allocated. */
char *rip_root_release_dir(const char *root, const char *id);

/* Points <root>/current at releases/<id> atomically; id must be extracted. */
RIP_MUST_CHECK int rip_root_switch(const char *root, const char *id,
	struct rip_err *err);

/*
 * The same switch without the fsync, for many roots at once: switch each,
 * then make them all durable with rip_sync_roots (one syncfs(2) per
 * filesystem instead of an fsync per root).
 */
RIP_MUST_CHECK int rip_root_switch_quick(const char *root, const char *id,
	struct rip_err *err);
RIP_MUST_CHECK int rip_sync_roots(const char *const *roots, size_t n,
	struct rip_err *err);

/* Removes releases/<id> (never the current one: RIP_EUSAGE). */
RIP_MUST_CHECK int rip_root_remove(const char *root, const char *id,
	struct rip_err *err);

/* Whether name is ".<id>.tmp-XXXXXX", the temporary folder an
 * extraction fills before its rename (extract_dest.c): the only
 * dot-name under releases/ that ripcord makes, so the only one it may
 * remove. */
bool rip_root_temp_name(const char *name);

/*
 * Removes <root>/releases/<name>, an extraction's temporary folder left
 * by a crash (gc's "unfinished extraction", rip_root_temp_name), never
 * through a link; another name, or one that is not a folder, is
 * RIP_EUSAGE and left alone; one that is not there is 0.
 */
RIP_MUST_CHECK int rip_root_remove_partial(const char *root,
	const char *name, struct rip_err *err);

/*
 * Removes what interrupted extractions left under <root>/releases: the
 * temporary dot-folders ".<id>.tmp-XXXXXX" that rip_extract_payload fills
 * before its rename (never a release, nothing else). *removed counts them.
 * A root without releases/ is 0. Run it only when no extraction into root
 * is under way.
 */
RIP_MUST_CHECK int rip_root_clean_temps(size_t *removed, const char *root,
	struct rip_err *err);

#endif
