/* SPDX-License-Identifier: MIT */
/*
 * config_keys.c: the table of every key ripcord.ini accepts (its section,
 * name, type, default and help), and the template 'ripcord init' writes
 * from it.
 *
 * Data, not parsing: the table is kept apart from the parser (config.c)
 * so that adding a key is an edit here alone, and the parser, init's
 * template and the documentation test all read the same rows.
 */
#include <stddef.h>
#include <string.h>

#include "ripcord/config.h"
#include "banned.h"

#define G(field) offsetof(struct rip_config, field)
#define T(field) offsetof(struct rip_target, field)

const struct rip_config_key rip_config_keys[] = {
	{ "project", "name", RIP_CFG_STRING, NULL, NULL, false, G(project.name),
	  "project name used in labels and reports (default: the folder name)" },
	{ "project", "store", RIP_CFG_PATH, ".ripcord", NULL, false,
	  G(project.store), "artifact store and state.db" },
	{ "project", "keep", RIP_CFG_UINT, "5", NULL, false, G(project.keep),
	  "releases kept, extracted on targets and in the store" },

	{ "package", "include", RIP_CFG_LIST, ".", NULL, false,
	  G(package.include), "comma list of paths or globs in the git tree" },
	{ "package", "exclude", RIP_CFG_LIST, "", NULL, false,
	  G(package.exclude), "comma list of paths or globs left out" },
	/* the keys are checked where they are used (cut, verify.c), not
	 * here: a lost private key must not stop a rollback or a status */
	{ "package", "signing_key", RIP_CFG_PATH, NULL, NULL, false,
	  G(package.signing_key), "Ed25519 private key; cut signs when set" },
	{ "package", "verify_key", RIP_CFG_PATH, NULL, NULL, false,
	  G(package.verify_key),
	  "Ed25519 public key; unsigned or badly signed artifacts are refused" },
	{ "package", "allow_secrets", RIP_CFG_BOOL, "no", NULL, false,
	  G(package.allow_secrets),
	  "let cut package private keys, .env files and access keys" },

	{ "migrations", "dir", RIP_CFG_TREEPATH, NULL, NULL, false,
	  G(migrations.dir), "migrations folder in the git tree" },
	{ "migrations", "format", RIP_CFG_ENUM, "auto",
	  "auto|golang-migrate|dbmate|sqitch|diesel|flyway", false,
	  G(migrations.format), "migration layout" },
	{ "migrations", "driver", RIP_CFG_ENUM, "sqlite",
	  "sqlite|postgres|command", false, G(migrations.driver),
	  "database driver" },
	{ "migrations", "database", RIP_CFG_STRING, NULL, NULL, false,
	  G(migrations.database), "sqlite path or postgres conninfo/URI" },
	{ "migrations", "baseline", RIP_CFG_STRING, NULL, NULL, false,
	  G(migrations.baseline),
	  "migrations up to this version are the starting schema" },
	{ "migrations", "irreversible", RIP_CFG_LIST, "", NULL, false,
	  G(migrations.irreversible), "ups known to have no down" },
	{ "migrations", "contract", RIP_CFG_LIST, "", NULL, false,
	  G(migrations.contract), "contract-phase migrations" },
	{ "migrations", "contract_after", RIP_CFG_DURATION, "1h", NULL, false,
	  G(migrations.contract_after_ms),
	  "soak after 100% before migrate contract may run" },
	{ "migrations", "apply", RIP_CFG_STRING, NULL, NULL, false,
	  G(migrations.apply), "driver = command: command line with {file}" },
	{ "migrations", "command_timeout", RIP_CFG_DURATION, "10m", NULL, false,
	  G(migrations.command_timeout_ms),
	  "driver = command: how long one migration's command may run" },

	{ "target", "root", RIP_CFG_PATH, NULL, NULL, true, T(root),
	  "holds releases/ and current" },
	{ "target", "host", RIP_CFG_STRING, NULL, NULL, false, T(host),
	  "USER@HOST, HOST or ssh://[USER@]HOST[:PORT] that holds root "
	  "(unset: root is on this machine)" },
	{ "target", "health", RIP_CFG_URL, NULL, NULL, false, T(health),
	  "health URL probed after a switch" },
	{ "target", "activate", RIP_CFG_PATH_EXISTS, NULL, NULL, false,
	  T(activate), "hook run after the switch" },
	{ "target", "hook_timeout", RIP_CFG_DURATION, "60s", NULL, false,
	  T(hook_timeout_ms), "how long a hook may run" },
	{ "target", "group", RIP_CFG_STRING, NULL, NULL, false, T(group),
	  "free-form group name" },

	{ "rollout", "steps", RIP_CFG_STEPS, "25%, 50%, 100%", NULL, false,
	  G(rollout.steps), "share of targets switched at each step" },
	{ "rollout", "bake", RIP_CFG_DURATION, "30s", NULL, false,
	  G(rollout.bake_ms), "how long each step is watched" },
	{ "rollout", "probe_interval", RIP_CFG_DURATION, "1s", NULL, false,
	  G(rollout.probe_interval_ms), "time between probe rounds" },
	{ "rollout", "max_error_rate", RIP_CFG_PERCENT, "1%", NULL, false,
	  G(rollout.max_error_rate), "over the probes of the step" },
	{ "rollout", "max_p99_ms", RIP_CFG_UINT, "500", NULL, false,
	  G(rollout.max_p99_ms), "99th percentile latency limit" },
	{ "rollout", "compare_baseline", RIP_CFG_BOOL, "yes", NULL, false,
	  G(rollout.compare_baseline),
	  "canary vs not-yet-switched targets (statistical test)" },
	{ "rollout", "auto_promote", RIP_CFG_BOOL, "yes", NULL, false,
	  G(rollout.auto_promote), "go on to the next step by itself" },
	{ "rollout", "auto_rollback", RIP_CFG_BOOL, "yes", NULL, false,
	  G(rollout.auto_rollback), "roll back by itself when a gate fails" },
	{ "rollout", "auto_contract", RIP_CFG_BOOL, "no", NULL, false,
	  G(rollout.auto_contract),
	  "run migrate contract once completed and contract_after passed" },
	{ "rollout", "probe_timeout", RIP_CFG_DURATION, "2s", NULL, false,
	  G(rollout.probe_timeout_ms), "a probe slower than this is an error" },
	{ "rollout", "min_samples", RIP_CFG_UINT, "20", NULL, false,
	  G(rollout.min_samples), "canary probes the comparison needs" },
	{ "rollout", "gate_command", RIP_CFG_PATH_EXISTS, NULL, NULL, false,
	  G(rollout.gate_command), "exit 0 = pass, run each probe round" },
	{ "rollout", "gate_query", RIP_CFG_URL, NULL, NULL, false,
	  G(rollout.gate_query), "Prometheus query URL" },
	{ "rollout", "gate_query_max", RIP_CFG_DOUBLE, "0.01", NULL, false,
	  G(rollout.gate_query_max), "the query's value must stay at or below" },
	{ "rollout", "weight_hook", RIP_CFG_PATH_EXISTS, NULL, NULL, false,
	  G(rollout.weight_hook), "traffic-weight mode (load balancer)" },
	{ "rollout", "require_drill", RIP_CFG_BOOL, "yes", NULL, false,
	  G(rollout.require_drill),
	  "roll out only releases whose own drill passed" },
	{ "rollout", "confidence", RIP_CFG_PERCENT, "95%", NULL, false,
	  G(rollout.confidence), "confidence level of the baseline comparison" },
	{ "rollout", "effect_tolerance", RIP_CFG_PERCENT, "20%", NULL, false,
	  G(rollout.effect_tolerance),
	  "how much slower than the baseline a canary may be" },
	{ "rollout", "effect_min_ms", RIP_CFG_DOUBLE, "2", NULL, false,
	  G(rollout.effect_min_ms),
	  "a latency shift at or below this many ms always passes" },
	{ "rollout", "outliers", RIP_CFG_ENUM, "iqr", "iqr|none", false,
	  G(rollout.outliers), "drop latency outliers before the comparison" },
	{ "rollout", "latency_weight", RIP_CFG_UINT, "50", NULL, false,
	  G(rollout.latency_weight), "weight of latency in the score" },
	{ "rollout", "errors_weight", RIP_CFG_UINT, "50", NULL, false,
	  G(rollout.errors_weight), "weight of the error rate in the score" },
	{ "rollout", "pass_score", RIP_CFG_UINT, "95", NULL, false,
	  G(rollout.pass_score), "a score at or above it passes the step" },
	{ "rollout", "marginal_score", RIP_CFG_UINT, "75", NULL, false,
	  G(rollout.marginal_score),
	  "below it the step fails; between the two it is inconclusive" },
	{ "rollout", "failure_threshold", RIP_CFG_UINT, "3", NULL, false,
	  G(rollout.failure_threshold),
	  "failed probe rounds in a row before a target counts as failing" },
	{ "rollout", "failure_limit", RIP_CFG_UINT, "2", NULL, false,
	  G(rollout.failure_limit),
	  "failed probe rounds a step tolerates before max_error_rate judges" },
	{ "rollout", "inconclusive", RIP_CFG_ENUM, "pause", "pause|abort|pass",
	  false, G(rollout.inconclusive),
	  "what a step does when a gate cannot judge" },

	{ "rollback", "schema", RIP_CFG_ENUM, "down", "down|keep", false,
	  G(rollback.schema),
	  "what rollback does with the schema: run the downs, or keep it" },
	{ "rollback", "abort_schema", RIP_CFG_ENUM, "keep", "keep|down", false,
	  G(rollback.abort_schema),
	  "the same for rollout abort: keep = lossless" },

	{ "drill", "every", RIP_CFG_DURATION, "24h", NULL, false,
	  G(drill.every_ms), "how often a release is drilled" },
	{ "drill", "database", RIP_CFG_STRING, "scratch", NULL, false,
	  G(drill.database), "scratch SQLite, or a postgres conninfo" },
	{ "drill", "metrics_file", RIP_CFG_PATH, NULL, NULL, false,
	  G(drill.metrics_file), "Prometheus text file written after drills" },
	{ "drill", "strict", RIP_CFG_BOOL, "no", NULL, false, G(drill.strict),
	  "compare column order and comments too" },
	{ "drill", "smoke", RIP_CFG_BOOL, "no", NULL, false, G(drill.smoke),
	  "also extract, run activate, probe smoke_health" },
	{ "drill", "smoke_health", RIP_CFG_URL, NULL, NULL, false,
	  G(drill.smoke_health), "health URL of the smoke test" },

	{ "notify", "webhook", RIP_CFG_URL, NULL, NULL, false,
	  G(notify.webhook), "JSON POST on failures, aborts, rollbacks" },
	{ "notify", "retries", RIP_CFG_UINT, "5", NULL, false,
	  G(notify.retries), "exponential backoff with jitter" },

	{ "ssh", "command", RIP_CFG_ARGV, "ssh", NULL, false, G(ssh.command),
	  "the ssh client and its options, split on spaces" },
	{ "ssh", "parallel", RIP_CFG_UINT, "20", NULL, false, G(ssh.parallel),
	  "hosts worked on at once" },
	{ "ssh", "connect_timeout", RIP_CFG_DURATION, "5s", NULL, false,
	  G(ssh.connect_timeout_ms), "how long reaching a host may take" },
	{ "ssh", "agent_path", RIP_CFG_STRING, "ripcord", NULL, false,
	  G(ssh.agent_path), "ripcord on the hosts (run as AGENT_PATH agent)" },
};

const size_t rip_config_nkeys = RIP_ARRAY_SIZE(rip_config_keys);

void rip_config_template(struct rip_buf *out, const char *project,
	const char *store)
{
	const char *last = NULL;

	rip_buf_adds(out, "; ripcord.ini: see ripcord.ini(5) for every key.\n"
		"; Relative paths are relative to this file's folder.\n"
		"; Lines starting with ';' are comments; each key shows its "
		"default.\n");
	for (size_t i = 0; i < rip_config_nkeys; i++) {
		const struct rip_config_key *k = &rip_config_keys[i];
		bool target = !strcmp(k->section, "target");
		const char *v = k->def ? k->def : "";

		if (!last || strcmp(last, k->section)) {
			if (target)
				rip_buf_adds(out, "\n; [target \"web-1\"]\n");
			else
				rip_buf_addf(out, "\n[%s]\n", k->section);
			last = k->section;
		}
		if (!strcmp(k->section, "project") && !strcmp(k->name, "name"))
			rip_buf_addf(out, "name = %s\n", project);
		else if (!strcmp(k->section, "project") &&
			 !strcmp(k->name, "store"))
			rip_buf_addf(out, "store = %s\n", store);
		else
			rip_buf_addf(out, "; %s = %s\n", k->name, v);
		rip_buf_addf(out, ";   %s\n", k->help);
		if (k->type == RIP_CFG_ENUM)
			rip_buf_addf(out, ";   one of: %s\n", k->choices);
	}
}
