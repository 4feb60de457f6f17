/* SPDX-License-Identifier: MIT */
/*
 * ini.c: inih, wrapped; the only file that calls it.
 *
 * Debian's inih keeps its limits in runtime globals (ini_max_line defaults
 * to 200 bytes and a longer line is silently cut), its handler gets no
 * line number, and it never reports an empty section. So we drive it
 * through our own line reader: it counts lines, refuses over-long ones,
 * and shows every section header to the caller at the line it stands on.
 */
#include <string.h>

#include <ini.h>

#include "ripcord/ini.h"
#include "banned.h"

struct run {
	const char *text;
	size_t pos;
	const char *name;
	size_t max_line;
	int line;
	const struct rip_ini_ops *ops;
	void *user;
	struct rip_err *err;
	int rc;
};

static char *reader(char *str, int num, void *stream)
{
	struct run *r = stream;
	const char *s = r->text + r->pos, *nl;
	size_t len, lead;

	if (r->rc || !*s)
		return NULL;
	nl = strchr(s, '\n');
	len = nl ? (size_t)(nl - s) + 1 : strlen(s);
	r->pos += len;
	r->line++;
	if (len > r->max_line + 1 || len + 2 > (size_t)num) {
		r->rc = rip_err_set(r->err, RIP_ECONFIG, "%s:%d: line longer than "
			"%zu bytes", r->name, r->line, r->max_line);
		return NULL;
	}
	memcpy(str, s, len);
	str[len] = '\0';
	/* skip what inih skips before a header: a BOM on the first line,
	 * and every white-space character (isspace), not only blanks */
	lead = r->line == 1 && !memcmp(str, "\xEF\xBB\xBF", 3) ? 3 : 0;
	lead += strspn(str + lead, " \t\r\v\f");
	if (str[lead] == '[' && r->ops->section)
		r->rc = r->ops->section(r->user, str + lead, r->line, r->err);
	return r->rc ? NULL : str;
}

static int handler(void *user, const char *section, const char *name,
	const char *value)
{
	struct run *r = user;

	if (r->rc)
		return 0;
	r->rc = r->ops->key(r->user, section, name, value, r->line, r->err);
	return r->rc ? 0 : 1;
}

int rip_ini_parse(const char *text, const char *name, size_t max_line,
	bool inline_comments, const struct rip_ini_ops *ops, void *user,
	struct rip_err *err)
{
	struct run r = { text, 0, name, max_line, 0, ops, user, err, 0 };
	int rc;

	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_max_line = (int)max_line + 3;
	ini_initial_alloc = (int)max_line + 3;
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	ini_allow_bom = true;
	ini_allow_inline_comments = inline_comments;
	rc = ini_parse_stream(reader, &r, handler, &r);
	if (r.rc)
		return r.rc;
	if (rc > 0)
		return rip_err_set(err, RIP_ECONFIG, "%s:%d: expected 'key = "
			"value', a comment or a [section] header", name, rc);
	if (rc < 0)
		return rip_err_set(err, RIP_ENOMEM, "%s: cannot parse (inih error "
			"%d)", name, rc);
	return 0;
}
