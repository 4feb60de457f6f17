/* SPDX-License-Identifier: MIT */
/*
 * remote.c: the fleet of remote.h: sessions to `ripcord agent` keyed by
 * (ssh_dest, ssh_port), started on first use, ended together; the argv
 * of ssh; and rip_fleet_each, the thread pool the fleet (and anything
 * else that works on many things at once) runs on. A session is the
 * business of remote_session.c, the operations of remote_ops.c.
 *
 * Tuned for a few hundred hosts at most (the open-file limit is raised
 * to the hard one for their descriptors): the session table is a linear
 * list under one mutex, each session has its own, held by whoever uses
 * it (a handshake included, so targets on one host wait for one start).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "remote_int.h"
#include "banned.h"

static uint64_t connect_ms_of(const struct rip_config *cfg)
{
	return cfg->ssh.connect_timeout_ms ? cfg->ssh.connect_timeout_ms :
		DEFAULT_CONNECT_MS;
}

/* "'s'" for a remote shell: single quotes, each ' written '\''. */
static char *shell_quote(const char *s)
{
	struct rip_buf b = RIP_BUF_INIT;

	rip_buf_addch(&b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			rip_buf_adds(&b, "'\\''");
		else
			rip_buf_addch(&b, *s);
	}
	rip_buf_addch(&b, '\'');
	return rip_buf_detach(&b, NULL);
}

/* Whether dest may be handed to ssh as its destination. */
static bool dest_ok(const char *dest)
{
	if (!dest || !dest[0] || dest[0] == '-')
		return false;
	for (const char *c = dest; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

/* Whether dir may go into "ControlPath=DIR/%C" as it is: ssh splits the
 * option's value on spaces (a quote would be its own syntax) and expands
 * '%' and "${...}" in it, so only a plain path goes in. */
static bool ctl_plain(const char *dir)
{
	for (const char *c = dir; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr("._/+@-", *c)))
			return false;
	return true;
}

/* "/tmp/ripcord-ssh-<16 hex digits of dir's SHA-256>": the ControlPath
 * folder used for dir when dir cannot be (too long, not plain). */
static char *ctl_fallback(const char *dir)
{
	unsigned char h[RIP_SHA256_LEN];
	char hex[RIP_SHA256_HEX];

	rip_sha256(h, dir, strlen(dir));
	rip_hex(hex, h, 8);
	return rip_xasprintf("/tmp/ripcord-ssh-%s", hex);
}

/* [ssh] agent_path, or "ripcord" (found in the host's PATH). */
static const char *agent_of(const struct rip_config *cfg)
{
	return cfg->ssh.agent_path && cfg->ssh.agent_path[0] ?
		cfg->ssh.agent_path : "ripcord";
}

int rip_remote_ssh_argv(struct rip_strlist *out, const struct rip_config *cfg,
	const char *control_dir, const char *dest, unsigned port,
	struct rip_err *err)
{
	char *quoted = shell_quote(agent_of(cfg));
	char *cmd = rip_xasprintf("%s agent", quoted);
	int rc = rip_remote_ssh_argv_run(out, cfg, control_dir, dest, port, cmd,
		err);

	free(cmd);
	free(quoted);
	return rc;
}

int rip_remote_ssh_argv_run(struct rip_strlist *out,
	const struct rip_config *cfg, const char *control_dir, const char *dest,
	unsigned port, const char *remote_cmd, struct rip_err *err)
{
	unsigned s = (unsigned)((connect_ms_of(cfg) + 999) / 1000);

	memset(out, 0, sizeof(*out));
	if (!dest_ok(dest))
		return rip_err_set(err, RIP_ECONFIG, "ssh destination '%s' is "
			"empty, starts with '-' or holds a space: refused",
			dest ? dest : "");
	if (port > 65535)
		return rip_err_set(err, RIP_ECONFIG, "ssh port %u of '%s' is not "
			"a port", port, dest);
	if (!cfg->ssh.command.n)
		rip_strlist_push(out, "ssh");
	for (size_t i = 0; i < cfg->ssh.command.n; i++)
		rip_strlist_push(out, cfg->ssh.command.v[i]);
	rip_strlist_push(out, "-T");
	rip_strlist_push(out, "-o");
	rip_strlist_push(out, "BatchMode=yes");
#define OPT(fmt, v) do { \
		char *o_ = rip_xasprintf(fmt, v); \
		rip_strlist_push(out, "-o"); \
		rip_strlist_push(out, o_); \
		free(o_); \
	} while (0)
	OPT("ConnectTimeout=%u", s ? s : 1);
	OPT("ServerAliveInterval=%u", s ? s : 1);
	rip_strlist_push(out, "-o");
	rip_strlist_push(out, "ServerAliveCountMax=3");
	if (control_dir) {
		char *fb = ctl_plain(control_dir) ? NULL :
			ctl_fallback(control_dir);

		rip_strlist_push(out, "-o");
		rip_strlist_push(out, "ControlMaster=auto");
		OPT("ControlPath=%s/%%C", fb ? fb : control_dir);
		free(fb);
		rip_strlist_push(out, "-o");
		rip_strlist_push(out, "ControlPersist=60");
	}
#undef OPT
	if (port) {
		char *ps = rip_xasprintf("%u", port);

		rip_strlist_push(out, "-p");
		rip_strlist_push(out, ps);
		free(ps);
	}
	rip_strlist_push(out, "--");
	rip_strlist_push(out, dest);
	rip_strlist_push(out, remote_cmd);
	return 0;
}

/*
 * The install script, run by sh whatever the login shell. What is at
 * agent_path is replaced only when it is ripcord (its --version says
 * so), and, without force, neither a symbolic link nor a script (an
 * operator's wrapper, which may set the agent up): a folder there, or
 * another program (a wrapper whose target is gone exits 127 too), is
 * refused before a byte is read. The file then arrives on stdin
 * (exactly its size: head -c reads no further), is checked (size,
 * SHA-256, that it runs here), and the script says RIP_INSTALL_READY and
 * waits for "commit" (commit_install in remote_session.c: a client that
 * gave up, its session gone, leaves agent_path as it was). Committed, it
 * renames the upload over agent_path, says RIP_INSTALL_DONE on stderr
 * (from then on agent_path is the new program, whatever the agent does
 * next), and starts the agent in its place; the handshake that follows
 * the commit reaches the agent. A step that fails, or a signal (the session lost
 * mid-upload: dash runs no EXIT trap on a signal), removes the upload
 * and leaves agent_path as it was, saying why on stderr.
 */
char *rip_remote_install_cmd(const struct rip_fleet *f)
{
	char *path = shell_quote(agent_of(f->cfg));
	char *script = rip_xasprintf(
		"set -e; umask 022; p=%s; t=\"$p.ripcord-new.$$\"; "
		"command -v sha256sum > /dev/null || { echo 'ripcord install: "
		"no sha256sum here to check the upload with (coreutils)' >&2; "
		"exit 1; }; "
		"if [ -d \"$p\" ] && [ ! -L \"$p\" ]; then echo \"ripcord install: "
		"$p is a folder: nothing installed\" >&2; exit 1; fi; "
		"if [ %d = 0 ] && [ -L \"$p\" ]; then echo \"ripcord install: $p "
		"is a symbolic link (to $(readlink -- \"$p\")): not replaced; "
		"--force replaces the link with the program\" >&2; exit 1; fi; "
		"if [ %d = 0 ] && [ -f \"$p\" ] && [ \"$(head -c 2 -- \"$p\")\" = "
		"'#!' ]; then echo \"ripcord install: $p is a script (a wrapper "
		"may set up the agent): not replaced; point agent_path at the "
		"program, or --force replaces it\" >&2; exit 1; fi; "
		"if [ -e \"$p\" ] || [ -L \"$p\" ]; then "
		"v=$(\"$p\" --version < /dev/null 2> /dev/null || true); "
		"case $v in 'ripcord '*) ;; *) echo \"ripcord install: $p is "
		"there and is not ripcord (its --version does not say so): not "
		"replaced; move it away, then install again\" >&2; exit 1;; "
		"esac; fi; "
		"trap 'rm -f -- \"$t\"' EXIT; trap 'exit 1' HUP INT TERM PIPE; "
		"mkdir -p -- \"$(dirname -- \"$p\")\"; "
		"head -c %llu > \"$t\"; "
		"n=$(wc -c < \"$t\"); [ \"$n\" -eq %llu ] || "
		"{ echo \"ripcord install: $n of %llu bytes arrived\" >&2; "
		"exit 1; }; "
		"printf '%%s  %%s\\n' %s \"$t\" | sha256sum -c --status - || "
		"{ echo 'ripcord install: the upload does not have the SHA-256 "
		"sent' >&2; exit 1; }; "
		"chmod 0755 \"$t\"; "
		"\"$t\" --version < /dev/null > /dev/null || { echo \"ripcord install: "
		"this ripcord does not run on $(uname -sm) here\" >&2; exit 1; }; "
		"echo '" RIP_INSTALL_READY "'; read -r c || exit 1; "
		"[ \"$c\" = commit ] || exit 1; "
		"mv -f -- \"$t\" \"$p\"; trap - EXIT HUP INT TERM PIPE; "
		"echo \"" RIP_INSTALL_DONE " $p\" >&2; exec \"$p\" agent",
		path, f->install_force, f->install_force,
		(unsigned long long)f->install_size,
		(unsigned long long)f->install_size,
		(unsigned long long)f->install_size, f->install_hex);
	char *quoted = shell_quote(script);
	char *cmd = rip_xasprintf("exec sh -c %s", quoted);

	free(quoted);
	free(script);
	free(path);
	return cmd;
}

int rip_fleet_install_from(struct rip_fleet *f, const char *path,
	bool force, struct rip_err *err)
{
	unsigned char h[RIP_SHA256_LEN];
	const char *agent = agent_of(f->cfg);
	struct stat st;
	int fd, rc = 0;

	if (agent[0] != '/')
		return rip_err_set(err, RIP_EUSAGE, "[ssh] agent_path '%s' is not "
			"an absolute path: nowhere to install", agent);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rip_err_errno(err, RIP_EIO, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		rc = rip_err_set(err, RIP_EIO, "'%s' is not a program file", path);
	else if ((rc = rip_sha256_fd(h, fd, path, err)) == 0) {
		free(f->install_path);
		f->install_path = rip_xstrdup(path);
		f->install_size = (uint64_t)st.st_size;
		rip_hex(f->install_hex, h, RIP_SHA256_LEN);
		f->install_force = force;
	}
	close(fd);
	return rc;
}

int rip_remote_exit_code(const struct rip_remote *r)
{
	return r->exit_code;
}

bool rip_remote_install_committed(const struct rip_remote *r)
{
	return r->install_committed;
}

/* ---- the fleet ---- */

/* A ControlPath folder under /tmp for one too long for a socket or not
 * plain (ctl_plain), named after it; it must be ours and 0700 when it
 * exists. */
static int short_control_dir(char **out, const char *dir, struct rip_err *err)
{
	struct stat st;
	char *p = ctl_fallback(dir);

	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		rip_err_errno(err, RIP_EIO, "cannot create ssh's control "
			"folder '%s' (for '%s')", p, dir);
		free(p);
		return RIP_EIO;
	}
	if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		rip_err_set(err, RIP_ESECURITY, "ssh's control folder '%s' is "
			"not a folder of ours with mode 0700: remove it", p);
		free(p);
		return RIP_ESECURITY;
	}
	*out = p;
	return 0;
}

/* enough descriptors for some 20,000 sessions */
#define FLEET_NOFILE ((rlim_t)65536)

/*
 * Raises the soft RLIMIT_NOFILE to the hard one (at most FLEET_NOFILE;
 * an unlimited hard limit is more than Linux grants): a session holds three
 * descriptors for the fleet's life, so the common soft limit of 1024
 * would end a fleet at some 330 hosts with "Too many open files". What
 * we start inherits the higher soft limit, which only lets it open more.
 */
static void fd_room(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	want = rl.rlim_max < FLEET_NOFILE ? rl.rlim_max : FLEET_NOFILE;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rip_debug("cannot raise the open-file limit: %s",
				strerror(errno));
	}
}

int rip_fleet_new(struct rip_fleet **out, const struct rip_config *cfg,
	const char *control_dir, struct rip_err *err)
{
	struct rip_fleet *f;
	int rc;

	*out = NULL;
	fd_room();
	f = rip_xcalloc(1, sizeof(*f));
	f->cfg = cfg;
	f->connect_ms = connect_ms_of(cfg);
	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->hash_mu, NULL);
	if (control_dir) {
		if (strlen(control_dir) + CTL_EXTRA > sizeof(((struct
				sockaddr_un *)0)->sun_path) || !ctl_plain(control_dir))
			rc = short_control_dir(&f->control_dir, control_dir, err);
		else if ((rc = rip_mkdir_p(control_dir, 0700, err)) == 0)
			f->control_dir = rip_xstrdup(control_dir);
		if (rc < 0) {
			rip_fleet_free(f);
			return rc;
		}
	}
	*out = f;
	return 0;
}

size_t rip_fleet_parallel(const struct rip_fleet *f)
{
	return f->cfg->ssh.parallel ? (size_t)f->cfg->ssh.parallel : 1;
}

/* "target 'a' (host H)", "targets 'a', 'b' (host H)"; under r->mu. The
 * old label is kept (old_labels): a thread may be reading it. */
static void relabel(struct rip_remote *r)
{
	struct rip_buf b = RIP_BUF_INIT;

	rip_buf_adds(&b, r->names.n > 1 ? "targets " : "target ");
	for (size_t i = 0; i < r->names.n && i < 3; i++)
		rip_buf_addf(&b, "%s'%s'", i ? ", " : "", r->names.v[i]);
	if (r->names.n > 3)
		rip_buf_addf(&b, " and %zu more", r->names.n - 3);
	rip_buf_addf(&b, " (host %s)", r->host);
	if (r->label) {
		RIP_ALLOC_GROW(r->old_labels, r->nold + 1, r->aold);
		r->old_labels[r->nold++] = r->label;
	}
	__atomic_store_n(&r->label, rip_buf_detach(&b, NULL), __ATOMIC_RELEASE);
}

/* The session of (dest, port), made (not started) when missing. */
static struct rip_remote *find_or_add(struct rip_fleet *f,
	const struct rip_target *t)
{
	struct rip_remote *r = NULL;

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->n && !r; i++)
		if (f->v[i]->port == t->ssh_port &&
		    !strcmp(f->v[i]->dest, t->ssh_dest))
			r = f->v[i];
	if (!r) {
		r = rip_xcalloc(1, sizeof(*r));
		r->fleet = f;
		pthread_mutex_init(&r->mu, NULL);
		r->dest = rip_xstrdup(t->ssh_dest);
		r->port = t->ssh_port;
		r->host = rip_xstrdup(t->host);
		r->in = r->out = r->errfd = -1;
		r->exit_code = -1;
		r->rd.fd = -1;
		r->next_id = 0;
		RIP_ALLOC_GROW(f->v, f->n + 1, f->alloc);
		f->v[f->n++] = r;
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

int rip_fleet_session(struct rip_remote **out, struct rip_fleet *f,
	const struct rip_target *t, struct rip_err *err)
{
	struct rip_remote *r;
	int rc = 0;

	*out = NULL;
	if (!t->host || !t->ssh_dest)
		return rip_err_set(err, RIP_EUSAGE, "target '%s' has no host: "
			"it is on this machine", t->name);
	if (!dest_ok(t->ssh_dest))
		return rip_err_set(err, RIP_ECONFIG, "target '%s': ssh "
			"destination '%s' is empty, starts with '-' or holds a "
			"space: refused", t->name, t->ssh_dest);
	r = find_or_add(f, t);
	pthread_mutex_lock(&r->mu);
	if (!rip_strlist_has(&r->names, t->name)) {
		rip_strlist_push(&r->names, t->name);
		relabel(r);
	}
	/* once per fleet, a host that dropped off gets another chance */
	if (r->dead_code == RIP_EUNREACH && !r->retried &&
	    rip_remote_now_ms() - r->dead_at >= (int64_t)(2 * f->connect_ms)) {
		rip_debug("%s: starting the session again (%s)",
			rip_remote_label(r), r->dead_msg);
		r->retried = true;
		rip_remote_reset(r);
	}
	if (r->dead_code < 0) {
		rc = rip_err_set(err, r->dead_code, "%s", r->dead_msg);
	} else if (!r->started) {
		r->started = true;
		rc = rip_remote_start(r, err);
	}
	pthread_mutex_unlock(&r->mu);
	if (rc == 0)
		*out = r;
	return rc;
}

void rip_remote_get_info(struct rip_remote_info *out,
	const struct rip_remote *r)
{
	*out = r->info;
}

void rip_fleet_free(struct rip_fleet *f)
{
	int64_t until = rip_remote_now_ms() + BYE_WAIT_MS;

	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		rip_remote_bye(f->v[i]);
	/* one wait for all: a fleet of dead hosts costs 2 s, not 2 s each */
	for (size_t i = 0; i < f->n; i++) {
		int64_t left = until - rip_remote_now_ms();

		rip_remote_reap(f->v[i], left > 0 ? left : 0);
	}
	for (size_t i = 0; i < f->n; i++) {
		struct rip_remote *r = f->v[i];

		rip_remote_close(r);
		pthread_mutex_destroy(&r->mu);
		free(r->dest);
		free(r->host);
		free(r->label);
		for (size_t k = 0; k < r->nold; k++)
			free(r->old_labels[k]);
		free(r->old_labels);
		free(r->dead_msg);
		free((char *)r->info.version);
		free((char *)r->info.hostname);
		rip_strlist_release(&r->names);
		free(r);
	}
	for (size_t i = 0; i < f->nmemo; i++)
		free(f->memo[i].path);
	free(f->memo);
	free(f->v);
	free(f->control_dir);
	free(f->install_path);
	pthread_mutex_destroy(&f->hash_mu);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* ---- the pool ---- */

struct each_pool {
	size_t n, next;
	rip_each_fn fn;
	void *data;
	pthread_mutex_t mu;
};

static void *each_worker(void *data)
{
	struct each_pool *p = data;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			return NULL;
		p->fn(p->data, i);
	}
}

void rip_fleet_each(size_t n, size_t at_once, rip_each_fn fn, void *data)
{
	struct each_pool pool = { .n = n, .fn = fn, .data = data };
	size_t want = at_once < n ? at_once : n, nt = 0;
	pthread_t *tid;

	if (want > MAX_THREADS)
		want = MAX_THREADS;
	if (want <= 1) {
		for (size_t i = 0; i < n; i++)
			fn(data, i);
		return;
	}
	tid = rip_xcalloc(want - 1, sizeof(*tid));
	pthread_mutex_init(&pool.mu, NULL);
	/* a thread that cannot start leaves its share to the others */
	while (nt + 1 < want && pthread_create(&tid[nt], NULL, each_worker,
			&pool) == 0)
		nt++;
	each_worker(&pool);
	for (size_t i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&pool.mu);
	free(tid);
}
