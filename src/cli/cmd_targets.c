/* SPDX-License-Identifier: MIT */
/*
 * cmd_targets.c: `ripcord targets [--check] [--json]`: the targets of
 * ripcord.ini, and with --check what each one holds and whether it can be
 * reached: local roots read here, remote ones through their host's agent
 * (remote.h), the hosts worked on at once ([ssh] parallel). Without
 * --check it reads the config only: no network, no store. It changes
 * nothing: no lock, no audit entry.
 *
 * `targets --install [--force] [--dry-run]` is the one form that changes
 * hosts: it asks every host which agent answers, and installs this very
 * ripcord at [ssh] agent_path where none does or another version does
 * (rip_fleet_install_from), each install proven by the handshake of the
 * agent it installed. main.c audits it.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "cli.h"
#include "ripcord/fsutil.h"
#include "ripcord/remote.h"
#include "ripcord/site.h"
#include "ripcord/target.h"
#include "rip_version.h"
#include "banned.h"

/* a clock further off than this makes timings across hosts lie */
#define SKEW_LIMIT_S 2.0

/* What --check found of one target. */
struct probe {
	const struct rip_target *t;
	bool reached;             /* its host answered (local: always) */
	bool read;                /* and its root could be read */
	char *error;              /* why not */
	bool exists;              /* the root folder exists */
	struct rip_root_state st;
	bool has_free;
	uint64_t free_bytes;
	char *version;            /* the agent's ripcord (remote only) */
	bool has_skew;
	double skew_s;            /* the host's clock minus ours */
};

struct check {
	struct rip_fleet *fleet;  /* NULL: no remote target */
	struct probe *v;
};

static const char *where_of(const struct rip_target *t)
{
	return t->host ? t->host : "local";
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

/*
 * Free space for an unprivileged user on the file system of path, or of
 * its nearest existing folder above when it does not exist (a root before
 * its first deploy), as the agent answers it. false when none is found.
 */
static bool free_space(uint64_t *out, const char *path)
{
	char *dir = rip_xstrdup(path);
	struct statvfs vfs;
	bool ok;

	while (!(ok = statvfs(dir, &vfs) == 0) && strcmp(dir, "/") &&
	       strcmp(dir, ".")) {
		char *up = rip_path_dirname(dir);

		free(dir);
		dir = up;
	}
	free(dir);
	if (ok)
		*out = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
	return ok;
}

static void probe_local(struct probe *pr)
{
	struct rip_err err = { 0 };

	pr->reached = true;
	pr->exists = rip_path_exists(pr->t->root);
	pr->has_free = free_space(&pr->free_bytes, pr->t->root);
	if (rip_root_inspect(&pr->st, pr->t->root, &err) < 0)
		pr->error = rip_xstrdup(err.msg);
	else
		pr->read = true;
}

static void probe_remote(struct probe *pr, struct rip_fleet *fleet)
{
	struct rip_err err = { 0 };
	struct rip_remote *r;
	struct rip_remote_info info;
	struct rip_remote_root extra = { 0 };

	if (rip_fleet_session(&r, fleet, pr->t, &err) < 0 ||
	    rip_remote_handshake(r, &err) < 0) {
		pr->error = rip_xstrdup(err.msg);
		return;
	}
	pr->reached = true;
	rip_remote_get_info(&info, r);
	pr->version = info.version ? rip_xstrdup(info.version) : NULL;
	pr->has_skew = isfinite(info.clock_skew_s);
	pr->skew_s = info.clock_skew_s;
	if (rip_remote_inspect(&pr->st, &extra, r, pr->t->root, false,
			&err) < 0) {
		/* a session that died on the way is an unreachable host */
		pr->reached = err.code != RIP_EUNREACH;
		pr->error = rip_xstrdup(err.msg);
		return;
	}
	pr->read = true;
	pr->exists = extra.exists;
	pr->has_free = true;
	pr->free_bytes = extra.free_bytes;
}

/* rip_each_fn: probes target i, on one of the fleet's threads. */
static void probe_one(void *data, size_t i)
{
	struct check *c = data;

	if (rip_target_remote(c->v[i].t))
		probe_remote(&c->v[i], c->fleet);
	else
		probe_local(&c->v[i]);
}

static void probe_release(struct probe *pr)
{
	free(pr->error);
	free(pr->version);
	rip_root_state_release(&pr->st);
}

static bool skewed(const struct probe *pr)
{
	return pr->has_skew && fabs(pr->skew_s) > SKEW_LIMIT_S;
}

/*
 * The fleet of cfg's remote targets, its ControlMaster sockets in
 * <store>/ssh when the store exists (a check never creates one); *out
 * stays NULL when every target is local.
 */
static int open_fleet(struct rip_fleet **out, const struct rip_config *cfg,
	struct rip_err *err)
{
	struct rip_store *store = NULL;
	char *control = NULL;
	int rc;

	*out = NULL;
	if (!rip_config_has_remote(cfg))
		return 0;
	if ((rc = rip_store_open(&store, cfg->project.store, false, err)) < 0 &&
	    rc != RIP_ENOTFOUND)
		return rc;
	rip_err_clear(err);
	if (store)
		control = rip_path_join(store->dir, "ssh");
	rc = rip_fleet_new(out, cfg, control, err);
	free(control);
	rip_store_free(store);
	return rc;
}

static void print_list(const struct rip_config *cfg)
{
	static const char *const head[] = { "TARGET", "WHERE", "ROOT",
		"GROUP", "HEALTH", NULL };
	struct cli_table tb;

	cli_table_init(&tb, head);
	for (size_t i = 0; i < cfg->n_targets; i++) {
		const struct rip_target *t = &cfg->targets[i];

		cli_table_add(&tb, t->name);
		cli_table_add(&tb, where_of(t));
		cli_table_add(&tb, t->root);
		cli_table_add(&tb, dash(t->group));
		cli_table_add(&tb, dash(t->health));
	}
	cli_table_print(&tb);
	cli_table_release(&tb);
}

/* The lines said of v[0..n) under the table (printed with print);
 * returns how many there are. */
static size_t notes(const struct probe *v, size_t n, bool print)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		const struct probe *pr = &v[i];

		if (pr->error && ++count && print)
			printf("%s: %s: %s\n", pr->t->name, pr->reached ?
				"cannot read its root" : "unreachable", pr->error);
		else if (pr->read && !pr->exists && ++count && print)
			printf("%s: root '%s' does not exist yet (the first deploy "
				"creates it)\n", pr->t->name, pr->t->root);
		if (skewed(pr) && ++count && print)
			printf("%s: its clock is %+.1f s off ours: set its time "
				"(NTP) before a rollout, whose bake and probe times "
				"assume one clock\n", pr->t->name, pr->skew_s);
	}
	return count;
}

static void print_check(const struct probe *v, size_t n)
{
	static const char *const head[] = { "TARGET", "WHERE", "REACHABLE",
		"AGENT", "CURRENT", "KEPT", "FREE", "SKEW", NULL };
	struct cli_table tb;

	cli_table_init(&tb, head);
	for (size_t i = 0; i < n; i++) {
		const struct probe *pr = &v[i];
		char size[32] = "-", skew[32] = "-", kept[16] = "-";

		if (pr->has_free)
			cli_format_size(size, sizeof(size), pr->free_bytes);
		if (pr->has_skew)
			snprintf(skew, sizeof(skew), "%+.2fs%s", pr->skew_s,
				skewed(pr) ? " (over 2s)" : "");
		if (pr->read)
			snprintf(kept, sizeof(kept), "%zu", pr->st.extracted.n);
		cli_table_add(&tb, pr->t->name);
		cli_table_add(&tb, where_of(pr->t));
		cli_table_add(&tb, pr->reached ? "yes" : "no");
		cli_table_add(&tb, dash(pr->version));
		cli_table_add(&tb, pr->read ? dash(pr->st.current) : "-");
		cli_table_add(&tb, kept);
		cli_table_add(&tb, size);
		cli_table_add(&tb, skew);
	}
	cli_table_print(&tb);
	cli_table_release(&tb);
	/* the errors whole, after the table, where they cannot break it */
	if (notes(v, n, false))
		putchar('\n');
	notes(v, n, true);
}

static json_t *target_json(const struct rip_target *t)
{
	return json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?}", "target", t->name,
		"where", where_of(t), "host", t->host, "root", t->root, "group",
		t->group, "health", t->health);
}

static json_t *probe_json(const struct probe *pr)
{
	json_t *o = target_json(pr->t), *releases = json_array();

	for (size_t i = 0; i < pr->st.extracted.n; i++)
		json_array_append_new(releases,
			json_string(pr->st.extracted.v[i]));
	json_object_set_new(o, "reachable", json_boolean(pr->reached));
	json_object_set_new(o, "readable", json_boolean(pr->read));
	json_object_set_new(o, "error", pr->error ? json_string(pr->error) :
		json_null());
	json_object_set_new(o, "exists", pr->read ? json_boolean(pr->exists) :
		json_null());
	json_object_set_new(o, "agent_version", pr->version ?
		json_string(pr->version) : json_null());
	json_object_set_new(o, "current", pr->st.current ?
		json_string(pr->st.current) : json_null());
	json_object_set_new(o, "releases", releases);
	json_object_set_new(o, "free_bytes", pr->has_free ?
		json_integer((json_int_t)pr->free_bytes) : json_null());
	json_object_set_new(o, "clock_skew_s", pr->has_skew ?
		json_real(pr->skew_s) : json_null());
	json_object_set_new(o, "clock_skewed", json_boolean(skewed(pr)));
	return o;
}

/* Probes every target of cfg; prints; 1 when one is unreachable or its
 * root unreadable, 0 when all were read, < 0 when the check could not
 * start. */
static int check(struct cli *cli, const struct rip_config *cfg,
	struct rip_err *err)
{
	struct check c = { 0 };
	size_t n = cfg->n_targets;
	int rc;

	if ((rc = open_fleet(&c.fleet, cfg, err)) < 0)
		return rc;
	c.v = rip_xcalloc(n + 1, sizeof(*c.v));
	for (size_t i = 0; i < n; i++)
		c.v[i].t = &cfg->targets[i];
	rip_fleet_each(n, c.fleet ? rip_fleet_parallel(c.fleet) : 1,
		probe_one, &c);
	rc = 0;
	for (size_t i = 0; i < n; i++)
		if (!c.v[i].read)
			rc = 1;
	if (cli->json) {
		json_t *targets = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(targets, probe_json(&c.v[i]));
		cli_print_json(json_pack("{s:o}", "targets", targets));
	} else {
		print_check(c.v, n);
	}
	for (size_t i = 0; i < n; i++)
		probe_release(&c.v[i]);
	free(c.v);
	rip_fleet_free(c.fleet);
	return rc;
}

/* ---- targets --install ---- */

/* One host of the fleet, as --install sees it. */
struct host {
	const struct rip_target *t;  /* its first target */
	struct rip_buf names;        /* "web-1, web-2": its targets */
	char *before;                /* the version that answered; NULL: none */
	bool no_agent;               /* ssh exited 126/127: nothing to run */
	bool alien;                  /* what ran there did not answer as one */
	bool replaced;               /* the install was committed there */
	bool installed;              /* ... and said it renamed the upload */
	char *error;                 /* why it could not be asked or installed */
	bool want;                   /* to install */
	bool done;                   /* installed, and the handshake says so */
};

struct install {
	struct rip_fleet *fleet;
	struct host *v;
	const char *agent_path;
	bool force;
};

/* rip_each_fn: which agent answers on host i (before), on a fleet thread. */
static void ask_one(void *data, size_t i)
{
	struct install *in = data;
	struct host *h = &in->v[i];
	struct rip_err err = { 0 };
	struct rip_remote_info info;
	struct rip_remote *r = NULL;

	if (rip_fleet_session(&r, in->fleet, h->t, &err) == 0 &&
	    rip_remote_handshake(r, &err) == 0)
		rip_err_clear(&err);
	if (r) {
		int x = rip_remote_exit_code(r);

		rip_remote_get_info(&info, r);
		h->before = info.version ? rip_xstrdup(info.version) : NULL;
		/* 126/127: nothing runs at agent_path (the install script
		 * itself refuses a program there that is not ripcord) */
		h->no_agent = x == 126 || x == 127;
		/* the command at agent_path ran and did not answer as one */
		h->alien = err.code && !h->no_agent && !h->before &&
			(err.code != RIP_EUNREACH || (x >= 0 && x != 255));
	}
	if (h->alien)
		h->error = rip_xasprintf("%s; what runs at [ssh] agent_path '%s' "
			"did not answer the handshake as a ripcord agent: not "
			"replaced (check it; move it away, then install again)",
			err.msg, in->agent_path);
	/* an agent of our protocol that refused: installing mends nothing;
	 * one of another protocol is one to replace */
	else if (err.code && !h->no_agent && (!h->before ||
		 info.protocol == RIP_AGENT_PROTOCOL))
		h->error = rip_xstrdup(err.msg);
	h->want = !h->error && (h->no_agent || in->force ||
		strcmp(h->before, RIP_VERSION) != 0);
}

/* rip_each_fn: installs on host i when wanted (after), on a fleet thread. */
static void install_one(void *data, size_t i)
{
	struct install *in = data;
	struct host *h = &in->v[i];
	struct rip_err err = { 0 };
	struct rip_remote_info info;
	struct rip_remote *r;

	if (!h->want)
		return;
	if (rip_fleet_session(&r, in->fleet, h->t, &err) < 0 ||
	    rip_remote_handshake(r, &err) < 0) {
		/* committed: agent_path may hold the new program (it does
		 * past RIP_INSTALL_DONE), so it is said and audited */
		h->replaced = r && rip_remote_install_committed(r);
		h->installed = strstr(err.msg, RIP_INSTALL_DONE) != NULL;
		if (h->installed)
			h->error = rip_xasprintf("installed at [ssh] agent_path, but "
				"the new agent does not answer: %s", err.msg);
		else if (h->replaced)
			h->error = rip_xasprintf("the upload passed its checks and "
				"was committed, then: %s; agent_path there may hold the "
				"new program: check it ('ripcord targets --check')",
				err.msg);
		else
			h->error = rip_xstrdup(err.msg);
		return;
	}
	rip_remote_get_info(&info, r);
	if (!info.version || strcmp(info.version, RIP_VERSION) != 0)
		h->error = rip_xasprintf("host %s: installed, but ripcord %s "
			"answers there, not %s (is [ssh] agent_path first in its "
			"PATH?)", h->t->host, info.version ? info.version : "unknown",
			RIP_VERSION);
	else
		h->done = true;
	h->replaced = true;
}

/* The hosts of cfg's remote targets, one entry per ssh destination. */
static size_t hosts_of(struct host **out, const struct rip_config *cfg)
{
	struct host *v = rip_xcalloc(cfg->n_targets + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_targets; i++) {
		const struct rip_target *t = &cfg->targets[i];
		size_t k = 0;

		if (!rip_target_remote(t))
			continue;
		while (k < n && (v[k].t->ssh_port != t->ssh_port ||
				 strcmp(v[k].t->ssh_dest, t->ssh_dest)))
			k++;
		if (k == n)
			v[n++].t = t;
		rip_buf_addf(&v[k].names, "%s%s", v[k].names.len ? ", " : "",
			t->name);
	}
	*out = v;
	return n;
}

static const char *before_text(const struct host *h)
{
	if (h->no_agent)
		return "none";
	if (h->alien)
		return "no answer";
	return dash(h->before);
}

static const char *outcome(const struct host *h, bool dry_run)
{
	if (h->error && !h->replaced)
		return "failed";
	if (!h->want)
		return "current";
	if (dry_run)
		return "to install";
	if (h->replaced && !h->done)
		return h->installed ? "installed, fails" : "unknown";
	return h->done ? "installed" : "failed";
}

static void print_install(const struct host *v, size_t n, bool dry_run)
{
	static const char *const head[] = { "HOST", "TARGETS", "BEFORE",
		"RESULT", NULL };
	struct cli_table tb;

	cli_table_init(&tb, head);
	for (size_t i = 0; i < n; i++) {
		cli_table_add(&tb, v[i].t->host);
		cli_table_add(&tb, v[i].names.buf);
		cli_table_add(&tb, before_text(&v[i]));
		cli_table_add(&tb, outcome(&v[i], dry_run));
	}
	cli_table_print(&tb);
	cli_table_release(&tb);
	for (size_t i = 0; i < n; i++)
		if (v[i].error)
			printf("%s: %s\n", v[i].t->host, v[i].error);
}

static json_t *install_json(const struct host *v, size_t n, bool dry_run)
{
	json_t *hosts = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(hosts, json_pack("{s:s, s:s, s:s?, s:b, "
			"s:s, s:s?}", "host", v[i].t->host, "targets",
			v[i].names.buf, "before", v[i].before, "agent_missing",
			v[i].no_agent, "result", outcome(&v[i], dry_run), "error",
			v[i].error));
	return json_pack("{s:s, s:b, s:o}", "version", RIP_VERSION, "dry_run",
		dry_run, "hosts", hosts);
}

/*
 * targets --install: asks every host, then installs where wanted (not
 * with dry_run); prints. 0 when every host runs this version (or would
 * be installed, with dry_run), 1 when one could not be asked or
 * installed, < 0 when it could not start.
 */
static int install(struct cli *cli, const struct rip_config *cfg,
	bool force, bool dry_run, struct rip_err *err)
{
	struct install in = { .force = force,
		.agent_path = cfg->ssh.agent_path };
	size_t n = hosts_of(&in.v, cfg), nwant = 0;
	int rc = 0;

	if (!n) {
		rc = rip_err_set(err, RIP_EUSAGE, "no target has a host: there is "
			"no agent to install (see 'host' in ripcord.ini(5))");
		goto done;
	}
	if (!cfg->ssh.agent_path || cfg->ssh.agent_path[0] != '/') {
		rc = rip_err_set(err, RIP_EUSAGE, "[ssh] agent_path '%s' is not "
			"an absolute path: set it to where the agent goes on the "
			"hosts (such as /usr/local/bin/ripcord) to install it there",
			cfg->ssh.agent_path ? cfg->ssh.agent_path : "ripcord");
		goto done;
	}
	if ((rc = open_fleet(&in.fleet, cfg, err)) < 0)
		goto done;
	rip_fleet_each(n, rip_fleet_parallel(in.fleet), ask_one, &in);
	rip_fleet_free(in.fleet);
	in.fleet = NULL;
	for (size_t i = 0; i < n; i++)
		nwant += in.v[i].want;
	if (nwant && !dry_run) {
		/* this very program, whatever PATH says */
		if ((rc = open_fleet(&in.fleet, cfg, err)) < 0 ||
		    (rc = rip_fleet_install_from(in.fleet, "/proc/self/exe",
			    force, err)) < 0)
			goto done;
		rip_fleet_each(n, rip_fleet_parallel(in.fleet), install_one, &in);
	}
	for (size_t i = 0; i < n; i++) {
		if (in.v[i].error || (in.v[i].want && !dry_run && !in.v[i].done))
			rc = 1;
		if (in.v[i].replaced)
			cli_audit_target(cli, in.v[i].names.buf);
	}
	if (cli->json)
		cli_print_json(install_json(in.v, n, dry_run));
	else
		print_install(in.v, n, dry_run);
done:
	rip_fleet_free(in.fleet);
	for (size_t i = 0; i < n; i++) {
		rip_buf_release(&in.v[i].names);
		free(in.v[i].before);
		free(in.v[i].error);
	}
	free(in.v);
	return rc;
}

int cmd_targets(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "install", no_argument, NULL, 'i' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rip_config *cfg = NULL;
	struct rip_err err = { 0 };
	bool do_check = false, do_install = false, force = false,
		dry_run = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': do_check = true; break;
		case 'i': do_install = true; break;
		case 'f': force = true; break;
		case 'n': dry_run = true; break;
		case 'j': cli->json = true; break;
		case 'h':
			puts("usage: ripcord targets [--check | --install "
				"[--force] [--dry-run]] [--json]");
			return 0;
		default:
			return cli_usage("targets", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("targets", "unexpected argument '%s'",
			argv[optind]);
	if (do_install && do_check)
		return cli_usage("targets", "--check and --install go alone: "
			"--install --dry-run says what it would do");
	if ((force || dry_run) && !do_install)
		return cli_usage("targets", "--force and --dry-run go with "
			"--install");
	if ((rc = cli_load_config(cli, &cfg, &err)) < 0)
		return cli_fail(&err, rc);
	if (do_install) {
		rc = install(cli, cfg, force, dry_run, &err);
	} else if (do_check) {
		rc = check(cli, cfg, &err);
	} else if (cli->json) {
		json_t *targets = json_array();

		for (size_t i = 0; i < cfg->n_targets; i++)
			json_array_append_new(targets,
				target_json(&cfg->targets[i]));
		cli_print_json(json_pack("{s:o}", "targets", targets));
		rc = 0;
	} else {
		print_list(cfg);
		rc = 0;
	}
	if (rc < 0)
		rc = cli_fail(&err, rc);
	rip_config_free(cfg);
	return rc;
}
