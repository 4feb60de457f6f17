/* SPDX-License-Identifier: MIT */
/*
 * db.c: what the migration drivers share: the driver table and the list
 * of applied rows. Their SQL helpers (splitting a script into statements,
 * scrubbing one, telling whether a script runs its own transaction) are
 * in sqltok.c, on the scanner lint reads scripts with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/db.h"
#include "banned.h"

const struct rip_db_ops *rip_db_find(const char *name)
{
	static const struct rip_db_ops *const all[] = {
		&rip_db_sqlite, &rip_db_postgres, &rip_db_command,
	};

	for (size_t i = 0; i < RIP_ARRAY_SIZE(all); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

void rip_applied_add(struct rip_applied_list *l, const char *version,
	const char *name, const char *checksum, int64_t applied_at, bool dirty)
{
	struct rip_applied *a;

	RIP_ALLOC_GROW(l->v, l->n + 1, l->alloc);
	a = &l->v[l->n++];
	memset(a, 0, sizeof(*a));
	a->version = rip_xstrdup(version);
	a->name = rip_xstrdup(name);
	a->id = rip_xasprintf("%s_%s", version, name);
	a->checksum = rip_xstrdup(checksum ? checksum : "");
	a->applied_at = applied_at;
	a->dirty = dirty;
}

void rip_applied_list_release(struct rip_applied_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].version);
		free(l->v[i].name);
		free(l->v[i].id);
		free(l->v[i].checksum);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}
