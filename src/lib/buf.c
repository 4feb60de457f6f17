/* SPDX-License-Identifier: MIT */
/*
 * buf.c: struct rip_buf and the aborting allocators.
 *
 * Invariant: buf is NUL-terminated at len, and alloc == 0 exactly when buf
 * is the shared empty string. Growth doubles, so appends are amortised O(1).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "ripcord/buf.h"
#include "ripcord/err.h"
#include "banned.h"

char rip_buf_empty[1];

static void die_oom(size_t n)
{
	fprintf(stderr, "ripcord: out of memory allocating %zu bytes\n", n);
	abort();
}

void *rip_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_oom(n);
	return p;
}

void *rip_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		die_oom(nmemb * size);
	return p;
}

void *rip_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		die_oom(n);
	return q;
}

char *rip_xstrdup(const char *s)
{
	return rip_xstrndup(s, strlen(s));
}

char *rip_xstrndup(const char *s, size_t n)
{
	char *p = rip_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *rip_xasprintf(const char *fmt, ...)
{
	struct rip_buf b = RIP_BUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die_oom(0);
	rip_buf_grow(&b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b.buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b.len = (size_t)n;
	return rip_buf_detach(&b, NULL);
}

int rip_grow(void **p, size_t *alloc, size_t need, size_t elem)
{
	size_t want;
	void *q;

	if (need <= *alloc)
		return 0;
	if (!elem)
		elem = 1;
	want = *alloc ? *alloc : RIP_GROW_FIRST;
	while (want < need)
		want = want > SIZE_MAX / 2 ? need : want * 2;
	if (want > SIZE_MAX / elem)
		return RIP_ENOMEM;
	q = realloc(*p, want * elem);
	if (!q)
		return RIP_ENOMEM;
	*p = q;
	*alloc = want;
	return 0;
}

size_t rip_grow_alloc(size_t n)
{
	size_t a = RIP_GROW_FIRST;

	if (!n)
		return 0;
	while (a < n)
		a = a > SIZE_MAX / 2 ? n : a * 2;
	return a;
}

void rip_grow_array(void **arr, size_t *alloc, size_t n, size_t elem)
{
	if (rip_grow(arr, alloc, n, elem) < 0)
		die_oom(SIZE_MAX);
}

void rip_buf_init(struct rip_buf *b, size_t hint)
{
	b->alloc = 0;
	b->len = 0;
	b->buf = rip_buf_empty;
	if (hint)
		rip_buf_grow(b, hint);
}

void rip_buf_release(struct rip_buf *b)
{
	if (b->alloc)
		free(b->buf);
	rip_buf_init(b, 0);
}

char *rip_buf_detach(struct rip_buf *b, size_t *len)
{
	char *s;

	if (len)
		*len = b->len;
	s = b->alloc ? b->buf : rip_xstrdup("");
	rip_buf_init(b, 0);
	return s;
}

void rip_buf_grow(struct rip_buf *b, size_t extra)
{
	size_t need;
	bool fresh = !b->alloc;

	if (extra > SIZE_MAX - b->len - 1)
		die_oom(SIZE_MAX);
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return;
	if (fresh)
		b->buf = NULL;
	RIP_ALLOC_GROW(b->buf, need, b->alloc);
	if (fresh)
		b->buf[0] = '\0';
}

void rip_buf_reset(struct rip_buf *b)
{
	rip_buf_setlen(b, 0);
}

void rip_buf_setlen(struct rip_buf *b, size_t len)
{
	if (!b->alloc)
		return;
	b->len = len;
	b->buf[len] = '\0';
}

void rip_buf_add(struct rip_buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	rip_buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	rip_buf_setlen(b, b->len + len);
}

void rip_buf_adds(struct rip_buf *b, const char *s)
{
	rip_buf_add(b, s, strlen(s));
}

void rip_buf_addch(struct rip_buf *b, char c)
{
	rip_buf_add(b, &c, 1);
}

void rip_buf_vaddf(struct rip_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(b->buf + b->len, b->alloc ? b->alloc - b->len : 0,
		fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= (b->alloc ? b->alloc - b->len : 0)) {
		rip_buf_grow(b, (size_t)n);
		va_copy(cp, ap);
		vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
		va_end(cp);
	}
	rip_buf_setlen(b, b->len + (size_t)n);
}

void rip_buf_addf(struct rip_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rip_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void rip_copy_shown(char *dst, size_t n, const char *src)
{
	static const char ellipsis[] = "\xe2\x80\xa6";
	size_t len = strlen(src), keep;

	if (len < n) {
		memcpy(dst, src, len + 1);
		return;
	}
	keep = n > sizeof(ellipsis) ? n - sizeof(ellipsis) : 0;
	/* never cut a UTF-8 sequence in two */
	while (keep && ((unsigned char)src[keep] & 0xC0) == 0x80)
		keep--;
	memcpy(dst, src, keep);
	if (n >= sizeof(ellipsis))
		memcpy(dst + keep, ellipsis, sizeof(ellipsis));
	else if (n)
		dst[keep] = '\0';
}

void rip_buf_rtrim(struct rip_buf *b)
{
	while (b->len && isspace((unsigned char)b->buf[b->len - 1]))
		b->len--;
	rip_buf_setlen(b, b->len);
}
