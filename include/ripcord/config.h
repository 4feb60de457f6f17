/* SPDX-License-Identifier: MIT */
/*
 * config.h: ripcord.ini, parsed strictly into one immutable struct.
 *
 * Every section and key of DESIGN.md §3 is described once in a table
 * (rip_config_keys) that carries its type, default and one-line help; the
 * parser, `ripcord init` and the documentation test all read that table.
 */
#ifndef RIPCORD_CONFIG_H
#define RIPCORD_CONFIG_H

#include "ripcord/buf.h"
#include "ripcord/err.h"
/* the value parsers, string lists and "did you mean" that config.c uses;
 * included here for the callers that know them as config's */
#include "ripcord/parse.h"
#include "ripcord/strlist.h"
#include "ripcord/suggest.h"

struct rip_target {
	char *name;
	int line;             /* of its [target "NAME"] header */
	char *root;
	char *health;
	char *activate;
	uint64_t hook_timeout_ms;
	char *group;
	char *host;           /* as written: "deploy@web-1", "ssh://u@h:2222";
				 NULL: root is a folder on this machine */
	char *ssh_dest;       /* what ssh connects to: "deploy@web-1" */
	unsigned ssh_port;    /* from ssh://...:PORT; 0: ssh's own choice */
};

struct rip_config {
	char *path;           /* absolute path of the file */
	char *dir;            /* its folder: base of relative paths */

	struct {
		char *name;
		char *store;
		uint64_t keep;
	} project;

	struct {
		struct rip_strlist include;
		struct rip_strlist exclude;
		char *signing_key;
		char *verify_key;
		bool allow_secrets;
	} package;

	struct {
		char *dir;        /* a folder in the git tree */
		char *format;
		char *driver;
		char *database;
		char *baseline;
		struct rip_strlist irreversible;
		struct rip_strlist contract;  /* contract-phase migrations */
		uint64_t contract_after_ms;   /* soak at 100% before contract */
		char *apply;
		uint64_t command_timeout_ms;
	} migrations;

	struct rip_target *targets;
	size_t n_targets;

	struct {
		struct rip_steps steps;
		uint64_t bake_ms;
		uint64_t probe_interval_ms;
		double max_error_rate;
		uint64_t max_p99_ms;
		bool compare_baseline;
		bool auto_promote;
		bool auto_rollback;
		bool auto_contract;           /* migrate contract on completion */
		uint64_t probe_timeout_ms;
		uint64_t min_samples;
		char *gate_command;
		char *gate_query;
		double gate_query_max;
		char *weight_hook;
		bool require_drill;
		/* the baseline comparison (stats.h rip_gate) */
		double confidence;
		double effect_tolerance;
		double effect_min_ms;
		char *outliers;               /* "iqr" or "none" */
		uint64_t latency_weight;
		uint64_t errors_weight;
		uint64_t pass_score;
		uint64_t marginal_score;
		uint64_t failure_threshold;   /* failed rounds in a row */
		uint64_t failure_limit;       /* failed rounds per step */
		char *inconclusive;           /* pause | abort | pass */
	} rollout;

	struct {
		char *schema;         /* "down" | "keep": for rollback */
		char *abort_schema;   /* "keep" | "down": for rollout abort */
	} rollback;

	struct {
		uint64_t every_ms;
		char *database;
		char *metrics_file;
		bool strict;
		bool smoke;
		char *smoke_health;
	} drill;

	struct {
		char *webhook;
		uint64_t retries;
	} notify;

	struct {
		struct rip_strlist command;   /* argv prefix, split on spaces */
		uint64_t parallel;            /* hosts worked on at once */
		uint64_t connect_timeout_ms;
		char *agent_path;             /* ripcord on the hosts */
	} ssh;
};

enum rip_config_type {
	RIP_CFG_STRING,
	RIP_CFG_PATH,         /* relative to the config's folder */
	RIP_CFG_PATH_EXISTS,  /* ... and must exist */
	RIP_CFG_TREEPATH,     /* a path inside the git tree */
	RIP_CFG_BOOL,
	RIP_CFG_UINT,
	RIP_CFG_DURATION,     /* 500ms, 30s, 5m, 24h, 1h30m */
	RIP_CFG_PERCENT,      /* 5% -> 0.05 */
	RIP_CFG_DOUBLE,
	RIP_CFG_LIST,         /* comma separated */
	RIP_CFG_ARGV,         /* words separated by spaces or tabs */
	RIP_CFG_STEPS,        /* comma separated percentages */
	RIP_CFG_ENUM,
	RIP_CFG_URL,
};

struct rip_config_key {
	const char *section;  /* "target" stands for [target "NAME"] */
	const char *name;
	enum rip_config_type type;
	const char *def;      /* the default, in config syntax; NULL: unset */
	const char *choices;  /* RIP_CFG_ENUM: "a|b|c" */
	bool required;
	size_t offset;        /* in struct rip_config, or rip_target */
	const char *help;
};

extern const struct rip_config_key rip_config_keys[];
extern const size_t rip_config_nkeys;

/*
 * Parses the file at path into *out (newly allocated; free with
 * rip_config_free). On failure *out is NULL and err says FILE:LINE: what
 * was wrong and what was expected (RIP_ECONFIG).
 */
RIP_MUST_CHECK int rip_config_load(struct rip_config **out, const char *path,
	struct rip_err *err);

/* Same, from a string; relative paths are resolved against dir. */
RIP_MUST_CHECK int rip_config_parse(struct rip_config **out,
	const char *text, const char *name, const char *dir,
	struct rip_err *err);

/*
 * Finds the nearest ripcord.ini walking up from start; *out is the newly
 * allocated path. RIP_ENOTFOUND when there is none up to the root.
 */
RIP_MUST_CHECK int rip_config_find(char **out, const char *start,
	struct rip_err *err);

void rip_config_free(struct rip_config *cfg);

/* Writes the commented ripcord.ini that `init` creates. */
void rip_config_template(struct rip_buf *out, const char *project,
	const char *store);

#endif
