/* SPDX-License-Identifier: MIT */
/*
 * curl_common.c: libcurl set-up shared by the health probes and the
 * webhook (curl_internal.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "curl_internal.h"
#include "ripcord/buf.h"
#include "rip_version.h"
#include "banned.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_code;

static void global_init_once(void)
{
	global_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int rip_curl_init(struct rip_err *err)
{
	pthread_once(&global_once, global_init_once);
	if (global_code != CURLE_OK)
		return rip_err_set(err, RIP_EIO, "cannot initialize libcurl: %s",
			curl_easy_strerror(global_code));
	return 0;
}

CURLcode rip_curl_common(CURL *e, long timeout_ms, const char *noproxy,
	char *errbuf)
{
	CURLcode rc = CURLE_OK;

	RIP_SETOPT(rc, e, CURLOPT_ERRORBUFFER, errbuf);
	RIP_SETOPT(rc, e, CURLOPT_TIMEOUT_MS, timeout_ms);
	RIP_SETOPT(rc, e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	RIP_SETOPT(rc, e, CURLOPT_NOSIGNAL, 1L);
	RIP_SETOPT(rc, e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
	RIP_SETOPT(rc, e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	RIP_SETOPT(rc, e, CURLOPT_PROTOCOLS,
		(long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87.0 */
	/* cleanup must not wait for a resolver thread stuck on slow DNS */
	RIP_SETOPT(rc, e, CURLOPT_QUICK_EXIT, 1L);
#endif
	RIP_SETOPT(rc, e, CURLOPT_NOPROXY, noproxy);
	RIP_SETOPT(rc, e, CURLOPT_USERAGENT, "ripcord/" RIP_VERSION);
	return rc;
}

/* Loopback never goes through a proxy; the user's no_proxy still holds. */
char *rip_curl_noproxy(void)
{
	const char *env = getenv("no_proxy");

	if (!env || !*env)
		env = getenv("NO_PROXY");
	if (env && !strcmp(env, "*"))
		return rip_xstrdup("*");
	if (env && *env)
		return rip_xasprintf("%s,%s", RIP_CURL_LOOPBACK, env);
	return rip_xstrdup(RIP_CURL_LOOPBACK);
}
