/* SPDX-License-Identifier: MIT */
/*
 * site.c: reading roots here and on hosts with one call (site.h).
 * Local roots are read on this thread, one after the other (a readlink
 * and a readdir each); remote ones through their sessions, in parallel.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ripcord/site.h"
#include "banned.h"

bool rip_config_has_remote(const struct rip_config *cfg)
{
	for (size_t i = 0; i < cfg->n_targets; i++)
		if (rip_target_remote(&cfg->targets[i]))
			return true;
	return false;
}

int rip_sites_fleet(struct rip_fleet **out, const struct rip_config *cfg,
	struct rip_store *store, struct rip_err *err)
{
	*out = NULL;
	if (!store || !rip_config_has_remote(cfg))
		return 0;
	return rip_store_fleet(out, store, cfg, err);
}

static void read_local(struct rip_site *s, bool check)
{
	const struct rip_target *t = s->target;
	struct stat sb;

	s->exists = lstat(t->root, &sb) == 0;
	if ((check && (s->rc = rip_root_check(t->root, &s->err)) < 0) ||
	    (s->rc = rip_root_inspect(&s->root, t->root, &s->err)) < 0)
		rip_err_prefix(&s->err, "target '%s'", t->name);
}

struct remote_read {
	struct rip_site *v;
	const size_t *idx;
	struct rip_fleet *fleet;
	bool check;
};

static void read_remote(void *data, size_t k)
{
	struct remote_read *rr = data;
	struct rip_site *s = &rr->v[rr->idx[k]];
	struct rip_remote_root extra = { 0 };
	struct rip_remote *r;

	if ((s->rc = rip_fleet_session(&r, rr->fleet, s->target,
			&s->err)) < 0)
		return;
	s->rc = rip_remote_inspect(&s->root, &extra, r, s->target->root,
		rr->check, &s->err);
	s->exists = extra.exists;
}

void rip_sites_read(struct rip_site *v, size_t n, struct rip_fleet *fleet,
	bool check)
{
	size_t *idx = rip_xcalloc(n + 1, sizeof(*idx));
	struct remote_read rr = { v, idx, fleet, check };
	size_t nr = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&v[i].root, 0, sizeof(v[i].root));
		v[i].rc = 0;
		v[i].exists = false;
		rip_err_clear(&v[i].err);
		if (!rip_target_remote(v[i].target))
			read_local(&v[i], check);
		else if (fleet)
			idx[nr++] = i;
		else
			v[i].rc = rip_err_set(&v[i].err, RIP_EUNREACH, "target "
				"'%s' (host %s): no store to keep ssh connections "
				"in: cut a release first", v[i].target->name,
				v[i].target->host);
	}
	if (nr)
		rip_fleet_each(nr, rip_fleet_parallel(fleet), read_remote, &rr);
	free(idx);
}

void rip_sites_release(struct rip_site *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rip_root_state_release(&v[i].root);
}

struct rip_site *rip_sites_read_all(const struct rip_config *cfg,
	struct rip_store *store)
{
	struct rip_site *v = rip_xcalloc(cfg->n_targets + 1, sizeof(*v));
	struct rip_fleet *fleet;
	struct rip_err err = { 0 };
	int rc;

	for (size_t i = 0; i < cfg->n_targets; i++)
		v[i].target = &cfg->targets[i];
	rc = rip_sites_fleet(&fleet, cfg, store, &err);
	rip_sites_read(v, cfg->n_targets, fleet, false);
	for (size_t i = 0; rc < 0 && i < cfg->n_targets; i++)
		if (rip_target_remote(v[i].target)) {
			v[i].rc = rc;
			v[i].err = err;
		}
	return v;
}

void rip_sites_free(struct rip_site *v, size_t n)
{
	if (!v)
		return;
	rip_sites_release(v, n);
	free(v);
}
