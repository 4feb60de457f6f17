/* SPDX-License-Identifier: MIT */
/*
 * cli.h: what main.c hands to every command, and the helpers they share.
 * Commands parse their own options and call the library; no business
 * logic lives in src/cli/.
 */
#ifndef RIPCORD_CLI_H
#define RIPCORD_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "ripcord/config.h"
#include "ripcord/deploy.h"
#include "ripcord/err.h"
#include "ripcord/store.h"

/* What a command did, for its audit entry (main.c writes it). */
struct cli_audit {
	char *from;
	char *to;
	struct rip_strlist targets;
	struct rip_buf migrations;   /* "up 0003_x,0004_y; down 0004_y" */
	char last[64];               /* the kind added last ("down") */
};

struct cli {
	const char *config_path;  /* -c, or NULL to search */
	bool json;
	bool quiet;
	const char *argv0;
	struct cli_audit audit;
	json_t *preempted;        /* rollback: the deploy it preempted, for
				     --json (cli_run_plan adds it); or NULL */
};

/* The audit entry's from and to (NULL leaves one as it is). */
void cli_audit_move(struct cli *cli, const char *from, const char *to);
/* Adds target name to the audit entry, once. */
void cli_audit_target(struct cli *cli, const char *name);
/* Adds "<what> <names>" to the audit entry's migrations ("up", "down",
 * "schema ahead:"); names of the same kind as the last ones join them. */
void cli_audit_migrations(struct cli *cli, const char *what,
	const char *names);
/* What plan p did (or tried), into the audit entry. */
void cli_audit_plan(struct cli *cli, const struct rip_plan *p);
/* "held back: 0007_drop_mail": the contract ups p held back, into the
 * audit entry (nothing when none). */
void cli_audit_held(struct cli *cli, const struct rip_plan *p);
/* Sets doc's "held_back" (ids) and "held_note" from deploy plan p. */
void cli_plan_json_held(json_t *doc, const struct rip_plan *p);
/* The schema phase of a rollback plan (kept, data loss and whether it
 * was accepted), into the audit entry. */
void cli_audit_schema(struct cli *cli, const struct rip_plan *p);
void cli_audit_release(struct cli_audit *a);

/* Every command: returns a process exit code. */
typedef int (*cli_cmd_fn)(struct cli *cli, int argc, char **argv);

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_keygen(struct cli *cli, int argc, char **argv);
int cmd_cut(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
int cmd_releases(struct cli *cli, int argc, char **argv);
int cmd_migrate(struct cli *cli, int argc, char **argv);
int cmd_deploy(struct cli *cli, int argc, char **argv);
int cmd_rollback(struct cli *cli, int argc, char **argv);
int cmd_log(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_targets(struct cli *cli, int argc, char **argv);
int cmd_gc(struct cli *cli, int argc, char **argv);
int cmd_report(struct cli *cli, int argc, char **argv);
int cmd_drill(struct cli *cli, int argc, char **argv);
int cmd_rollout(struct cli *cli, int argc, char **argv);
int cmd_agent(struct cli *cli, int argc, char **argv);

/* Prints err as "ripcord: error: ..." and returns its exit code. */
int cli_fail(const struct rip_err *err, int code);
/* A usage error for command cmd: message, hint, exit 2. */
int cli_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Finds and loads the config (-c or the nearest ripcord.ini): RIP_ENOTFOUND
 * when there is none to find, RIP_ECONFIG when it is bad or -c is missing.
 */
int cli_load_config(struct cli *cli, struct rip_config **out,
	struct rip_err *err);

/*
 * Applies p (or, with dry_run, prints it), then prints the per-target
 * table or, with --json, one document. Returns the apply's code; a dry
 * run, the refusal the apply would give a lossy rollback not accepted.
 */
int cli_run_plan(struct cli *cli, struct rip_plan *p,
	const struct rip_config *cfg, struct rip_store *store, bool dry_run,
	struct rip_err *err);

/* One line on stderr for an applied action: "ripcord: switch web-1 v2". */
void cli_print_action(const struct rip_action *a, int rc,
	const char *detail);
/* The closing per-target table of a plan, on stdout. */
void cli_print_plan_table(const struct rip_plan *p);
/* The JSON document of a plan and its outcome (rc; error when rc != 0). */
json_t *cli_plan_json(const struct rip_plan *p, bool dry_run, int rc,
	const char *error);

/*
 * Announces event on [notify] webhook (when set): the standard document
 * plus fields (borrowed), delivered by a detached process with retries,
 * so a webhook that is down never slows or fails what it reports; the
 * outcome goes to <store>/notify.log.
 */
void cli_notify(const struct rip_config *cfg, const struct rip_store *store,
	const char *event, json_t *fields);

/*
 * A table for stdout (cli_table.c): each column as wide as its widest
 * cell, two spaces apart, the last one unpadded. Cells are added row
 * after row, ncols a row; a NULL cell prints "-".
 */
struct cli_table {
	size_t ncols;
	unsigned right;           /* bit c: column c is right-aligned */
	struct rip_strlist cells; /* the headers, then every row */
};

/* Starts t with the headers (NULL-terminated): as many columns. */
void cli_table_init(struct cli_table *t, const char *const *headers);
/* Column col (from 0) is right-aligned (sizes, counts). */
void cli_table_right(struct cli_table *t, size_t col);
void cli_table_add(struct cli_table *t, const char *cell);
void cli_table_addf(struct cli_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints t on stdout. */
void cli_table_print(const struct cli_table *t);
void cli_table_release(struct cli_table *t);

/* Prints a JSON document on stdout, one line, and frees it. */
void cli_print_json(json_t *doc);

/* "2026-11-27 12:00" (UTC) of a timestamp. */
void cli_format_time(char *out, size_t len, int64_t t);
/* "pass 3h ago", "FAIL 2d ago", "INTEGRITY 5m ago", "never" (d->seq 0) */
struct rip_drill_rec;
void cli_format_drill(char *out, size_t len, const struct rip_drill_rec *d,
	int64_t now);
/* "3m", "5h", "2d": an age in seconds, as the tables show it. */
void cli_format_age(char *out, size_t len, int64_t age);
/* "pass", "FAIL", "INTEGRITY": a drill's result as the tables show it. */
const char *cli_drill_result(const struct rip_drill_rec *d);
/* Whether to colour what goes to f: a terminal, and no NO_COLOR. */
bool cli_colour(FILE *f);
/* "500ms", "1.5s", "30s", "5m", "1m30s" */
void cli_format_duration(char *out, size_t len, uint64_t ms);
/* "12.3 MiB" */
void cli_format_size(char *out, size_t len, uint64_t bytes);

#endif
