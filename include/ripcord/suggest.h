/* SPDX-License-Identifier: MIT */
/*
 * suggest.h: "did you mean" for a mistyped key, section or command.
 */
#ifndef RIPCORD_SUGGEST_H
#define RIPCORD_SUGGEST_H

#include "ripcord/common.h"

/* Levenshtein distance between a and b (insertions, deletions, changes). */
size_t rip_edit_distance(const char *a, const char *b);

/*
 * The candidate of cands[0..n) closest to word, when it is within a typo
 * of it (an edit distance of at most max(2, len(word) / 3 + 1)); NULL
 * otherwise. Borrowed from cands.
 */
const char *rip_suggest(const char *word, const char *const *cands,
	size_t n);

#endif
