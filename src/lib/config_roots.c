/* SPDX-License-Identifier: MIT */
/*
 * config_roots.c: the check that no two targets on one machine share a
 * root, or have one root inside the other, with links, "." and ".."
 * resolved first.
 *
 * A cross-check run once the whole file is read (rip_config_check_roots,
 * from rip_config_parse): resolving paths that may not exist yet and
 * deciding which targets share a machine is a concern of its own, apart
 * from reading lines and values (config.c). It reports through the
 * parser's rip_config_fail, at the line of the later root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ripcord/config.h"
#include "config_internal.h"
#include "banned.h"

/* Drops the last "/name" of b; "/" stays "/". */
static void path_pop(struct rip_buf *b, bool keep_root)
{
	char *slash = strrchr(b->buf, '/');

	if (slash)
		rip_buf_setlen(b, slash == b->buf && keep_root ? 1 :
			(size_t)(slash - b->buf));
}

/*
 * The absolute path with its links, "." and ".." resolved, for comparing
 * roots that may not exist yet: each name is looked up with realpath while
 * the path exists; from the first missing one on, the rest is taken as
 * written with "." and ".." applied by hand (nothing below a missing
 * folder can be a link). A lookup that fails for another reason (no
 * permission) is treated as missing, so this never fails. A path that is
 * not local (on another host) is never looked up: all of it is taken as
 * written.
 */
static char *resolve_path(const char *path, bool local)
{
	struct rip_buf cur = RIP_BUF_INIT, tail = RIP_BUF_INIT;
	const char *s = path;

	rip_buf_adds(&cur, "/");
	for (;;) {
		size_t l;

		s += strspn(s, "/");
		if (!(l = strcspn(s, "/")))
			break;
		if (l == 2 && !memcmp(s, "..", 2)) {
			if (tail.len)
				path_pop(&tail, false);
			else
				path_pop(&cur, true);
		} else if (l != 1 || s[0] != '.') {
			char *cand = NULL, *real = NULL;

			if (local && !tail.len) {
				cand = rip_xasprintf("%s%s%.*s", cur.buf,
					cur.len > 1 ? "/" : "", (int)l, s);
				real = realpath(cand, NULL);
			}
			if (real) {
				rip_buf_reset(&cur);
				rip_buf_adds(&cur, real);
			} else {
				rip_buf_addf(&tail, "/%.*s", (int)l, s);
			}
			free(real);
			free(cand);
		}
		s += l;
	}
	if (tail.len && cur.len == 1)
		rip_buf_reset(&cur);
	rip_buf_add(&cur, tail.buf, tail.len);
	rip_buf_release(&tail);
	return rip_buf_detach(&cur, NULL);
}

/* Whether path lies below dir (both resolved; equal is not below). */
static bool path_below(const char *path, const char *dir)
{
	size_t dl = strlen(dir);

	if (dl == 1)
		return path[1] != '\0';
	return !strncmp(path, dir, dl) && path[dl] == '/';
}

/* The host name of t's ssh_dest, without its user. */
static const char *dest_host(const struct rip_target *t)
{
	const char *at = strrchr(t->ssh_dest, '@');

	return at ? at + 1 : t->ssh_dest;
}

/*
 * Whether a and b put their roots on one machine: both local, or the same
 * host name (whoever logs in: users share a file system) on the same port
 * (22 when none is given, ssh's usual). A host known by two names is not
 * seen; one name on two ports is two machines (containers behind one
 * address).
 */
static bool same_machine(const struct rip_target *a,
	const struct rip_target *b)
{
	if (!a->host || !b->host)
		return !a->host && !b->host;
	return !strcasecmp(dest_host(a), dest_host(b)) &&
		(a->ssh_port ? a->ssh_port : 22) ==
		(b->ssh_port ? b->ssh_port : 22);
}

/* Refuses targets a and b (b defined later) when their roots clash. */
static int root_clash(struct rip_config_reader *p, size_t a, size_t b,
	char *const *real, size_t key)
{
	const struct rip_target *ta = &p->cfg->targets[a];
	const struct rip_target *tb = &p->cfg->targets[b];
	int la = p->target_seen[a][key], lb = p->target_seen[b][key];
	size_t in, out;
	char where[320] = "";

	if (!same_machine(ta, tb))
		return 0;
	if (ta->host)
		snprintf(where, sizeof(where), " on host '%s'", dest_host(ta));
	p->line = lb;
	if (!strcmp(real[a], real[b]))
		return rip_config_fail(p, "targets '%s' (%s:%d) and '%s' (%s:%d) have the "
			"same root%s: both resolve to '%s'; give each target a "
			"folder of its own", ta->name, p->name, la, tb->name,
			p->name, lb, where, real[a]);
	if (path_below(real[b], real[a]))
		in = b, out = a;
	else if (path_below(real[a], real[b]))
		in = a, out = b;
	else
		return 0;
	return rip_config_fail(p, "the root of target '%s' (%s:%d, resolved '%s') is "
		"inside the root of target '%s' (%s:%d, resolved '%s')%s: the "
		"releases/ of one would be inside the tree of the other; give "
		"each target a folder of its own, side by side",
		p->cfg->targets[in].name, p->name, p->target_seen[in][key],
		real[in], p->cfg->targets[out].name, p->name,
		p->target_seen[out][key], real[out], where);
}

/*
 * Two targets deploying into one folder (through a link or "..", too)
 * would switch each other's current and collect each other's releases; a
 * root inside another's tree is as bad. Only targets on one machine can
 * clash: the same path on two hosts is two folders. Quadratic in the targets, which is
 * nothing next to probing them.
 */
int rip_config_check_roots(struct rip_config_reader *p)
{
	size_t n = p->cfg->n_targets, key = 0;
	char **real = rip_xcalloc(n + 1, sizeof(*real));
	int rc = 0;

	while (strcmp(rip_config_keys[key].section, "target") ||
	       strcmp(rip_config_keys[key].name, "root"))
		key++;
	for (size_t i = 0; i < n; i++)
		real[i] = resolve_path(p->cfg->targets[i].root,
			!p->cfg->targets[i].host);
	for (size_t b = 1; b < n && !rc; b++)
		for (size_t a = 0; a < b && !rc; a++)
			rc = root_clash(p, a, b, real, key);
	for (size_t i = 0; i < n; i++)
		free(real[i]);
	free(real);
	return rc;
}
