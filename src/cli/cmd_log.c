/* SPDX-License-Identifier: MIT */
/*
 * cmd_log.c: `ripcord log [-n N] [--json] [--verify] [--aborts]`: the
 * audit log of the store, oldest first, the check of its hash chain, and
 * the aborts ledger (built by aborts.c, shared with `ripcord report
 * --json`): every aborted rollout with the gate that fired, its numbers,
 * what the abort undid and the audit entry of the command that aborted
 * it. It only reads: no lock, and reading the log adds no entry to it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ripcord/buf.h"
#include "ripcord/digest.h"
#include "ripcord/journal.h"
#include "ripcord/rollout.h"
#include "ripcord/store.h"
#include "json_internal.h"
#include "banned.h"

struct log_opts {
	size_t n;        /* 0: all */
	bool verify;
	bool aborts;
};

/* "2026-11-27 12:00:05", UTC: an audit trail wants the second. */
static void format_when(char *out, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/*
 * Sets b to s (or "s@host") with control characters shown as '?', so one
 * entry stays one line. Returns b->buf.
 */
static const char *one_line(struct rip_buf *b, const char *s,
	const char *host)
{
	rip_buf_reset(b);
	rip_buf_adds(b, s);
	if (host) {
		rip_buf_addch(b, '@');
		rip_buf_adds(b, host);
	}
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->buf[i] < 0x20 || b->buf[i] == 0x7f)
			b->buf[i] = '?';
	return b->buf;
}

static int width(const struct rip_audit *a, bool command)
{
	size_t w = command ? strlen("COMMAND") : strlen("USER@HOST");

	for (size_t i = 0; i < a->n; i++) {
		size_t l = command ? strlen(a->v[i].command) :
			strlen(a->v[i].user) + 1 + strlen(a->v[i].host);

		if (l > w)
			w = l;
	}
	return w > 60 ? 60 : (int)w;
}

/* Under an entry that says what it did: "  v1 -> v2 on web-1,web-2;
 * up 0003_add_note". */
static void print_what(const struct rip_audit_entry *e, struct rip_buf *b)
{
	struct rip_buf line = RIP_BUF_INIT;

	if (!e->from && !e->to && !e->targets && !e->migrations)
		return;
	if (e->from || e->to)
		rip_buf_addf(&line, "%s -> %s", e->from ? e->from : "-",
			e->to ? e->to : "-");
	if (e->targets)
		rip_buf_addf(&line, "%son %s", line.len ? " " : "", e->targets);
	if (e->migrations)
		rip_buf_addf(&line, "%s%s", line.len ? "; " : "", e->migrations);
	printf("%19s   %s\n", "", one_line(b, line.buf, NULL));
	rip_buf_release(&line);
}

static void print_table(const struct rip_audit *a)
{
	struct rip_buf who = RIP_BUF_INIT, cmd = RIP_BUF_INIT, res = RIP_BUF_INIT;
	int ww = width(a, false), cw = width(a, true);

	printf("%-19s %-*s %4s %8s %-*s %s\n", "WHEN UTC", ww, "USER@HOST",
		"EXIT", "SECONDS", cw, "COMMAND", "RESULT");
	for (size_t i = 0; i < a->n; i++) {
		const struct rip_audit_entry *e = &a->v[i];
		char when[32];

		format_when(when, sizeof(when), e->at);
		printf("%-19s %-*s %4d %8.3f %-*s %s\n", when, ww,
			one_line(&who, e->user, e->host), e->exit_code, e->seconds,
			cw, one_line(&cmd, e->command, NULL),
			one_line(&res, e->result, NULL));
		print_what(e, &res);
	}
	rip_buf_release(&who);
	rip_buf_release(&cmd);
	rip_buf_release(&res);
}

static json_t *to_json(const struct rip_audit *a)
{
	json_t *list = json_array();

	for (size_t i = 0; i < a->n; i++) {
		const struct rip_audit_entry *e = &a->v[i];

		/* from, to, targets, migrations: null where the command did
		 * not say (and in entries older than state.db schema 7) */
		json_array_append_new(list, json_pack("{s:I, s:I, s:s, s:I, s:s, "
			"s:s, s:s, s:i, s:f, s:s, s:s, s:s?, s:s?, s:s?, s:s?}", "seq",
			(json_int_t)e->seq, "at", (json_int_t)e->at, "user", e->user,
			"uid", (json_int_t)e->uid, "host", e->host, "command",
			e->command, "result", e->result, "exit_code", e->exit_code,
			"seconds", e->seconds, "prev_sha256", e->prev_sha256, "sha256",
			e->sha256, "from", e->from, "to", e->to, "targets", e->targets,
			"migrations", e->migrations));
	}
	return list;
}

/*
 * cli_print_json with 12 significant digits for reals: seconds is a whole
 * number of milliseconds, and jansson's default of 17 would print 0.037
 * as 0.036999999999999998.
 */
static void print_json(json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII |
		JSON_REAL_PRECISION(12));

	if (s) {
		puts(s);
		free(s);
	}
	json_decref(doc);
}

static int list(struct cli *cli, struct rip_store *store, size_t n)
{
	struct rip_audit a = { 0 };
	struct rip_err err = { 0 };
	int rc;

	if (store && (rc = rip_audit_list(&a, store->state, n, &err)) < 0)
		return cli_fail(&err, rc);
	if (cli->json)
		print_json(to_json(&a));
	else if (!a.n)
		printf("no audit entries yet\n");
	else
		print_table(&a);
	rip_audit_release(&a);
	return 0;
}

static int verify(struct cli *cli, struct rip_store *store)
{
	struct rip_err err = { 0 };
	size_t checked = 0;
	int rc = 0;

	if (store)
		rc = rip_audit_verify(store->state, &checked, &err);
	if (cli->json)
		print_json(json_pack("{s:b, s:I, s:s*}", "intact", rc == 0,
			"entries", (json_int_t)checked, "error",
			rc < 0 ? err.msg : NULL));
	if (rc < 0)
		return cli_fail(&err, rc);
	if (cli->json)
		return 0;
	if (!checked)
		printf("no audit entries yet\n");
	else
		printf("audit log intact (%zu %s)\n", checked,
			checked == 1 ? "entry" : "entries");
	return 0;
}

/* ---- the aborts ledger ------------------------------------------------- */

/* "3 probes, 3 errors (100.0%), p99 12 ms" of one side of the figures. */
static void side_text(struct rip_buf *b, const char *label, json_t *s)
{
	json_t *p99 = json_object_get(s, "p99_ms");

	if (!json_is_object(s))
		return;
	rip_buf_addf(b, "%s%s %lld probes, %lld errors (%.1f%%), p99 ", b->len ?
		"; " : "", label, (long long)json_integer_value(json_object_get(s,
		"probes")), (long long)json_integer_value(json_object_get(s,
		"errors")), 100 * json_number_value(json_object_get(s,
		"error_rate")));
	if (json_is_number(p99))
		rip_buf_addf(b, "%.0f ms", json_number_value(p99));
	else
		rip_buf_adds(b, "-");
}

static void abort_line(struct rip_buf *tmp, const char *key, const char *v)
{
	if (v && *v)
		printf("    %-8s %s\n", key, one_line(tmp, v, NULL));
}

static void abort_text(json_t *doc)
{
	struct rip_buf tmp = RIP_BUF_INIT, nums = RIP_BUF_INIT;
	json_t *undone = json_object_get(doc, "undone");
	json_t *audit = json_object_get(doc, "audit");
	const char *gate = json_string_value(json_object_get(doc, "gate"));
	const char *target = json_string_value(json_object_get(doc, "target"));
	char when[32];

	format_when(when, sizeof(when),
		json_integer_value(json_object_get(doc, "finished")));
	printf("%s  %s -> %s at step %lld/%lld: gate %s%s%s\n", when,
		json_string_value(json_object_get(doc, "release")),
		json_string_value(json_object_get(doc, "previous")),
		(long long)json_integer_value(json_object_get(doc, "step")),
		(long long)json_integer_value(json_object_get(doc, "steps")),
		gate ? gate : "?", target ? " on " : "", target ? target : "");
	abort_line(&tmp, "why:", json_string_value(json_object_get(doc,
		"reason")));
	side_text(&nums, "canary", json_object_get(doc, "canary"));
	side_text(&nums, "baseline", json_object_get(doc, "baseline"));
	abort_line(&tmp, "numbers:", nums.buf);
	rip_buf_reset(&nums);
	rip_buf_addf(&nums, "%s (%s)", json_is_string(json_object_get(undone,
		"summary")) && json_string_length(json_object_get(undone,
		"summary")) ? json_string_value(json_object_get(undone, "summary")) :
		"nothing recorded", json_string_value(json_object_get(doc, "phase")));
	abort_line(&tmp, "undone:", nums.buf);
	if (json_is_object(audit)) {
		rip_buf_reset(&nums);
		rip_buf_addf(&nums, "%s@%s: %s (exit %lld, audit #%lld)",
			json_string_value(json_object_get(audit, "user")),
			json_string_value(json_object_get(audit, "host")),
			json_string_value(json_object_get(audit, "command")),
			(long long)json_integer_value(json_object_get(audit,
			"exit_code")), (long long)json_integer_value(
			json_object_get(audit, "seq")));
		abort_line(&tmp, "by:", nums.buf);
	}
	rip_buf_release(&tmp);
	rip_buf_release(&nums);
}

/* The aborts ledger: the last n aborted rollouts (0: all), oldest first. */
static int aborts(struct cli *cli, struct rip_store *store, size_t n)
{
	struct rip_err err = { 0 };
	json_t *list;
	int rc;

	if ((rc = rip_aborts_json(&list, store ? store->state : NULL, 0, 0, n,
			&err)) < 0)
		return cli_fail(&err, rc);
	if (cli->json) {
		print_json(list);
		return 0;
	}
	if (!json_array_size(list))
		printf("no aborted rollout\n");
	for (size_t i = 0; i < json_array_size(list); i++)
		abort_text(json_array_get(list, i));
	json_decref(list);
	return 0;
}

/* A count for -n: digits only, at least 1. Returns false otherwise. */
static bool parse_count(size_t *out, const char *s)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > SIZE_MAX)
		return false;
	*out = (size_t)v;
	return true;
}

/* Returns -1 to go on, else the exit code to stop with. */
static int parse(struct cli *cli, struct log_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verify", no_argument, NULL, 'V' },
		{ "aborts", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool count = false;
	int c;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_count(&o->n, optarg))
				return cli_usage("log", "-n wants a whole number of "
					"entries, 1 or more, not '%s'", optarg);
			count = true;
			break;
		case 'V':
			o->verify = true;
			break;
		case 'A':
			o->aborts = true;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			puts("usage: ripcord log [-n N] [--json] [--verify | "
				"--aborts]");
			return 0;
		default:
			return cli_usage("log", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("log", "unexpected argument '%s'", argv[optind]);
	if (count && o->verify)
		return cli_usage("log", "--verify checks the whole log and takes "
			"no -n");
	if (o->verify && o->aborts)
		return cli_usage("log", "--verify and --aborts go one at a time");
	return -1;
}

int cmd_log(struct cli *cli, int argc, char **argv)
{
	struct rip_config *cfg = NULL;
	struct rip_store *store = NULL;
	struct rip_err err = { 0 };
	struct log_opts o = { 0 };
	int rc;

	if ((rc = parse(cli, &o, argc, argv)) >= 0)
		return rc;
	if ((rc = cli_load_config(cli, &cfg, &err)) < 0)
		return cli_fail(&err, rc);
	rc = rip_store_open(&store, cfg->project.store, false, &err);
	if (rc == RIP_ENOTFOUND)  /* no store yet: nothing was ever done */
		rc = 0;
	if (rc < 0)
		rc = cli_fail(&err, rc);
	else if (o.verify)
		rc = verify(cli, store);
	else if (o.aborts)
		rc = aborts(cli, store, o.n);
	else
		rc = list(cli, store, o.n);
	rip_store_free(store);
	rip_config_free(cfg);
	return rc;
}
