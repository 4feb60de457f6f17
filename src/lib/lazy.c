/* SPDX-License-Identifier: MIT */
/*
 * lazy.c: dlopen on first use (lazy.h). One mutex for every library: a
 * load happens at most once per library and process, so it is never
 * contended. The library stays loaded until exit (RTLD_NODELETE is
 * implied: nothing unloads it). RTLD_LOCAL keeps its symbols out of the
 * global scope, so a second copy of a library (a test linking libcurl
 * itself) cannot be bound by mistake.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lazy.h"
#include "banned.h"

static pthread_mutex_t lazy_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Loads l; on failure leaves l->error set. Called under lazy_mutex. */
static int lazy_open(struct rip_lazy *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	void **slot = l->slots;

	if (!h) {
		snprintf(l->error, sizeof(l->error), "%s", dlerror());
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		void *sym = dlsym(h, l->names[i]);

		if (!sym) {
			snprintf(l->error, sizeof(l->error), "%s has no %s "
				"(a version older than the one ripcord was "
				"built with?)", l->soname, l->names[i]);
			dlclose(h);
			return -1;
		}
		/* POSIX: a dlsym address converts to a function pointer */
		memcpy(&slot[i], &sym, sizeof(sym));
	}
	return 0;
}

int rip_lazy_load(struct rip_lazy *l, struct rip_err *err)
{
	int state;

	pthread_mutex_lock(&lazy_mutex);
	if (!l->state)
		l->state = lazy_open(l) == 0 ? 1 : -1;
	state = l->state;
	pthread_mutex_unlock(&lazy_mutex);
	if (state > 0)
		return 0;
	return rip_err_set(err, RIP_EIO, "cannot load %s (%s): %s; is it "
		"installed?", l->what, l->soname, l->error);
}
