/* SPDX-License-Identifier: MIT */
/*
 * http.h: URLs as ripcord shows them. Webhook and query URLs often embed
 * tokens, so every message and log line shows a URL only masked.
 * (The HTTP client itself is internal to the library: src/lib/http.c.)
 */
#ifndef RIPCORD_HTTP_H
#define RIPCORD_HTTP_H

#include "ripcord/common.h"

/*
 * url as it may be shown: scheme://[user:***@]host[:port]/path, the query
 * shown as "?…" and a fragment as "#…", a user name alone (often a token)
 * as "***@", every path segment of 16 or more characters as "…" (Slack
 * and Discord put their tokens there), and spaces and control characters
 * as '?' so that it stays one word of a log line.
 * "(none)" for NULL. Returns a newly allocated string; never NULL.
 */
char *rip_http_mask_url(const char *url);

#endif
