/* SPDX-License-Identifier: MIT */
/*
 * main.c: global options, the command table, and the one mapping from
 * library codes to exit codes (rip_err_exit_code). Commands live in
 * cmd_<name>.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_help.h"
#include "rip_version.h"
#include "ripcord/drill.h"
#include "ripcord/fsutil.h"
#include "ripcord/journal.h"
#include "ripcord/store.h"
#include "ripcord/log.h"
#include "ripcord/release.h"
#include "banned.h"

static const struct {
	const char *name;
	cli_cmd_fn fn;
	const char *summary;
} commands[] = {
	{ "init", cmd_init, "write a commented ripcord.ini and hooks/" },
	{ "keygen", cmd_keygen, "make an Ed25519 signing key pair" },
	{ "cut", cmd_cut, "package a commit into a signed release artifact" },
	{ "verify", cmd_verify, "check artifacts: digest, signature, contents" },
	{ "releases", cmd_releases, "list the releases in the store" },
	{ "migrate", cmd_migrate, "apply, undo, check and lint migrations" },
	{ "deploy", cmd_deploy, "switch targets to a release" },
	{ "rollout", cmd_rollout, "staged canary rollout with health gates" },
	{ "rollback", cmd_rollback, "every target back, then the schema" },
	{ "status", cmd_status, "what runs on each target, drift, rollback" },
	{ "targets", cmd_targets, "list targets; --check reaches each one" },
	{ "log", cmd_log, "the audit history" },
	{ "drill", cmd_drill, "test-restore releases: prove each rollback" },
	{ "gc", cmd_gc, "delete releases beyond keep, never the rollback" },
	{ "report", cmd_report, "a self-contained HTML report with charts" },
	{ "agent", cmd_agent, NULL }, /* hidden: run by a remote ripcord */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ripcord [-C DIR] [-c FILE] [--json] [-q | -v] "
		"COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < RIP_ARRAY_SIZE(commands); i++)
		if (commands[i].summary)
			fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'ripcord help COMMAND' or 'ripcord COMMAND --help': its "
		"options and an example;\nthe manuals: ripcord(1), "
		"ripcord-COMMAND(1), ripcord.ini(5)\n");
}

/* The last error printed, for the audit log. */
static char last_error[sizeof(((struct rip_err *)0)->msg)];

int cli_fail(const struct rip_err *err, int code)
{
	snprintf(last_error, sizeof(last_error), "%s", err->msg[0] ?
		err->msg : "failed");
	rip_log(RIP_LOG_ERROR, "%s", last_error);
	return rip_err_exit_code(code);
}

/* Whether this command line changes targets, schemas or the store. */
static bool changes_things(int argc, char **argv)
{
	static const char *const writers[] = {
		"cut", "deploy", "rollback", "gc",
	};
	static const char *const migrate_writers[] = {
		"up", "down", "contract", "ack", "mark",
	};
	static const char *const rollout_writers[] = {
		"start", "promote", "abort", "resume",
	};
	static const char *const releases_writers[] = {
		"yank", "unyank", "rm",
	};
	bool yes = false;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-h") ||
		    !strcmp(argv[i], "--help"))
			return false;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(writers); i++)
		yes |= !strcmp(argv[0], writers[i]);
	for (size_t i = 0; argc > 1 && !strcmp(argv[0], "migrate") &&
			i < RIP_ARRAY_SIZE(migrate_writers); i++)
		for (int j = 1; j < argc; j++)
			yes |= !strcmp(argv[j], migrate_writers[i]);
	for (size_t i = 0; argc > 1 && !strcmp(argv[0], "rollout") &&
			i < RIP_ARRAY_SIZE(rollout_writers); i++)
		for (int j = 1; j < argc; j++)
			yes |= !strcmp(argv[j], rollout_writers[i]);
	for (int j = 1; !strcmp(argv[0], "targets") && j < argc; j++)
		yes |= !strcmp(argv[j], "--install");
	for (size_t i = 0; argc > 1 && !strcmp(argv[0], "releases") &&
			i < RIP_ARRAY_SIZE(releases_writers); i++)
		for (int j = 1; j < argc; j++)
			yes |= !strcmp(argv[j], releases_writers[i]);
	return yes;
}

/*
 * One audit entry per command that changed something, worked or not.
 * Only into a store that exists: auditing never creates one.
 */
static void audit(struct cli *cli, int argc, char **argv, int code,
	double seconds)
{
	struct rip_config *cfg = NULL;
	struct rip_store *store = NULL;
	struct rip_err err = { 0 };
	struct rip_buf targets = RIP_BUF_INIT;
	struct rip_audit_what what = { 0 };

	if (cli_load_config(cli, &cfg, &err) < 0)
		return;
	/* NULL where the command said nothing: such an entry keeps the
	 * ripcord-audit-1 form (journal.c) */
	for (size_t i = 0; i < cli->audit.targets.n; i++)
		rip_buf_addf(&targets, "%s%s", i ? "," : "",
			cli->audit.targets.v[i]);
	what.from = cli->audit.from;
	what.to = cli->audit.to;
	what.targets = targets.len ? targets.buf : NULL;
	what.migrations = cli->audit.migrations.len ?
		cli->audit.migrations.buf : NULL;
	if (rip_store_open(&store, cfg->project.store, false, &err) == 0 &&
	    rip_audit_append_what(store->state, argc, argv, code, code ?
		    last_error : NULL, seconds, &what, &err) < 0)
		rip_warn("cannot write the audit log: %s", err.msg);
	rip_buf_release(&targets);
	rip_store_free(store);
	rip_config_free(cfg);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ripcord %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'man ripcord-%s')\n", cmd);
	return 2;
}

/* The command being run (dispatch), for cli_load_config. */
static const char *running;

int cli_load_config(struct cli *cli, struct rip_config **out,
	struct rip_err *err)
{
	char *path = NULL;
	int rc;

	if (cli->config_path) {
		rc = rip_config_load(out, cli->config_path, err);
	} else if ((rc = rip_config_find(&path, ".", err)) == 0) {
		rc = rip_config_load(out, path, err);
		free(path);
	}
	/* The keys are checked by what uses them (cut, verify.c), so a
	 * lost key never stops a rollback or a status. deploy puts a
	 * release forward: with a verify_key that is gone it refuses even
	 * when it reads no artifact (every target already holds the
	 * release), where a rollback goes back to what was verified. */
	if (rc == 0 && running && !strcmp(running, "deploy") &&
	    (rc = rip_verify_key_check((*out)->package.verify_key, err)) < 0) {
		rip_config_free(*out);
		*out = NULL;
	}
	return rc;
}

void cli_print_json(json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (s) {
		puts(s);
		free(s);
	}
	json_decref(doc);
}

void cli_format_time(char *out, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

void cli_format_duration(char *out, size_t len, uint64_t ms)
{
	if (ms < 1000)
		snprintf(out, len, "%llums", (unsigned long long)ms);
	else if (ms < 60000 && ms % 1000)
		snprintf(out, len, "%.1fs", (double)ms / 1e3);
	else if (ms < 60000)
		snprintf(out, len, "%llus", (unsigned long long)ms / 1000);
	else if (ms % 60000 < 1000)
		snprintf(out, len, "%llum", (unsigned long long)ms / 60000);
	else
		snprintf(out, len, "%llum%02llus", (unsigned long long)ms / 60000,
			(unsigned long long)(ms % 60000) / 1000);
}

void cli_format_size(char *out, size_t len, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < RIP_ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(out, len, "%.1f %s", v, units[u]);
}

void cli_format_age(char *out, size_t len, int64_t age)
{
	if (age < 0)
		age = 0;
	snprintf(out, len, "%lld%s", (long long)(age < 3600 ? age / 60 :
		age < 86400 ? age / 3600 : age / 86400), age < 3600 ? "m" :
		age < 86400 ? "h" : "d");
}

const char *cli_drill_result(const struct rip_drill_rec *d)
{
	return strcmp(d->result, RIP_DRILL_PASS) ? (strcmp(d->result,
		RIP_DRILL_FAIL) ? "INTEGRITY" : "FAIL") : "pass";
}

void cli_format_drill(char *out, size_t len, const struct rip_drill_rec *d,
	int64_t now)
{
	char age[24];

	if (!d->seq) {
		snprintf(out, len, "never");
		return;
	}
	cli_format_age(age, sizeof(age), now - d->started);
	snprintf(out, len, "%s %s ago", cli_drill_result(d), age);
}

/*
 * Output that could not be written is a failure, as in coreutils and git:
 * `ripcord status --json > /dev/full` must not exit 0. Called once, at the
 * end; a broken pipe (a reader that stopped early) fails quietly.
 */
static int close_stdout(int code, bool changed)
{
	int e = 0;

	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
		e = errno ? errno : EIO; /* EIO: it failed earlier */
	if (fclose(stdout) != 0 && !e)
		e = errno;
	if (!e)
		return code;
	if (e != EPIPE)
		fprintf(stderr, "ripcord: error writing to standard output%s%s"
			"%s\n", e == EIO ? "" : ": ", e == EIO ? "" : strerror(e),
			changed && !code ? " (the command itself completed: see "
			"'ripcord log')" : "");
	return code ? code : 1;
}

/* An unknown command: the nearest one, and every one. Returns 2. */
static int unknown_command(const char *cmd)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; i < RIP_ARRAY_SIZE(commands); i++) {
		size_t d = rip_edit_distance(cmd, commands[i].name);

		if (d < best_d) {
			best_d = d;
			best = commands[i].name;
		}
	}
	if (best_d <= 2)
		fprintf(stderr, "ripcord: unknown command '%s' (did you mean "
			"'%s'?)\n", cmd, best);
	else
		fprintf(stderr, "ripcord: unknown command '%s' (see 'ripcord "
			"--help')\n", cmd);
	fputs("commands:", stderr);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(commands); i++)
		if (commands[i].summary)
			fprintf(stderr, " %s", commands[i].name);
	fputs("\n", stderr);
	return 2;
}

/* The help of command cmd (cli_help.h), or NULL when it has none. */
static const char *help_of(const char *cmd)
{
	for (size_t i = 0; i < cli_help_n; i++)
		if (!strcmp(cli_help[i].name, cmd))
			return cli_help[i].text;
	return NULL;
}

/*
 * `ripcord help [CMD]`, `ripcord CMD -h|--help`: the command's synopsis,
 * options and an example, made from its man page, on stdout, exit 0;
 * `ripcord help` alone is the usage. An unknown CMD is exit 2.
 */
static int help(const char *cmd)
{
	const char *text = cmd ? help_of(cmd) : NULL;

	if (!cmd) {
		usage(stdout);
		return 0;
	}
	if (!text)
		return unknown_command(cmd);
	fputs(text, stdout);
	return 0;
}

/* Whether a known command's arguments ask for help (up to a "--"). */
static bool wants_help(int argc, char **argv)
{
	if (!help_of(argv[0]))
		return false;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

static int dispatch(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[0];

	for (size_t i = 0; i < RIP_ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name)) {
			int code;

			running = cmd;
			code = commands[i].fn(cli, argc, argv);
			running = NULL;  /* the audit loads the config too */
			return code;
		}
	return unknown_command(cmd);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .argv0 = argv[0] };
	double t0 = rip_monotonic();
	int c, code, full_argc;
	char **full_argv;
	bool changed;

	/* a peer closing a socket (libcurl runs with NOSIGNAL) must be an
	 * error to handle, not a death; hooks get default signals back */
	signal(SIGPIPE, SIG_IGN);
	rip_log_set_level(RIP_LOG_INFO);
	while ((c = getopt_long(argc, argv, "+C:c:qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			if (chdir(optarg) < 0) {
				fprintf(stderr, "ripcord: -C '%s': %s\n", optarg,
					strerror(errno));
				return 2;
			}
			break;
		case 'c':
			cli.config_path = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'q':
			cli.quiet = true;
			rip_log_set_level(RIP_LOG_WARN);
			break;
		case 'v':
			rip_log_set_level(RIP_LOG_DEBUG);
			break;
		case 'V':
			printf("ripcord %s\n", RIP_VERSION);
			return close_stdout(0, false);
		case 'h':
			usage(stdout);
			return close_stdout(0, false);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	/* help needs no config, no store and no lock, and changes nothing */
	if (!strcmp(argv[optind], "help")) {
		if (argc - optind > 2) {
			fprintf(stderr, "ripcord help: expected at most one "
				"command, got '%s' and '%s' (see 'ripcord help')\n",
				argv[optind + 1], argv[optind + 2]);
			return 2;
		}
		return close_stdout(help(argv[optind + 1]), false);
	}
	if (wants_help(argc - optind, argv + optind))
		return close_stdout(help(argv[optind]), false);
	/* getopt permutes argv: the audit log records it as typed */
	full_argc = argc;
	full_argv = rip_xcalloc((size_t)argc + 1, sizeof(*full_argv));
	memcpy(full_argv, argv, (size_t)argc * sizeof(*full_argv));
	{
		struct rip_buf line = RIP_BUF_INIT;

		rip_command_line(&line, full_argc, full_argv);
		rip_lock_set_command(line.buf);
		rip_buf_release(&line);
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* reset getopt for the command (glibc: 0 reinitialises) */
	code = dispatch(&cli, argc, argv);
	changed = changes_things(argc, argv);
	if (changed)
		audit(&cli, full_argc, full_argv, code, rip_monotonic() - t0);
	rip_lock_set_command(NULL);
	cli_audit_release(&cli.audit);
	json_decref(cli.preempted);
	free(full_argv);
	return close_stdout(code, changed);
}
