/* SPDX-License-Identifier: MIT */
/*
 * site.h: a target's root wherever it lives: a folder on this machine
 * (target.h) or a folder on a host, through its agent (remote.h). One
 * call reads either, so deploy, rollback, status and rollouts see every
 * root the same way; remote roots are read at once, up to [ssh] parallel,
 * and one that cannot be reached is a per-site error, never the whole
 * read's.
 */
#ifndef RIPCORD_SITE_H
#define RIPCORD_SITE_H

#include "ripcord/config.h"
#include "ripcord/remote.h"
#include "ripcord/store.h"
#include "ripcord/target.h"

struct rip_site {
	const struct rip_target *target;   /* set by the caller */
	struct rip_root_state root;        /* what it holds, when rc is 0 */
	bool exists;              /* the root folder exists */
	int rc;                   /* 0, or why it could not be read: err */
	struct rip_err err;       /* "target 'web-3' (host ...): ..." */
};

/* Whether t lives on another host. */
static inline bool rip_target_remote(const struct rip_target *t)
{
	return t->host != NULL;
}

/* Whether any target of cfg lives on another host. */
bool rip_config_has_remote(const struct rip_config *cfg);

/*
 * The fleet that reaches cfg's remote targets: store's (rip_store_fleet)
 * when one is remote and there is a store, else *out NULL and 0.
 * Borrowed.
 */
RIP_MUST_CHECK int rip_sites_fleet(struct rip_fleet **out,
	const struct rip_config *cfg, struct rip_store *store,
	struct rip_err *err);

/*
 * Reads the root of every v[i].target into v[i] (rc, root, err). With
 * check, a root that is not ours is refused first (rip_root_check), so a
 * deploy never plans onto it. fleet carries the remote ones (NULL only
 * when none is remote); they are read on up to [ssh] parallel threads.
 */
void rip_sites_read(struct rip_site *v, size_t n, struct rip_fleet *fleet,
	bool check);
void rip_sites_release(struct rip_site *v, size_t n);

/*
 * Every target of cfg read (rip_sites_read without check) into a new
 * array of cfg->n_targets sites (free with rip_sites_free), the remote
 * ones through store's fleet; without a store they are unreachable.
 */
struct rip_site *rip_sites_read_all(const struct rip_config *cfg,
	struct rip_store *store);
void rip_sites_free(struct rip_site *v, size_t n);

#endif
