/* SPDX-License-Identifier: MIT */
/*
 * suggest.c: "did you mean" for a word that is not one we know (suggest.h):
 * Levenshtein distance and the closest candidate within reach of a typo.
 *
 * Tuned for short words (keys, sections, commands) against a few dozen
 * candidates: one row of the distance matrix, O(len(a) * len(b)) time.
 */
#include <stdlib.h>
#include <string.h>

#include "ripcord/buf.h"
#include "ripcord/suggest.h"
#include "banned.h"

size_t rip_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), *row, res;

	row = rip_xcalloc(lb + 1, sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	res = row[lb];
	free(row);
	return res;
}

const char *rip_suggest(const char *word, const char *const *cands,
	size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit = strlen(word) / 3 + 1;

	for (size_t i = 0; i < n; i++) {
		size_t d = rip_edit_distance(word, cands[i]);

		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best && best_d <= (limit < 2 ? 2 : limit) ? best : NULL;
}
