/* SPDX-License-Identifier: MIT */
/*
 * lazy.h: a shared library loaded on first use (dlopen), for the wrappers
 * of dependencies that most commands never need: libpq (pg.c), libcurl
 * (http.c), libgit2 (gitsrc.c) and libarchive (archive_lazy.c, for
 * artifact.c and extract.c). A `ripcord rollback` of local targets
 * without health URLs maps none of them, nor the thirty-odd libraries
 * they pull in (Kerberos, LDAP, GnuTLS, nghttp2, mbedTLS, ssh2, ...),
 * whose loading and constructors were most of a process start; nor does
 * the agent that every remote host starts per command.
 *
 * A wrapper lists the functions it calls once, as an X-macro, and gets a
 * struct of pointers typed from the library's own header:
 *
 *   #define PQ_FUNCS(X) X(PQconnectdb) X(PQfinish) ...
 *   static struct { PQ_FUNCS(RIP_LAZY_SLOT) } pq;
 *   static const char *const pq_names[] = { PQ_FUNCS(RIP_LAZY_NAME) };
 *   static struct rip_lazy libpq = RIP_LAZY_INIT("libpq.so.5", "libpq",
 *           pq_names, &pq);
 *   ...
 *   if ((rc = rip_lazy_load(&libpq, err)) < 0) return rc;
 *   pq.PQconnectdb(...);
 */
#ifndef RIPCORD_LAZY_H
#define RIPCORD_LAZY_H

#include <stddef.h>

#include "ripcord/common.h"
#include "ripcord/err.h"

#define RIP_LAZY_SLOT(f) __typeof__(f) *f;
#define RIP_LAZY_NAME(f) #f,

struct rip_lazy {
	const char *soname;          /* "libpq.so.5": the ABI we were built for */
	const char *what;            /* "libpq", for messages */
	const char *const *names;    /* the functions, in the order of slots */
	size_t n;
	void *slots;                 /* a struct of n function pointers */
	int state;                   /* 0 not tried, 1 loaded, < 0 failed */
	char error[256];             /* dlerror's words when it failed */
};

#define RIP_LAZY_INIT(soname, what, names, slots) \
	{ (soname), (what), (names), RIP_ARRAY_SIZE(names), (slots), 0, "" }

/*
 * Loads l's library and fills its slots, once per process (thread-safe);
 * later calls return at once. Returns 0, or RIP_EIO (the same every time)
 * naming the library and what the loader said, when it or one of its
 * functions cannot be found.
 */
RIP_MUST_CHECK int rip_lazy_load(struct rip_lazy *l, struct rip_err *err);

#endif
