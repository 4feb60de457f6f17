/* SPDX-License-Identifier: MIT */
/*
 * config_host.c: the host key of a [target "NAME"] (ripcord.ini(5)),
 * read into what ssh is given.
 *
 * The accepted forms are few and the characters of their names narrow
 * (letters, digits, '.', '_', '-'; hex and ':' for IPv6), on purpose: the
 * destination is an argument of ssh, which a leading '-' would turn into
 * an option, and ssh hands the host name to a ProxyCommand's shell as
 * %h. Anything wider is refused with what was expected, never quoted.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/buf.h"
#include "config_internal.h"
#include "banned.h"

static int refuse(struct rip_buf *why, const char *fmt, ...)
	RIP_PRINTF(2, 3);

/* Adds the message to why; returns -1. */
static int refuse(struct rip_buf *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rip_buf_vaddf(why, fmt, ap);
	va_end(ap);
	return -1;
}

#define HOST_FORMS "USER@HOST, HOST or ssh://[USER@]HOST[:PORT]"

/* Letters, digits, '.', '_' and '-': what a user or host name is made of
 * here, so nothing reaches ssh (or a ProxyCommand's %h) that a shell or
 * ssh's own parser could read as more than a name. */
static bool name_ok(const char *s, size_t len)
{
	if (!len || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

/* An IPv6 address: hex digits, '.' and at least two ':', then maybe a
 * "%zone" of name characters. */
static bool ipv6_ok(const char *s, size_t len)
{
	size_t colons = 0, i;

	for (i = 0; i < len && s[i] != '%'; i++) {
		if (s[i] == ':')
			colons++;
		else if (!isxdigit((unsigned char)s[i]) && s[i] != '.')
			return false;
	}
	return colons >= 2 && (i == len || name_ok(s + i + 1, len - i - 1));
}

/* "1".."65535", digits only; 0 when it is not. */
static unsigned port_value(const char *s, size_t len)
{
	unsigned v = 0;

	if (!len || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= 65535 ? v : 0;
}

/* Refuses what no form of host allows: 0, or -1 with the message in why. */
static int host_chars(struct rip_buf *why, const char *v)
{
	if (!v[0])
		return refuse(why, "host needs a value (" HOST_FORMS "; leave host "
			"out for a root on this machine)");
	for (const char *c = v; *c; c++) {
		if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c))
			return refuse(why, "host '%s' holds white space or a control "
				"character (expected " HOST_FORMS ")", v);
		if (strchr("\"'`", *c))
			return refuse(why, "host '%s' holds a quote (expected "
				HOST_FORMS ")", v);
	}
	if (v[0] == '-')
		return refuse(why, "host '%s' starts with '-', which ssh would take "
			"for an option (expected " HOST_FORMS ")", v);
	return 0;
}

/*
 * Splits the part of an ssh:// URL after "//" (s, up to end) into its
 * host (brackets stripped) and port; 0, or -1 with the message in why.
 */
static int url_host(struct rip_buf *why, const char *v, const char *s,
	const char *end, const char **h, size_t *hl, unsigned *port)
{
	const char *colon, *close;

	*port = 0;
	if (*s == '[') {
		close = memchr(s, ']', (size_t)(end - s));
		if (!close || !ipv6_ok(s + 1, (size_t)(close - s - 1)))
			return refuse(why, "host '%s' has a bad IPv6 address (expected "
				"ssh://[USER@][ADDRESS][:PORT], such as "
				"ssh://[fe80::1]:22)", v);
		*h = s + 1;
		*hl = (size_t)(close - s - 1);
		colon = close + 1 < end ? close + 1 : NULL;
		if (colon && *colon != ':')
			return refuse(why, "host '%s' has '%c' after the IPv6 address "
				"(expected ':PORT' or nothing)", v, *colon);
	} else {
		colon = memchr(s, ':', (size_t)(end - s));
		*h = s;
		*hl = (size_t)((colon ? colon : end) - s);
	}
	if (colon && !(*port = port_value(colon + 1,
			(size_t)(end - colon - 1))))
		return refuse(why, "host '%s' has a bad port '%.*s' (expected a "
			"number from 1 to 65535)", v, (int)(end - colon - 1),
			colon + 1);
	return 0;
}

int rip_config_host_parse(char **dest, unsigned *port_out, const char *v,
	struct rip_buf *why)
{
	const char *s = v, *end, *sep, *at = NULL, *h;
	size_t hl = 0;
	unsigned port = 0;

	if (host_chars(why, v) < 0)
		return -1;
	if ((sep = strstr(v, "://"))) {
		if (sep - v != 3 || strncmp(v, "ssh", 3))
			return refuse(why, "host '%s' has the scheme '%.*s', which ripcord "
				"does not know (expected ssh://[USER@]HOST[:PORT])", v,
				(int)(sep - v), v);
		s = sep + 3;
		end = s + strcspn(s, "/?#");
		/* "ssh://h/" has an empty path, which is no path */
		if (*end && strcmp(end, "/"))
			return refuse(why, "host '%s' has a path or query after the host "
				"(expected ssh://[USER@]HOST[:PORT] and nothing after "
				"it: root names the folder on the host)", v);
	} else {
		end = v + strlen(v);
	}
	for (const char *c = s; c < end; c++)
		if (*c == '@')
			at = c;
	if (at && !name_ok(s, (size_t)(at - s)))
		return refuse(why, "host '%s' has a bad user '%.*s' (expected letters, "
			"digits, '.', '_' and '-', not starting with '-')", v,
			(int)(at - s), s);
	h = at ? at + 1 : s;
	if (sep) {
		if (url_host(why, v, h, end, &h, &hl, &port) < 0)
			return -1;
	} else {
		hl = (size_t)(end - h);
		if (memchr(h, ':', hl) && !ipv6_ok(h, hl))
			return refuse(why, "host '%s' has a ':' but is not an ssh:// URL "
				"(for a port, write ssh://[USER@]HOST:PORT)", v);
	}
	if (!name_ok(h, hl) && !ipv6_ok(h, hl))
		return refuse(why, "host '%s' has a bad host name '%.*s' (expected "
			"letters, digits, '.', '_' and '-', not starting with '-', "
			"or an IPv6 address; forms: " HOST_FORMS ")", v, (int)hl, h);
	*dest = at ? rip_xasprintf("%.*s@%.*s", (int)(at - s), s, (int)hl,
		h) : rip_xstrndup(h, hl);
	*port_out = port;
	return 0;
}
