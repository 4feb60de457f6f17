/* SPDX-License-Identifier: MIT */
/*
 * cli_table.c: the one way commands print a table on stdout (status,
 * releases, targets, the closing table of deploy and rollback): each
 * column as wide as its widest cell, two spaces between columns, the last
 * one unpadded, so a 40-character `git describe` id never runs into its
 * neighbour and a short one leaves no gap. Widths count characters, not
 * bytes (a UTF-8 name is as wide as it looks, give or take).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "banned.h"

void cli_table_init(struct cli_table *t, const char *const *headers)
{
	memset(t, 0, sizeof(*t));
	while (headers[t->ncols])
		rip_strlist_push(&t->cells, headers[t->ncols++]);
}

void cli_table_right(struct cli_table *t, size_t col)
{
	if (col < sizeof(t->right) * 8)
		t->right |= 1u << col;
}

void cli_table_add(struct cli_table *t, const char *cell)
{
	rip_strlist_push(&t->cells, cell ? cell : "-");
}

void cli_table_addf(struct cli_table *t, const char *fmt, ...)
{
	struct rip_buf b = RIP_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	rip_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	cli_table_add(t, b.buf);
	rip_buf_release(&b);
}

/* Characters in s: bytes but UTF-8 continuation bytes. */
static size_t width_of(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void cli_table_print(const struct cli_table *t)
{
	size_t *w = rip_xcalloc(t->ncols + 1, sizeof(*w));
	struct rip_buf line = RIP_BUF_INIT;

	for (size_t i = 0; i < t->cells.n; i++) {
		size_t c = i % t->ncols, n = width_of(t->cells.v[i]);

		if (n > w[c])
			w[c] = n;
	}
	for (size_t i = 0; i < t->cells.n; i++) {
		size_t c = i % t->ncols, pad = w[c] - width_of(t->cells.v[i]);
		bool right = c < sizeof(t->right) * 8 && (t->right >> c) & 1u;

		if (right)
			rip_buf_addf(&line, "%*s", (int)pad, "");
		rip_buf_adds(&line, t->cells.v[i]);
		if (c + 1 < t->ncols) {
			rip_buf_addf(&line, "%*s", (int)(right ? 2 : pad + 2), "");
			continue;
		}
		/* an empty last cell (no NOTE) leaves no blanks behind */
		while (line.len && line.buf[line.len - 1] == ' ')
			rip_buf_setlen(&line, line.len - 1);
		puts(line.buf);
		rip_buf_reset(&line);
	}
	rip_buf_release(&line);
	free(w);
}

void cli_table_release(struct cli_table *t)
{
	rip_strlist_release(&t->cells);
	memset(t, 0, sizeof(*t));
}

bool cli_colour(FILE *f)
{
	const char *no = getenv("NO_COLOR");

	return isatty(fileno(f)) && !(no && *no);
}
