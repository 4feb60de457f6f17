/* SPDX-License-Identifier: MIT */
/*
 * strlist.h: a growable list of strings the list owns.
 */
#ifndef RIPCORD_STRLIST_H
#define RIPCORD_STRLIST_H

#include "ripcord/common.h"

/* v is NULL or grown by rip_strlist_push: a list whose v is set by hand
 * (a borrowed array) is read, never pushed to. */
struct rip_strlist {
	char **v;
	size_t n;
};

/* Frees every string and the array; l is left empty and reusable. */
void rip_strlist_release(struct rip_strlist *l);
/* Appends a copy of s. */
void rip_strlist_push(struct rip_strlist *l, const char *s);
/* Whether l holds s. */
bool rip_strlist_has(const struct rip_strlist *l, const char *s);
/* Appends the trimmed, non-empty items of a comma-separated list. */
void rip_strlist_split(struct rip_strlist *l, const char *s);

#endif
