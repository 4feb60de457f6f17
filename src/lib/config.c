/* SPDX-License-Identifier: MIT */
/*
 * config.c: ripcord.ini through inih, strictly.
 *
 * inih is driven through our own line reader, which counts lines (the
 * shared library's handler gets no line number), refuses over-long lines
 * instead of letting inih truncate them, and validates section headers at
 * the line they stand on (inih never reports an empty section). The file is
 * parsed into a fresh struct that the caller sees only when every line and
 * every cross-check passed: a config is never half-applied.
 *
 * The table rip_config_keys (config_keys.c) is the one place that knows
 * the keys, their types and defaults; init's template and the
 * documentation test read it. Single values are read by parse.c, lists
 * kept by strlist.c, typos of keys and sections answered by suggest.c,
 * and the roots of targets checked against each other by config_roots.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ripcord/config.h"
#include "ripcord/fsutil.h"
#include "ripcord/ini.h"
#include "ripcord/suggest.h"
#include "config_internal.h"
#include "banned.h"

#define MAX_LINE 4096
#define MAX_FILE (1 << 20)

/* " (did you mean 'x'?)" after a message, when rip_suggest found an x */
#define DID_YOU_MEAN "%s%s%s"
#define HINT(best) (best) ? " (did you mean '" : "", (best) ? (best) : "", \
	(best) ? "'?)" : ""

static const char *const sections[] = {
	"project", "package", "migrations", "target", "rollout", "rollback",
	"drill", "notify", "ssh",
};

int rip_config_fail(struct rip_config_reader *p, const char *fmt, ...)
{
	struct rip_buf msg = RIP_BUF_INIT;
	va_list ap;

	if (p->failed)
		return RIP_ECONFIG;
	va_start(ap, fmt);
	rip_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	rip_err_set(p->err, RIP_ECONFIG, "%s:%d: %s", p->name, p->line,
		msg.buf);
	rip_buf_release(&msg);
	p->failed = true;
	return RIP_ECONFIG;
}

static const char *type_expects(const struct rip_config_key *k)
{
	switch (k->type) {
	case RIP_CFG_BOOL: return "yes or no";
	case RIP_CFG_UINT: return "a whole number such as 5";
	case RIP_CFG_DURATION:
		return "a duration such as 500ms, 30s, 5m, 24h or 1h30m";
	case RIP_CFG_PERCENT: return "a percentage such as 5%";
	case RIP_CFG_DOUBLE: return "a number such as 0.01";
	case RIP_CFG_STEPS:
		return "increasing percentages ending at 100%, such as "
		       "25%, 50%, 100%";
	case RIP_CFG_URL: return "an http:// or https:// URL";
	default: return "a value";
	}
}

static char **str_field(void *base, const struct rip_config_key *k)
{
	return (char **)((char *)base + k->offset);
}

static bool enum_ok(const char *choices, const char *v)
{
	size_t vl = strlen(v);

	for (const char *c = choices; c; ) {
		const char *bar = strchr(c, '|');
		size_t cl = bar ? (size_t)(bar - c) : strlen(c);

		if (cl == vl && !strncmp(c, v, vl))
			return true;
		c = bar ? bar + 1 : NULL;
	}
	return false;
}

/*
 * Splits v on spaces and tabs into the list at field. Nothing is quoted:
 * a quote or a backslash would reach the program as written, so they are
 * refused rather than half-honoured.
 */
static int set_argv(struct rip_config_reader *p, struct rip_strlist *field,
	const struct rip_config_key *k, const char *v)
{
	struct rip_strlist words = { 0 };
	const char *s = v;

	if (v[strcspn(v, "\\\"'`")])
		return rip_config_fail(p, "%s '%s' holds a quote or a backslash: it is split "
			"on spaces, without quoting (put options that need "
			"quoting in ~/.ssh/config)", k->name, v), -1;
	for (;;) {
		size_t l;
		char *w;

		s += strspn(s, " \t");
		if (!(l = strcspn(s, " \t")))
			break;
		w = rip_xstrndup(s, l);
		rip_strlist_push(&words, w);
		free(w);
		s += l;
	}
	if (!words.n)
		return rip_config_fail(p, "%s needs a value (%s)", k->name, k->help), -1;
	rip_strlist_release(field);
	*field = words;
	return 0;
}

/* Stores value into the field k describes; 0, or -1 after rip_config_fail(). */
static int set_value(struct rip_config_reader *p, void *base,
	const struct rip_config_key *k, const char *v)
{
	void *field = (char *)base + k->offset;
	char *path;

	/* an empty value unsets a key, but a key with a default has no
	 * "unset": leaving it out is how to get the default */
	if (!v[0] && k->def && k->def[0] && k->type != RIP_CFG_LIST)
		return rip_config_fail(p, "%s needs a value (default: %s; remove the line "
			"to use the default)", k->name, k->def), -1;
	if (!v[0] && k->required)
		return rip_config_fail(p, "%s needs a value (%s)", k->name, k->help), -1;
	switch (k->type) {
	case RIP_CFG_STRING:
	case RIP_CFG_TREEPATH:
		free(*str_field(base, k));
		*str_field(base, k) = v[0] ? rip_xstrdup(v) : NULL;
		return 0;
	case RIP_CFG_ENUM:
		if (!enum_ok(k->choices, v))
			return rip_config_fail(p, "'%s' is not a valid %s (expected one of "
				"%s)", v, k->name, k->choices), -1;
		free(*str_field(base, k));
		*str_field(base, k) = rip_xstrdup(v);
		return 0;
	case RIP_CFG_URL:
		if (v[0] && strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
			return rip_config_fail(p, "%s '%s' is not a URL (expected %s)",
				k->name, v, type_expects(k)), -1;
		free(*str_field(base, k));
		*str_field(base, k) = v[0] ? rip_xstrdup(v) : NULL;
		return 0;
	case RIP_CFG_PATH:
	case RIP_CFG_PATH_EXISTS:
		free(*str_field(base, k));
		*str_field(base, k) = NULL;
		if (!v[0])
			return 0;
		path = rip_path_join(p->dir, v);
		if (k->type == RIP_CFG_PATH_EXISTS && !rip_path_exists(path)) {
			rip_config_fail(p, "%s '%s' does not exist (looked for '%s'; paths are "
				"relative to the config file's folder)", k->name, v,
				path);
			free(path);
			return -1;
		}
		*str_field(base, k) = path;
		return 0;
	case RIP_CFG_BOOL:
		if (rip_parse_bool(field, v) < 0)
			break;
		return 0;
	case RIP_CFG_UINT:
		if (rip_parse_uint(field, v) < 0)
			break;
		return 0;
	case RIP_CFG_DURATION:
		if (rip_parse_duration(field, v) < 0)
			break;
		return 0;
	case RIP_CFG_PERCENT:
		if (rip_parse_percent(field, v) < 0)
			break;
		return 0;
	case RIP_CFG_DOUBLE: {
		char *end;
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (!v[0] || *end || errno || !isfinite(d))
			break;
		*(double *)field = d;
		return 0;
	}
	case RIP_CFG_LIST:
		rip_strlist_release(field);
		rip_strlist_split(field, v);
		return 0;
	case RIP_CFG_ARGV:
		return set_argv(p, field, k, v);
	case RIP_CFG_STEPS: {
		struct rip_steps st;

		if (rip_parse_steps(&st, v) < 0)
			break;
		free(((struct rip_steps *)field)->v);
		*(struct rip_steps *)field = st;
		return 0;
	}
	}
	return rip_config_fail(p, "bad value '%s' for %s (expected %s)", v, k->name,
		type_expects(k)), -1;
}

static void apply_defaults(struct rip_config_reader *p, void *base, bool target)
{
	for (size_t i = 0; i < rip_config_nkeys; i++) {
		const struct rip_config_key *k = &rip_config_keys[i];

		if (!k->def || (!strcmp(k->section, "target")) != target)
			continue;
		/* the built-in defaults are valid by construction */
		(void)set_value(p, base, k, k->def);
	}
}

static int section_index(const char *name)
{
	for (size_t i = 0; i < RIP_ARRAY_SIZE(sections); i++)
		if (!strcmp(sections[i], name))
			return (int)i;
	return -1;
}

static bool valid_target_name(const char *s, size_t len)
{
	if (!len || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

static void add_target(struct rip_config_reader *p, const char *name, size_t len)
{
	struct rip_config *c = p->cfg;
	struct rip_target *t;
	size_t alloc;

	for (size_t i = 0; i < c->n_targets; i++) {
		if (strlen(c->targets[i].name) == len &&
		    !strncmp(c->targets[i].name, name, len)) {
			rip_config_fail(p, "target '%.*s' is defined twice (first at line %d)",
				(int)len, name, c->targets[i].line);
			return;
		}
	}
	/* both grow here only, one target at a time */
	alloc = rip_grow_alloc(c->n_targets);
	RIP_ALLOC_GROW(c->targets, c->n_targets + 1, alloc);
	alloc = rip_grow_alloc(c->n_targets);
	RIP_ALLOC_GROW(p->target_seen, c->n_targets + 1, alloc);
	p->target_seen[c->n_targets] = rip_xcalloc(rip_config_nkeys,
		sizeof(int));
	t = &c->targets[c->n_targets++];
	memset(t, 0, sizeof(*t));
	t->name = rip_xstrndup(name, len);
	t->line = p->line;
	apply_defaults(p, t, true);
	p->target = t;
}

/* Reads host value v into t's ssh_dest and ssh_port (config_host.c);
 * 0, or -1 after rip_config_fail(). */
static int set_host(struct rip_config_reader *p, struct rip_target *t, const char *v)
{
	struct rip_buf why = RIP_BUF_INIT;
	char *dest;
	unsigned port;

	if (rip_config_host_parse(&dest, &port, v, &why) < 0) {
		rip_config_fail(p, "%s", why.buf);
		rip_buf_release(&why);
		return -1;
	}
	free(t->ssh_dest);
	t->ssh_dest = dest;
	t->ssh_port = port;
	return 0;
}

/* The checks of [ssh] (and [rollout] failure_threshold) a type cannot
 * express; 0, or -1 after rip_config_fail(). */
static int check_ssh(struct rip_config_reader *p, const struct rip_config_key *k)
{
	const struct rip_config *c = p->cfg;

	if (!strcmp(k->name, "failure_threshold") &&
	    !c->rollout.failure_threshold)
		return rip_config_fail(p, "failure_threshold must be at least 1 (%s)",
			k->help), -1;
	if (strcmp(k->section, "ssh"))
		return 0;
	if (!strcmp(k->name, "parallel") && c->ssh.parallel < 1)
		return rip_config_fail(p, "parallel must be at least 1 (%s)", k->help), -1;
	if (!strcmp(k->name, "connect_timeout") && !c->ssh.connect_timeout_ms)
		return rip_config_fail(p, "connect_timeout must be more than 0 (%s)",
			k->help), -1;
	if (!strcmp(k->name, "agent_path"))
		for (const char *s = c->ssh.agent_path; s && *s; s++)
			if (iscntrl((unsigned char)*s))
				return rip_config_fail(p, "agent_path '%s' holds a control "
					"character (expected the path of ripcord on "
					"the hosts)", c->ssh.agent_path), -1;
	return 0;
}

/* The checks of the baseline comparison's keys a type cannot express;
 * 0, or -1 after rip_config_fail(). */
static int check_judge(struct rip_config_reader *p, const struct rip_config_key *k)
{
	const struct rip_config *c = p->cfg;

	if (strcmp(k->section, "rollout"))
		return 0;
	if (!strcmp(k->name, "confidence") && !(c->rollout.confidence > 0 &&
	    c->rollout.confidence < 1))
		return rip_config_fail(p, "confidence must be above 0%% and below 100%% "
			"(such as 95%%)"), -1;
	if (!strcmp(k->name, "effect_min_ms") && !(c->rollout.effect_min_ms >= 0))
		return rip_config_fail(p, "effect_min_ms must be 0 or more (%s)", k->help),
			-1;
	if ((!strcmp(k->name, "pass_score") && c->rollout.pass_score > 100) ||
	    (!strcmp(k->name, "marginal_score") &&
	     c->rollout.marginal_score > 100))
		return rip_config_fail(p, "%s must be 0 to 100 (%s)", k->name, k->help), -1;
	return 0;
}

/* The scores and weights together, after the whole file: 0, or -1 after
 * rip_config_fail() at the line of the key that breaks the rule. */
static int check_scores(struct rip_config_reader *p)
{
	const struct rip_config *c = p->cfg;
	size_t kp = 0, km = 0, kl = 0, ke = 0;

	for (size_t i = 0; i < rip_config_nkeys; i++) {
		const struct rip_config_key *k = &rip_config_keys[i];

		if (strcmp(k->section, "rollout"))
			continue;
		kp = strcmp(k->name, "pass_score") ? kp : i;
		km = strcmp(k->name, "marginal_score") ? km : i;
		kl = strcmp(k->name, "latency_weight") ? kl : i;
		ke = strcmp(k->name, "errors_weight") ? ke : i;
	}
	if (c->rollout.marginal_score > c->rollout.pass_score) {
		p->line = p->seen[km] > p->seen[kp] ? p->seen[km] : p->seen[kp];
		return rip_config_fail(p, "marginal_score %llu is above pass_score %llu "
			"(a score below marginal_score fails the step, one below "
			"pass_score is inconclusive)",
			(unsigned long long)c->rollout.marginal_score,
			(unsigned long long)c->rollout.pass_score), -1;
	}
	if (c->rollout.compare_baseline && !c->rollout.latency_weight &&
	    !c->rollout.errors_weight) {
		p->line = p->seen[kl] > p->seen[ke] ? p->seen[kl] : p->seen[ke];
		return rip_config_fail(p, "latency_weight and errors_weight are both 0: the "
			"baseline comparison has nothing to score (give one a "
			"weight, or set compare_baseline = no)"), -1;
	}
	return 0;
}

/* A path key of [target]: what it means depends on host, which may come
 * later in the section, so it is kept as written until finish_target. */
static bool deferred(const struct rip_config_key *k)
{
	return !strcmp(k->section, "target") && (k->type == RIP_CFG_PATH ||
		k->type == RIP_CFG_PATH_EXISTS);
}

/*
 * Once target i's section is read: without host, its paths are resolved
 * (and checked) on this machine as any path; with host, root is a path on
 * that host and must be absolute, and the other paths (activate) are kept
 * as written, for the host to read. 0, or -1 after rip_config_fail().
 */
static int finish_target(struct rip_config_reader *p, size_t i)
{
	struct rip_target *t = &p->cfg->targets[i];

	for (size_t j = 0; j < rip_config_nkeys; j++) {
		const struct rip_config_key *k = &rip_config_keys[j];
		char **f, *raw;

		if (!deferred(k) || !*str_field(t, k))
			continue;
		f = str_field(t, k);
		raw = *f;
		p->line = p->target_seen[i][j];
		if (t->host) {
			if (!strcmp(k->name, "root") && raw[0] != '/')
				return rip_config_fail(p, "target '%s' has host '%s': its root "
					"is a path on that host and must be absolute "
					"(not '%s')", t->name, t->host, raw), -1;
			continue;
		}
		*f = NULL;
		if (set_value(p, t, k, raw) < 0) {
			free(raw);
			return -1;
		}
		free(raw);
	}
	return 0;
}

/* Validates a "[...]" line; sets p->section and p->target. */
static int header(void *user, const char *s, int line, struct rip_err *err)
{
	struct rip_config_reader *p = user;
	const char *end = strchr(s, ']');
	const char *q, *tail = NULL;
	const char *best;
	char inner[256];
	size_t len;
	int idx;

	(void)err;
	if (p->target && finish_target(p, (size_t)(p->target -
			p->cfg->targets)) < 0)
		return RIP_ECONFIG;
	p->target = NULL;
	p->line = line;
	if (end)
		tail = end + 1 + strspn(end + 1, " \t\r\n");
	if (!end || (*tail && *tail != ';' && *tail != '#'))
		return rip_config_fail(p, "malformed section header (expected "
			"[section] or [target \"NAME\"])");
	len = (size_t)(end - s - 1);
	if (len >= sizeof(inner))
		return rip_config_fail(p, "section name too long");
	memcpy(inner, s + 1, len);
	inner[len] = '\0';
	if (!strcmp(inner, "target"))
		return rip_config_fail(p, "[target] needs a name: [target \"NAME\"]");
	if (!strncmp(inner, "target", 6) && (inner[6] == ' ' ||
			inner[6] == '"' || inner[6] == '\0')) {
		q = inner + 6 + strspn(inner + 6, " ");
		len = strlen(q);
		if (len < 2 || q[0] != '"' || q[len - 1] != '"' ||
		    !valid_target_name(q + 1, len - 2))
			return rip_config_fail(p, "bad target header [%s] (expected "
				"[target \"NAME\"], NAME of letters, digits, '.', "
				"'_' and '-')", inner);
		p->section = "target";
		add_target(p, q + 1, len - 2);
		return p->failed ? RIP_ECONFIG : 0;
	}
	idx = section_index(inner);
	if (idx < 0) {
		best = rip_suggest(inner, sections, RIP_ARRAY_SIZE(sections));
		return rip_config_fail(p, "unknown section [%s]" DID_YOU_MEAN, inner,
			HINT(best));
	}
	p->section = sections[idx];
	return 0;
}

/* The key name in section; NULL, and in *best a likely typo's fix, if none. */
static const struct rip_config_key *find_key(const char **best,
	const char *section, const char *name)
{
	const char *cands[64];
	size_t n = 0;

	for (size_t i = 0; i < rip_config_nkeys; i++) {
		const struct rip_config_key *k = &rip_config_keys[i];

		if (strcmp(k->section, section))
			continue;
		if (!strcmp(k->name, name))
			return k;
		if (n < RIP_ARRAY_SIZE(cands))
			cands[n++] = k->name;
	}
	*best = rip_suggest(name, cands, n);
	return NULL;
}

static int handler(void *user, const char *section, const char *name,
	const char *value, int line, struct rip_err *err)
{
	struct rip_config_reader *p = user;
	const struct rip_config_key *k;
	const char *best = NULL;
	void *base;
	int *seen;

	(void)section;
	(void)err;
	p->line = line;
	if (!p->section)
		return rip_config_fail(p, "'%s' outside any section (expected a [section] "
			"header first)", name);
	k = find_key(&best, p->section, name);
	if (!k)
		return rip_config_fail(p, "unknown key '%s' in [%s]" DID_YOU_MEAN, name,
			p->section, HINT(best));
	if (p->target) {
		base = p->target;
		seen = p->target_seen[p->target - p->cfg->targets];
	} else {
		base = p->cfg;
		seen = p->seen;
	}
	if (seen[k - rip_config_keys])
		return rip_config_fail(p, "'%s' is set twice in [%s] (first at line %d)",
			name, p->section, seen[k - rip_config_keys]);
	seen[k - rip_config_keys] = p->line;
	if (p->target && deferred(k)) {
		struct rip_config_key raw = *k;

		raw.type = RIP_CFG_STRING;
		return set_value(p, base, &raw, value) < 0 ? RIP_ECONFIG : 0;
	}
	if (p->target && !strcmp(k->name, "host"))
		return set_host(p, p->target, value) < 0 ||
			set_value(p, base, k, value) < 0 ? RIP_ECONFIG : 0;
	return set_value(p, base, k, value) < 0 ||
		check_ssh(p, k) < 0 || check_judge(p, k) < 0 ? RIP_ECONFIG : 0;
}

static int check_required(struct rip_config_reader *p)
{
	for (size_t t = 0; t < p->cfg->n_targets; t++) {
		for (size_t i = 0; i < rip_config_nkeys; i++) {
			const struct rip_config_key *k = &rip_config_keys[i];

			if (!k->required || strcmp(k->section, "target") ||
			    p->target_seen[t][i])
				continue;
			p->line = p->cfg->targets[t].line;
			rip_config_fail(p, "[target \"%s\"] has no '%s' (required: %s)",
				p->cfg->targets[t].name, k->name, k->help);
			return -1;
		}
	}
	return 0;
}

static void default_name(struct rip_config *cfg)
{
	const char *base;

	if (cfg->project.name)
		return;
	base = strrchr(cfg->dir, '/');
	base = base && base[1] ? base + 1 : cfg->dir;
	cfg->project.name = rip_xstrdup(base);
}

int rip_config_parse(struct rip_config **out, const char *text,
	const char *name, const char *dir, struct rip_err *err)
{
	struct rip_config_reader p = { 0 };
	struct rip_config *cfg = rip_xcalloc(1, sizeof(*cfg));
	static const struct rip_ini_ops ops = { header, handler };

	*out = NULL;
	p.name = name;
	p.cfg = cfg;
	p.err = err;
	p.seen = rip_xcalloc(rip_config_nkeys, sizeof(int));
	cfg->path = rip_path_absolute(name);
	cfg->dir = rip_path_absolute(dir);
	/* relative paths in the file resolve against its folder, absolute:
	 * hooks run in release folders, far from where ripcord started */
	p.dir = cfg->dir;
	apply_defaults(&p, cfg, false);

	if (rip_ini_parse(text, name, MAX_LINE, true, &ops, &p, err) < 0)
		p.failed = true;
	if (!p.failed && p.target)
		finish_target(&p, (size_t)(p.target - cfg->targets));
	if (!p.failed)
		check_required(&p);
	if (!p.failed)
		rip_config_check_roots(&p);
	if (!p.failed)
		check_scores(&p);
	if (!p.failed)
		default_name(cfg);

	for (size_t i = 0; i < cfg->n_targets; i++)
		free(p.target_seen[i]);
	free(p.target_seen);
	free(p.seen);
	if (p.failed) {
		rip_config_free(cfg);
		return RIP_ECONFIG;
	}
	*out = cfg;
	return 0;
}

int rip_config_load(struct rip_config **out, const char *path,
	struct rip_err *err)
{
	struct rip_buf text = RIP_BUF_INIT;
	char *dir;
	int rc;

	*out = NULL;
	if ((rc = rip_read_file(&text, path, MAX_FILE, err)) < 0) {
		rip_buf_release(&text);
		return rc == RIP_ENOTFOUND || rc == RIP_EINTEGRITY ?
			rip_err_prefix(err, "config"), RIP_ECONFIG : rc;
	}
	if (text.len != strlen(text.buf)) {
		rip_buf_release(&text);
		return rip_err_set(err, RIP_ECONFIG, "%s: binary data in a "
			"config file", path);
	}
	dir = rip_path_dirname(path);
	rc = rip_config_parse(out, text.buf, path, dir, err);
	free(dir);
	rip_buf_release(&text);
	return rc;
}

int rip_config_find(char **out, const char *start, struct rip_err *err)
{
	char *dir = realpath(start, NULL);

	*out = NULL;
	if (!dir)
		return rip_err_errno(err, RIP_ENOTFOUND, "cannot resolve '%s'",
			start);
	for (;;) {
		char *cand = rip_path_join(dir, "ripcord.ini");
		char *up;

		if (rip_path_exists(cand)) {
			free(dir);
			*out = cand;
			return 0;
		}
		free(cand);
		if (!strcmp(dir, "/"))
			break;
		up = rip_path_dirname(dir);
		free(dir);
		dir = up;
	}
	free(dir);
	return rip_err_set(err, RIP_ENOTFOUND, "no ripcord.ini here or in any "
		"parent folder (run 'ripcord init', or pass -c FILE)");
}

static void free_fields(void *base, bool target)
{
	for (size_t i = 0; i < rip_config_nkeys; i++) {
		const struct rip_config_key *k = &rip_config_keys[i];
		void *field = (char *)base + k->offset;

		if ((!strcmp(k->section, "target")) != target)
			continue;
		switch (k->type) {
		case RIP_CFG_LIST: case RIP_CFG_ARGV:
			rip_strlist_release(field);
			break;
		case RIP_CFG_STEPS:
			free(((struct rip_steps *)field)->v);
			break;
		case RIP_CFG_STRING: case RIP_CFG_PATH:
		case RIP_CFG_PATH_EXISTS: case RIP_CFG_TREEPATH:
		case RIP_CFG_ENUM: case RIP_CFG_URL:
			free(*(char **)field);
			break;
		default:
			break;
		}
	}
}

void rip_config_free(struct rip_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_targets; i++) {
		free_fields(&cfg->targets[i], true);
		free(cfg->targets[i].name);
		free(cfg->targets[i].ssh_dest);
	}
	free(cfg->targets);
	free_fields(cfg, false);
	free(cfg->path);
	free(cfg->dir);
	free(cfg);
}
