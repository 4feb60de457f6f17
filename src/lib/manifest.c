/* SPDX-License-Identifier: MIT */
/*
 * manifest.c: ripcord/MANIFEST, ripcord/SHA256SUMS and ripcord/LINKS.
 *
 * Writers are deterministic (fixed key order, sorted lists) because the
 * artifact must be byte-identical when cut twice. Readers are strict: these
 * files come from an artifact that may have been crafted, so every line is
 * checked and anything unexpected is an integrity error naming the line.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/ini.h"
#include "ripcord/manifest.h"
#include "banned.h"

bool rip_release_id_valid(const char *id)
{
	size_t len = strlen(id);

	if (!len || len > 128 || id[0] == '.' || id[0] == '-' ||
	    strstr(id, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("._+-", id[i]))
			return false;
	return true;
}

static void add_list(struct rip_buf *out, const char *key,
	const struct rip_strlist *l)
{
	rip_buf_addf(out, "%s =", key);
	for (size_t i = 0; i < l->n; i++)
		rip_buf_addf(out, "%s %s", i ? "," : "", l->v[i]);
	rip_buf_addch(out, '\n');
}

void rip_manifest_format(struct rip_buf *out, const struct rip_manifest *m)
{
	rip_buf_addf(out, "[release]\nformat = %llu\nid = %s\nproject = %s\n"
		"commit = %s\ntree = %s\nparent = %s\ncreated = %s\n"
		"tool = %s\n\n", (unsigned long long)m->format, m->id,
		m->project, m->commit, m->tree, m->parent ? m->parent : "",
		m->created, m->tool);
	rip_buf_addf(out, "[payload]\nfiles = %llu\nbytes = %llu\n"
		"links = %llu\n", (unsigned long long)m->files,
		(unsigned long long)m->bytes, (unsigned long long)m->links);
	add_list(out, "submodules", &m->submodules);
	rip_buf_adds(out, "\n[migrations]\n");
	add_list(out, "ids", &m->migrations);
}

struct mparse {
	struct rip_manifest *m;
	unsigned seen;
};

enum { M_STR, M_NUM, M_LIST };

static const struct {
	const char *section, *name;
	int type;
	size_t off;
	bool required;
} mkeys[] = {
#define M(f) offsetof(struct rip_manifest, f)
	{ "release", "format", M_NUM, M(format), true },
	{ "release", "id", M_STR, M(id), true },
	{ "release", "project", M_STR, M(project), true },
	{ "release", "commit", M_STR, M(commit), true },
	{ "release", "tree", M_STR, M(tree), true },
	{ "release", "parent", M_STR, M(parent), true },
	{ "release", "created", M_STR, M(created), true },
	{ "release", "tool", M_STR, M(tool), true },
	{ "payload", "files", M_NUM, M(files), true },
	{ "payload", "bytes", M_NUM, M(bytes), true },
	{ "payload", "links", M_NUM, M(links), true },
	{ "payload", "submodules", M_LIST, M(submodules), true },
	{ "migrations", "ids", M_LIST, M(migrations), true },
#undef M
};

static int mhandler(void *user, const char *section, const char *name,
	const char *value, int line, struct rip_err *err)
{
	struct mparse *p = user;
	size_t i;
	void *field;

	for (i = 0; i < RIP_ARRAY_SIZE(mkeys); i++)
		if (!strcmp(mkeys[i].section, section) &&
		    !strcmp(mkeys[i].name, name))
			break;
	if (i == RIP_ARRAY_SIZE(mkeys)) {
		return rip_err_set(err, RIP_EINTEGRITY, "MANIFEST:%d: unknown key "
			"'%s' in [%s] (written by a newer ripcord?)", line, name,
			section);
	}
	if (p->seen & (1u << i)) {
		return rip_err_set(err, RIP_EINTEGRITY, "MANIFEST:%d: key '%s' in "
			"[%s] given twice", line, name, section);
	}
	p->seen |= 1u << i;
	field = (char *)p->m + mkeys[i].off;
	if (mkeys[i].type == M_STR) {
		*(char **)field = value[0] ? rip_xstrdup(value) : NULL;
	} else if (mkeys[i].type == M_LIST) {
		rip_strlist_split(field, value);
	} else {
		char *end;

		errno = 0;
		*(uint64_t *)field = strtoull(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || *end || errno) {
			return rip_err_set(err, RIP_EINTEGRITY, "MANIFEST:%d: '%s' "
				"in [%s] is not a number: '%s'", line, name, section,
				value);
		}
	}
	return 0;
}

int rip_manifest_parse(struct rip_manifest **out, const char *text,
	struct rip_err *err)
{
	static const struct rip_ini_ops ops = { NULL, mhandler };
	struct mparse p = { 0 };
	int rc;

	*out = NULL;
	p.m = rip_xcalloc(1, sizeof(*p.m));
	/* hundreds of migration ids make one long line; 16 MiB bounds it */
	rc = rip_ini_parse(text, "MANIFEST", 16u << 20, false, &ops, &p,
		err);
	if (rc)
		rc = err ? (err->code = RIP_EINTEGRITY) : RIP_EINTEGRITY;
	for (size_t i = 0; !rc && i < RIP_ARRAY_SIZE(mkeys); i++) {
		if (mkeys[i].required && !(p.seen & (1u << i)))
			rc = rip_err_set(err, RIP_EINTEGRITY, "MANIFEST: missing "
				"'%s' in [%s]", mkeys[i].name, mkeys[i].section);
	}
	if (!rc && (!p.m->id || !rip_release_id_valid(p.m->id)))
		rc = rip_err_set(err, RIP_EINTEGRITY, "MANIFEST: bad release id "
			"'%s'", p.m->id ? p.m->id : "");
	if (!rc && p.m->format > RIP_FORMAT_VERSION)
		rc = rip_err_set(err, RIP_EINTEGRITY, "MANIFEST: artifact format "
			"%llu is newer than this ripcord understands (%d); upgrade "
			"ripcord", (unsigned long long)p.m->format,
			RIP_FORMAT_VERSION);
	if (rc) {
		rip_manifest_free(p.m);
		return rc;
	}
	*out = p.m;
	return 0;
}

void rip_manifest_free(struct rip_manifest *m)
{
	if (!m)
		return;
	free(m->id);
	free(m->project);
	free(m->commit);
	free(m->tree);
	free(m->parent);
	free(m->created);
	free(m->tool);
	rip_strlist_release(&m->submodules);
	rip_strlist_release(&m->migrations);
	free(m);
}

void rip_sums_add(struct rip_sums *s, const char *path,
	const unsigned char digest[RIP_SHA256_LEN], const char *target)
{
	struct rip_sum *e;

	RIP_ALLOC_GROW(s->v, s->n + 1, s->alloc);
	e = &s->v[s->n++];
	e->path = rip_xstrdup(path);
	if (digest)
		memcpy(e->digest, digest, RIP_SHA256_LEN);
	else
		memset(e->digest, 0, RIP_SHA256_LEN);
	e->target = target ? rip_xstrdup(target) : NULL;
}

void rip_sums_release(struct rip_sums *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].target);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_sum(const void *a, const void *b)
{
	return strcmp(((const struct rip_sum *)a)->path,
		((const struct rip_sum *)b)->path);
}

void rip_sums_sort(struct rip_sums *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_sum);
}

struct rip_sum *rip_sums_find(const struct rip_sums *s, const char *path)
{
	struct rip_sum key = { .path = (char *)path };

	if (!s->n)
		return NULL;
	return bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_sum);
}

bool rip_sums_has_below(const struct rip_sums *s, const char *dir)
{
	size_t lo = 0, hi = s->n, dl = strlen(dir);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(s->v[mid].path, dir, dl);

		/* bytewise, as the list is sorted: a name byte of 0x80 or more
		 * sorts after '/' */
		if (c < 0 || (c == 0 && (unsigned char)s->v[mid].path[dl] < '/'))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && !strncmp(s->v[lo].path, dir, dl) &&
		s->v[lo].path[dl] == '/';
}

bool rip_manifest_holds_submodule(const struct rip_manifest *m,
	const char *path)
{
	size_t pl;

	if (strncmp(path, "payload/", 8))
		return false;
	path += 8;
	pl = strlen(path);
	for (size_t i = 0; i < m->submodules.n; i++) {
		const char *sub = m->submodules.v[i];
		const char *sp = strrchr(sub, ' ');
		size_t len = sp ? (size_t)(sp - sub) : strlen(sub);

		if (pl <= len && !strncmp(path, sub, pl) &&
		    (pl == len || sub[pl] == '/'))
			return true;
	}
	return false;
}

void rip_sums_format(struct rip_buf *out, const struct rip_sums *s)
{
	char hex[RIP_SHA256_HEX];

	for (size_t i = 0; i < s->n; i++) {
		const char *p = s->v[i].path;
		bool esc = strpbrk(p, "\\\n") != NULL;

		rip_hex(hex, s->v[i].digest, RIP_SHA256_LEN);
		rip_buf_addf(out, "%s%s  ", esc ? "\\" : "", hex);
		for (; *p; p++) {
			if (*p == '\\')
				rip_buf_adds(out, "\\\\");
			else if (*p == '\n')
				rip_buf_adds(out, "\\n");
			else
				rip_buf_addch(out, *p);
		}
		rip_buf_addch(out, '\n');
	}
}

/* Undoes sha256sum's escaping of name[0..len) into out. */
static int unescape(struct rip_buf *out, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (name[i] != '\\') {
			rip_buf_addch(out, name[i]);
			continue;
		}
		if (++i == len)
			return -1;
		if (name[i] == '\\')
			rip_buf_addch(out, '\\');
		else if (name[i] == 'n')
			rip_buf_addch(out, '\n');
		else
			return -1;
	}
	return 0;
}

/* Calls fn for each line of text with its number; stops on error. */
static int each_line(const char *text, struct rip_err *err,
	int (*fn)(const char *, size_t, int, void *, struct rip_err *),
	void *data)
{
	int lineno = 0;

	while (*text) {
		const char *nl = strchr(text, '\n');
		int rc;

		lineno++;
		if (!nl)
			return rip_err_set(err, RIP_EINTEGRITY, "line %d is not "
				"terminated", lineno);
		if ((rc = fn(text, (size_t)(nl - text), lineno, data, err)) < 0)
			return rc;
		text = nl + 1;
	}
	return 0;
}

static int sums_line(const char *s, size_t len, int lineno, void *data,
	struct rip_err *err)
{
	struct rip_buf name = RIP_BUF_INIT;
	unsigned char digest[RIP_SHA256_LEN];
	bool esc = len && s[0] == '\\';
	int rc = 0;

	if (esc) {
		s++;
		len--;
	}
	if (len < 2 * RIP_SHA256_LEN + 3 || s[64] != ' ' || s[65] != ' ' ||
	    rip_unhex(digest, s, RIP_SHA256_LEN) < 0 ||
	    (esc ? unescape(&name, s + 66, len - 66) :
		   (rip_buf_add(&name, s + 66, len - 66), 0)) < 0 ||
	    !name.len || strlen(name.buf) != name.len)
		rc = rip_err_set(err, RIP_EINTEGRITY, "SHA256SUMS:%d: expected "
			"'<64 hex digits>  <path>'", lineno);
	else
		rip_sums_add(data, name.buf, digest, NULL);
	rip_buf_release(&name);
	return rc;
}

/*
 * Parses a SHA256SUMS or LINKS text with line_fn into out, sorted; a path
 * listed twice is an error (what names the file).
 */
static int parse_list(struct rip_sums *out, const char *text,
	int (*line_fn)(const char *, size_t, int, void *, struct rip_err *),
	const char *what, struct rip_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = each_line(text, err, line_fn, out)) < 0) {
		rip_sums_release(out);
		return rc;
	}
	rip_sums_sort(out);
	for (size_t i = 1; i < out->n; i++)
		if (!strcmp(out->v[i].path, out->v[i - 1].path)) {
			rc = rip_err_set(err, RIP_EINTEGRITY, "%s lists '%s' twice",
				what, out->v[i].path);
			rip_sums_release(out);
			return rc;
		}
	return 0;
}

int rip_sums_parse(struct rip_sums *out, const char *text,
	struct rip_err *err)
{
	return parse_list(out, text, sums_line, "SHA256SUMS", err);
}

void rip_links_format(struct rip_buf *out, const struct rip_sums *s)
{
	for (size_t i = 0; i < s->n; i++)
		rip_buf_addf(out, "%s\t%s\n", s->v[i].target, s->v[i].path);
}

static int links_line(const char *s, size_t len, int lineno, void *data,
	struct rip_err *err)
{
	const char *tab = memchr(s, '\t', len);
	char *target, *path;

	if (!tab || tab == s || tab + 1 == s + len ||
	    memchr(tab + 1, '\t', len - (size_t)(tab + 1 - s)) ||
	    memchr(s, '\0', len))
		return rip_err_set(err, RIP_EINTEGRITY, "LINKS:%d: expected "
			"'<target>\\t<path>'", lineno);
	target = rip_xstrndup(s, (size_t)(tab - s));
	path = rip_xstrndup(tab + 1, len - (size_t)(tab + 1 - s));
	rip_sums_add(data, path, NULL, target);
	free(target);
	free(path);
	return 0;
}

int rip_links_parse(struct rip_sums *out, const char *text,
	struct rip_err *err)
{
	return parse_list(out, text, links_line, "LINKS", err);
}
