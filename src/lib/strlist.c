/* SPDX-License-Identifier: MIT */
/*
 * strlist.c: lists of owned strings (strlist.h): the config's include,
 * exclude and irreversible lists, and the names the library collects.
 *
 * A list owns each string it holds (copied on push); v is NULL when the
 * list is empty, else grown by rip_strlist_push alone (it keeps no alloc:
 * rip_grow_alloc(n) is its capacity). Tuned for short lists: rip_strlist_has is a linear scan.
 */
#include <stdlib.h>
#include <string.h>

#include "ripcord/buf.h"
#include "ripcord/parse.h"
#include "ripcord/strlist.h"
#include "banned.h"

void rip_strlist_push(struct rip_strlist *l, const char *s)
{
	/* no alloc is kept: every push grows v, so it is rip_grow's for n */
	size_t alloc = rip_grow_alloc(l->n);

	RIP_ALLOC_GROW(l->v, l->n + 1, alloc);
	l->v[l->n++] = rip_xstrdup(s);
}

void rip_strlist_release(struct rip_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool rip_strlist_has(const struct rip_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return true;
	return false;
}

static int push_item(void *data, const char *item)
{
	rip_strlist_push(data, item);
	return 0;
}

void rip_strlist_split(struct rip_strlist *l, const char *s)
{
	(void)rip_parse_list(s, push_item, l);
}
