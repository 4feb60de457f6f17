/* SPDX-License-Identifier: MIT */
/*
 * curl_internal.h: what probe.c and notify.c share about libcurl: its
 * one-time global set-up and the options every request of ours carries.
 */
#ifndef RIPCORD_CURL_INTERNAL_H
#define RIPCORD_CURL_INTERNAL_H

#include <curl/curl.h>

#include "ripcord/err.h"

#define RIP_CURL_LOOPBACK "localhost,127.0.0.1,::1"

/* Sets one option while every earlier one worked. */
#define RIP_SETOPT(rc, e, opt, val) do { \
	if ((rc) == CURLE_OK) \
		(rc) = curl_easy_setopt((e), (opt), (val)); \
} while (0)

/* curl_global_init, once per process, whichever thread asks first. */
int rip_curl_init(struct rip_err *err);

/*
 * The options of every request: errbuf, timeout_ms for connecting and in
 * all, no signals, no redirects, http and https only, a quick exit, our
 * user agent, and noproxy (proxies from the environment stay in force
 * except for those hosts).
 */
CURLcode rip_curl_common(CURL *e, long timeout_ms, const char *noproxy,
	char *errbuf);

/*
 * The hosts no proxy is used for: loopback, plus the user's no_proxy
 * (NO_PROXY); "*" when that is "*". Newly allocated.
 */
char *rip_curl_noproxy(void);

#endif
