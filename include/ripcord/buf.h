/* SPDX-License-Identifier: MIT */
/*
 * buf.h: growable strings in git's strbuf shape.
 *
 * b->buf is never NULL and always NUL-terminated; a fresh buffer points at a
 * shared empty string and allocates on the first append. Allocation failure
 * aborts the process: there is no sane recovery for a CLI out of memory.
 */
#ifndef RIPCORD_BUF_H
#define RIPCORD_BUF_H

#include <stdarg.h>

#include "ripcord/common.h"

struct rip_buf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char rip_buf_empty[];
#define RIP_BUF_INIT { 0, 0, rip_buf_empty }

void rip_buf_init(struct rip_buf *b, size_t hint);
/* Frees what b holds and leaves it empty and reusable. */
void rip_buf_release(struct rip_buf *b);
/* Hands the string to the caller (who frees it); b is left empty. */
char *rip_buf_detach(struct rip_buf *b, size_t *len);
void rip_buf_grow(struct rip_buf *b, size_t extra);
void rip_buf_reset(struct rip_buf *b);
void rip_buf_add(struct rip_buf *b, const void *data, size_t len);
void rip_buf_adds(struct rip_buf *b, const char *s);
void rip_buf_addch(struct rip_buf *b, char c);
void rip_buf_addf(struct rip_buf *b, const char *fmt, ...) RIP_PRINTF(2, 3);
/* The same with a va_list, which it leaves for the caller to va_end. */
void rip_buf_vaddf(struct rip_buf *b, const char *fmt, va_list ap)
	RIP_PRINTF(2, 0);
void rip_buf_setlen(struct rip_buf *b, size_t len);
/* Removes trailing white space. */
void rip_buf_rtrim(struct rip_buf *b);

/*
 * Copies the string src into dst (n bytes) for a fixed-size field that
 * is only shown; when src does not fit it ends in "…" (never in the
 * middle of a UTF-8 sequence), so a shortened text says so.
 */
void rip_copy_shown(char *dst, size_t n, const char *src);

/* Allocating helpers that abort on failure like the buffer does. */
void *rip_xmalloc(size_t n);
void *rip_xcalloc(size_t nmemb, size_t size);
void *rip_xrealloc(void *p, size_t n);
char *rip_xstrdup(const char *s);
char *rip_xstrndup(const char *s, size_t n);
/* Returns a newly allocated printf-formatted string. */
char *rip_xasprintf(const char *fmt, ...) RIP_PRINTF(1, 2);

/*
 * The one way an array grows: makes *p (an array of *alloc elements of
 * elem bytes) hold at least need, doubling from RIP_GROW_FIRST so appends
 * are amortised O(1). Returns 0, or RIP_ENOMEM (err.h) when the size
 * overflows size_t or realloc fails; *p and *alloc are then unchanged.
 */
#define RIP_GROW_FIRST 8
RIP_MUST_CHECK int rip_grow(void **p, size_t *alloc, size_t need,
	size_t elem);
#define RIP_GROW(arr, need, alloc) \
	rip_grow((void **)&(arr), &(alloc), (need), sizeof(*(arr)))

/*
 * The alloc rip_grow leaves an array that grew one element at a time from
 * empty to n elements: for arrays that keep no alloc of their own.
 */
size_t rip_grow_alloc(size_t n);

/* rip_grow for the code that aborts when memory runs out, as rip_buf does. */
void rip_grow_array(void **arr, size_t *alloc, size_t n, size_t elem);
#define RIP_ALLOC_GROW(arr, n, alloc) \
	rip_grow_array((void **)&(arr), &(alloc), (n), sizeof(*(arr)))

#endif
