/* SPDX-License-Identifier: MIT */
/*
 * agent.c: the serving loop of `ripcord agent`, its requests and its
 * agent.ini. The agent acts only through target.c, extract.c and hook.c,
 * on a root the request names, after the handshake, and (when agent.ini
 * lists roots) only below a listed root, compared after realpath(3) so
 * that links and ".." cannot lead out; it writes nothing outside that
 * root. Inside it, target.c works by path, so the agent first refuses
 * every link on those paths: a root whose releases/, .ripcord/,
 * .ripcord/artifacts or current release is a link, any release folder
 * that is one, and a root inside a releases/ folder (a release's payload,
 * which the client chose, is never a root). With roots listed, activate
 * runs only a program inside the release. A bad request costs one error
 * answer, never the session: the client may be a newer ripcord, or a
 * confused one.
 *
 * A put is the one request with a body: its size is checked first of all
 * (a bad one ends the session, since the stream cannot be re-framed), and
 * from then on exactly that many bytes are read whatever else goes wrong,
 * so the next line is a request again. The body streams through a fixed
 * buffer into a temporary file beside its final name, hashed on the way:
 * an artifact is never held in memory, and a refused one leaves nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/agent.h"
#include "ripcord/fsutil.h"
#include "ripcord/hook.h"
#include "ripcord/ini.h"
#include "ripcord/log.h"
#include "ripcord/manifest.h"
#include "ripcord/target.h"
#include "agent_internal.h"
#include "agent_proto.h"
#include "banned.h"

#define MAX_INI_FILE ((size_t)1 << 20)
#define MAX_INI_LINE 4096

struct ini_parse {
	struct rip_agent_conf *conf;
	const char *name;
};

/* verify_key = PATH: absolute and readable now, not at the first put. */
static int ini_verify_key(struct ini_parse *p, const char *value, int line,
	struct rip_err *err)
{
	int fd;

	if (value[0] != '/')
		return rip_err_set(err, RIP_ECONFIG, "%s:%d: verify_key '%s' is "
			"not an absolute path", p->name, line, value);
	fd = open(value, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rip_err_errno(err, RIP_ECONFIG, "%s:%d: cannot read "
			"verify_key '%s'", p->name, line, value);
	close(fd);
	free(p->conf->verify_key);
	p->conf->verify_key = rip_xstrdup(value);
	return 0;
}

static int ini_key(void *user, const char *section, const char *name,
	const char *value, int line, struct rip_err *err)
{
	struct ini_parse *p = user;
	struct rip_strlist roots = { 0 };

	if (strcmp(section, "agent"))
		return rip_err_set(err, RIP_ECONFIG, "%s:%d: unknown section "
			"'%s' (agent.ini has only [agent])", p->name, line, section);
	if (!strcmp(name, "verify_key"))
		return ini_verify_key(p, value, line, err);
	if (strcmp(name, "roots"))
		return rip_err_set(err, RIP_ECONFIG, "%s:%d: unknown key '%s' in "
			"[agent] (known: roots, verify_key)", p->name, line, name);
	rip_strlist_split(&roots, value);
	for (size_t i = 0; i < roots.n; i++) {
		if (roots.v[i][0] != '/') {
			rip_err_set(err, RIP_ECONFIG, "%s:%d: root '%s' is not an "
				"absolute path", p->name, line, roots.v[i]);
			rip_strlist_release(&roots);
			return RIP_ECONFIG;
		}
		rip_strlist_push(&p->conf->roots, roots.v[i]);
	}
	rip_strlist_release(&roots);
	return 0;
}

int rip_agent_conf_load(struct rip_agent_conf *out, const char *path,
	struct rip_err *err)
{
	static const struct rip_ini_ops ops = { NULL, ini_key };
	struct rip_buf text = RIP_BUF_INIT;
	struct ini_parse p = { out, path };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rip_read_file(&text, path, MAX_INI_FILE, err);
	if (rc == RIP_ENOTFOUND) {
		rip_err_clear(err);
		rc = 0;
	} else if (rc < 0) {
		rc = rip_err_prefix(err, "agent config");
	} else if (text.len != strlen(text.buf)) {
		rc = rip_err_set(err, RIP_ECONFIG, "%s: binary data in a config "
			"file", path);
	} else if ((rc = rip_ini_parse(text.buf, path, MAX_INI_LINE, true,
			&ops, &p, err)) < 0) {
		rc = RIP_ECONFIG;
	}
	if (rc < 0)
		rip_agent_conf_release(out);
	rip_buf_release(&text);
	return rc < 0 ? RIP_ECONFIG : 0;
}

void rip_agent_conf_release(struct rip_agent_conf *c)
{
	rip_strlist_release(&c->roots);
	free(c->verify_key);
	c->verify_key = NULL;
}

/* Whether real is dir or below it (both resolved). */
static bool below(const char *real, const char *dir)
{
	size_t l = strlen(dir);

	if (l == 1 && dir[0] == '/')
		return true;
	return !strncmp(real, dir, l) && (real[l] == '\0' || real[l] == '/');
}

/*
 * The length of full up to its first "releases/" with more below it,
 * looking only past its first skip bytes (where full[skip] is '/'); 0
 * when there is none.
 */
static size_t releases_prefix(const char *full, size_t skip)
{
	const char *p = full + skip;

	while ((p = strstr(p, "/releases/"))) {
		if (p[10] != '\0')
			return (size_t)(p - full) + 10;
		p += 9;
	}
	return 0;
}

/*
 * Resolves absolute root: real gets its nearest existing folder (realpath)
 * and *rest points into root at the components below it that do not exist
 * yet ("" when root exists). A missing "." or ".." is refused: nothing
 * could check where it leads.
 */
static int resolve_root(char real[PATH_MAX], const char **rest,
	const char *root, struct rip_err *err)
{
	char *path = rip_xstrdup(root);
	int rc = 0;

	*rest = root + strlen(root);
	while (!realpath(path, real)) {
		char *slash;
		size_t len = strlen(path);

		if (errno != ENOENT) {
			rc = rip_err_errno(err, RIP_EIO, "root '%s'", root);
			break;
		}
		while (len > 1 && path[len - 1] == '/')
			path[--len] = '\0';
		slash = strrchr(path, '/');
		if (!strcmp(slash + 1, ".") || !strcmp(slash + 1, "..")) {
			rc = rip_err_set(err, RIP_ESECURITY, "root '%s' has '%s' "
				"below a folder that does not exist: refused", root,
				slash + 1);
			break;
		}
		*rest = root + (slash + 1 - path);
		slash[slash == path ? 1 : 0] = '\0';
	}
	free(path);
	return rc;
}

/* rip_agent_root_allowed; *exists says whether root exists, and real is
 * its nearest existing folder. A root below a releases/ folder (below the
 * listed root, or anywhere without roots) is refused. */
static int root_allowed(bool *exists, char real[PATH_MAX],
	const struct rip_agent_conf *c, const char *root, struct rip_err *err)
{
	struct rip_buf full = RIP_BUF_INIT;
	char listed[PATH_MAX];
	const char *rest;
	size_t nested;
	int rc;

	*exists = false;
	if (root[0] != '/')
		return rip_err_set(err, RIP_EUSAGE, "root '%s' is not an "
			"absolute path", root);
	if ((rc = resolve_root(real, &rest, root, err)) < 0)
		goto done;
	*exists = rest[0] == '\0';
	rip_buf_adds(&full, real);
	if (!*exists)
		rip_buf_addf(&full, "%s%s", strcmp(real, "/") ? "/" : "", rest);
	/* without roots, any folder is allowed and any releases/ counts */
	rc = c->roots.n ? RIP_ESECURITY : 0;
	nested = c->roots.n ? 0 : releases_prefix(full.buf, 0);
	for (size_t i = 0; i < c->roots.n && rc; i++) {
		size_t n;

		if (!realpath(c->roots.v[i], listed) || !below(full.buf, listed))
			continue;
		n = releases_prefix(full.buf, strcmp(listed, "/") ?
			strlen(listed) : 0);
		if (n == 0)
			rc = 0;
		nested = n;
	}
	if (nested)
		rc = rip_err_set(err, RIP_ESECURITY, "root '%s' lies inside "
			"'%.*s': a release's payload is never a root (name the "
			"folder that holds releases/)", root, (int)nested, full.buf);
	else if (rc)
		rip_err_set(err, RIP_ESECURITY, "root '%s' is not allowed "
			"here: agent.ini's roots do not list it or a folder above "
			"it", root);
done:
	rip_buf_release(&full);
	return rc;
}

int rip_agent_root_allowed(const struct rip_agent_conf *c,
	const char *root, struct rip_err *err)
{
	char real[PATH_MAX];
	bool exists;

	return root_allowed(&exists, real, c, root, err);
}

int rip_agent_real_dir(bool *there, const char *path, struct rip_err *err)
{
	struct stat st;

	*there = false;
	/* ENOTDIR: a file above it, which is no link either */
	if (lstat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
			rip_err_errno(err, RIP_EIO, "cannot read '%s'", path);
	if (S_ISLNK(st.st_mode))
		return rip_err_set(err, RIP_ESECURITY, "'%s' is a symbolic link: "
			"the agent follows no link in a root (replace it with the "
			"folder, or name the folder it leads to as the root)", path);
	/* anything else that is not a folder: target.c and the cache say */
	*there = S_ISDIR(st.st_mode);
	return 0;
}

int rip_agent_release_dir(char **dir, bool *there, const struct op_ctx *c,
	const char *id, struct rip_err *err)
{
	*dir = rip_root_release_dir(c->root, id);
	return rip_agent_real_dir(there, *dir, err);
}

/*
 * The folders of an existing root that target.c and the cache reach by
 * path are not links that would lead out of it: releases/, .ripcord/,
 * .ripcord/artifacts and the release current points at. Whatever else is
 * wrong with them (a file there, a current that is not ours), target.c
 * and the cache say when they get there.
 */
static int root_links(const struct op_ctx *c, struct rip_err *err)
{
	static const char *const own[] = {
		"releases", ".ripcord", ".ripcord/artifacts",
	};
	char *path = rip_path_join(c->root, "current");
	char to[PATH_MAX];
	ssize_t n = readlink(path, to, sizeof(to) - 1);
	bool there;
	int rc = 0;

	free(path);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(own) && rc == 0; i++) {
		path = rip_path_join(c->root, own[i]);
		rc = rip_agent_real_dir(&there, path, err);
		free(path);
	}
	if (rc == 0 && n > 9) {
		to[n] = '\0';
		if (!strncmp(to, "releases/", 9) && rip_release_id_valid(to + 9)) {
			rc = rip_agent_release_dir(&path, &there, c, to + 9, err);
			free(path);
		}
	}
	return rc;
}

/* Ends the session after this request (silent: without its answer). */
void rip_agent_stop(struct agent *a, bool silent, int rc,
	const struct rip_err *err)
{
	a->stop = true;
	a->silent = silent;
	a->stop_rc = rc;
	a->stop_err = *err;
}

const char *rip_agent_release_arg(const struct rip_agent_req *req,
	struct rip_err *err)
{
	const char *id = rip_agent_req_str(req, "release", err);

	if (id && !rip_release_id_valid(id)) {
		rip_err_set(err, RIP_EUSAGE, "bad release id '%s'", id);
		return NULL;
	}
	return id;
}

/* The "digest" of a request: 64 lowercase hex digits. */
const char *rip_agent_digest_arg(const struct rip_agent_req *req,
	struct rip_err *err)
{
	const char *d = rip_agent_req_str(req, "digest", err);
	size_t n = 0;

	if (!d)
		return NULL;
	while (n < 65 && d[n] && ((d[n] >= '0' && d[n] <= '9') ||
	       (d[n] >= 'a' && d[n] <= 'f')))
		n++;
	if (n != 64 || d[n]) {
		rip_err_set(err, RIP_EUSAGE, "'%s': bad digest '%s' (64 "
			"lowercase hex digits of a SHA-256)", req->op, d);
		return NULL;
	}
	return d;
}

/* An optional member of a type (json_is_*), or RIP_EUSAGE. */
int rip_agent_member(json_t **out, const struct rip_agent_req *req,
	const char *key, int (*is)(const json_t *), const char *what,
	struct rip_err *err)
{
	*out = json_object_get(req->doc, key);
	if (*out && !is(*out))
		return rip_err_set(err, RIP_EUSAGE, "'%s': '%s' is not %s",
			req->op, key, what);
	return 0;
}

static int do_inspect(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	struct rip_root_state st = { 0 };
	struct statvfs vfs;
	json_t *check, *rels;
	int rc;

	if ((rc = rip_agent_member(&check, c->req, "check",
			rip_agent_is_bool, "a boolean", err)) < 0)
		return rc;
	if (c->exists && json_is_true(check) &&
	    (rc = rip_root_check(c->root, err)) < 0)
		return rc;
	if (c->exists && (rc = rip_root_inspect(&st, c->root, err)) < 0)
		return rc;
	if (statvfs(c->real, &vfs) < 0) {
		rip_root_state_release(&st);
		return rip_err_errno(err, RIP_EIO, "cannot read the free space "
			"of '%s'", c->real);
	}
	rels = json_array();
	for (size_t i = 0; i < st.extracted.n; i++)
		json_array_append_new(rels, json_string(st.extracted.v[i]));
	*fields = json_pack("{s:s,s:b,s:o,s:o,s:I}", "root", c->root,
		"exists", c->exists,
		"current", st.current ? json_string(st.current) : json_null(),
		"releases", rels,
		"free_bytes", (json_int_t)((unsigned long long)vfs.f_bavail *
			vfs.f_frsize));
	rip_root_state_release(&st);
	return 0;
}

static int do_prepare(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	int rc = rip_root_prepare(c->root, err);

	if (rc == 0)
		*fields = json_object();
	return rc;
}

/*
 * Switches, then syncs the root: once the rename is made the host runs
 * the release, so a sync that fails is a warning in an ok answer
 * ("synced": false), never an error the client would record as a switch
 * that failed.
 */
static int do_switch(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	const char *id = rip_agent_release_arg(c->req, err);
	struct rip_err serr = { 0 };
	char *dir = NULL, *warning;
	bool there;
	int rc;

	if (!id)
		return RIP_EUSAGE;
	if ((rc = rip_agent_release_dir(&dir, &there, c, id, err)) < 0)
		goto done;
	if (!there) {
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' is not "
			"extracted under '%s': extract it first", id, c->root);
		goto done;
	}
	if ((rc = rip_root_switch_quick(c->root, id, err)) < 0)
		goto done;
	if (rip_fsync_dir(c->root, &serr) == 0) {
		*fields = json_pack("{s:s,s:b}", "current", id, "synced", true);
		goto done;
	}
	warning = rip_xasprintf("%s: the switch is made, but may not survive "
		"a crash of the host", serr.msg);
	rip_debug("agent: %s", warning);
	*fields = json_pack("{s:s,s:b,s:s}", "current", id, "synced", false,
		"warning", warning);
	free(warning);
done:
	free(dir);
	return rc;
}

static int do_remove(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	const char *id = rip_agent_release_arg(c->req, err);
	char *dir;
	bool was;
	int rc;

	if (!id)
		return RIP_EUSAGE;
	if ((rc = rip_agent_release_dir(&dir, &was, c, id, err)) == 0 &&
	    (rc = rip_root_remove(c->root, id, err)) == 0)
		*fields = json_pack("{s:b}", "removed", was);
	free(dir);
	return rc;
}

/* A JSON string of bytes that may not be UTF-8 (a hook's output). */
static json_t *text_of(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	char *ascii;

	if (j)
		return j;
	ascii = rip_xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		ascii[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
	j = json_stringn(ascii, len);
	free(ascii);
	return j;
}

/* The activate request's members, checked. */
struct activate_args {
	const char *id, *previous, *target, *command;
	uint64_t timeout_ms;
};

static int activate_args(struct activate_args *out,
	const struct rip_agent_req *req, struct rip_err *err)
{
	json_t *t;
	int rc;

	if (!(out->id = rip_agent_release_arg(req, err)) ||
	    !(out->previous = rip_agent_req_str(req, "previous", err)) ||
	    !(out->target = rip_agent_req_str(req, "target", err)) ||
	    !(out->command = rip_agent_req_str(req, "command", err)))
		return RIP_EUSAGE;
	if ((rc = rip_agent_member(&t, req, "timeout_ms", rip_agent_is_int,
			"an integer", err)) < 0)
		return rc;
	if (!t || json_integer_value(t) < 0)
		return rip_err_set(err, RIP_EUSAGE, "'activate' needs an integer "
			"'timeout_ms' of 0 or more");
	if (!out->command[0])
		return rip_err_set(err, RIP_EUSAGE, "'activate' needs a command");
	out->timeout_ms = (uint64_t)json_integer_value(t);
	return 0;
}

/* Whether path has a ".." component. */
static bool has_dotdot(const char *path)
{
	const char *p = path;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		while (*p == '/')
			p++;
	}
	return false;
}

#define INSIDE "with agent.ini roots, activate must be a path inside the " \
	"release"

/*
 * The program activate runs (*out, allocated): command taken from the
 * release folder dir. With agent.ini roots, it must be relative, without
 * "..", and resolve (links followed) to a file below dir resolved:
 * RIP_ESECURITY naming it otherwise. Without roots, anything goes, as in
 * a local deploy.
 */
static int activate_command(char **out, const struct op_ctx *c,
	const char *id, const char *dir, const char *command,
	struct rip_err *err)
{
	char real[PATH_MAX], rdir[PATH_MAX];
	int rc = 0;

	*out = rip_path_join(dir, command);
	if (!c->a->conf.roots.n)
		return 0;
	if (command[0] == '/')
		rc = rip_err_set(err, RIP_ESECURITY, "activate command '%s' is "
			"an absolute path: " INSIDE, command);
	else if (has_dotdot(command))
		rc = rip_err_set(err, RIP_ESECURITY, "activate command '%s' has "
			"a '..' component: " INSIDE, command);
	else if (!realpath(dir, rdir))
		rc = rip_err_errno(err, RIP_EIO, "cannot resolve '%s'", dir);
	else if (!realpath(*out, real))
		rc = rip_err_errno(err, RIP_EFAIL, "cannot run hook '%s'", *out);
	else if (!below(real, rdir) || !strcmp(real, rdir))
		rc = rip_err_set(err, RIP_ESECURITY, "activate command '%s' "
			"resolves to '%s', outside release '%s': " INSIDE, command,
			real, id);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* rip_hook_run as deploy.c's run_hook runs a local target's hook, ended
 * (its whole group: SIGTERM, SIGKILL 2 s later) when the session ends
 * meanwhile; the result goes in fields even when the hook did not run to
 * an exit (but not when it was refused before it ran). */
static int do_activate(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	struct rip_hook_result hr = { 0 };
	struct activate_args a = { 0 };
	char *dir = NULL, *cmd = NULL;
	bool there;
	int rc;

	if ((rc = activate_args(&a, c->req, err)) < 0)
		return rc;
	if ((rc = rip_agent_release_dir(&dir, &there, c, a.id, err)) < 0)
		goto done;
	if (!there) {
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' is not "
			"extracted under '%s': extract it first", a.id, c->root);
	} else if ((rc = activate_command(&cmd, c, a.id, dir, a.command,
			err)) == 0) {
		const char *argv[] = { cmd, NULL };
		const struct rip_hook_env env[] = {
			{ "RIPCORD_TARGET", a.target },
			{ "RIPCORD_RELEASE", a.id },
			{ "RIPCORD_RELEASE_DIR", dir },
			{ "RIPCORD_PREVIOUS", a.previous },
			{ "RIPCORD_ROOT", c->root },
		};
		struct rip_agent_watch w;

		/* a session that ends (closed, ssh gone) ends its hook */
		rip_agent_watch_start(&w, c->a->r->fd, c->a->out);
		rc = rip_hook_run_stoppable(&hr, argv, dir, env,
			RIP_ARRAY_SIZE(env), a.timeout_ms, &w.gone, err);
		rip_agent_watch_stop(&w);
		*fields = json_pack("{s:i,s:i,s:b,s:f,s:o}", "exit_code",
			hr.exit_code, "signal", hr.signal, "timed_out",
			hr.timed_out, "seconds", hr.seconds, "output",
			text_of(hr.output.buf ? hr.output.buf : "",
				hr.output.len));
		rip_hook_result_release(&hr);
	}
done:
	free(cmd);
	free(dir);
	return rc;
}

/* Acts on a request about a root. */
static int on_root(json_t **fields, struct agent *a,
	const struct rip_agent_req *req,
	int (*fn)(json_t **, struct op_ctx *, struct rip_err *),
	struct rip_err *err)
{
	struct op_ctx c = { .a = a, .req = req };
	int rc;

	if (!(c.root = rip_agent_req_str(req, "root", err)))
		return RIP_EUSAGE;
	if ((rc = root_allowed(&c.exists, c.real, &a->conf, c.root, err)) < 0 ||
	    (c.exists && (rc = root_links(&c, err)) < 0))
		return rc;
	return fn(fields, &c, err);
}

static const struct {
	const char *op;
	int (*fn)(json_t **, struct op_ctx *, struct rip_err *);
} root_ops[] = {
	{ "inspect", do_inspect },
	{ "prepare", do_prepare },
	{ "has", rip_agent_do_has },
	{ "put", rip_agent_do_put },
	{ "extract", rip_agent_do_extract },
	{ "switch", do_switch },
	{ "activate", do_activate },
	{ "remove", do_remove },
	{ "clean", rip_agent_do_clean },
};

/*
 * A put's framing, before anything else about it: its size says how many
 * bytes follow the line. A bad one ends the session; a good one is read
 * and dropped when the request is refused for any other reason.
 */
static int put_frame(uint64_t *n, struct agent *a,
	const struct rip_agent_req *req, struct rip_err *err)
{
	json_t *s = json_object_get(req->doc, "size");

	if (!json_is_integer(s) || json_integer_value(s) <= 0 ||
	    json_integer_value(s) > MAX_PUT) {
		rip_err_set(err, RIP_EUSAGE, "'put' needs an integer 'size' of 1 "
			"to %lld bytes: what follows cannot be told from requests, "
			"so the session ends", (long long)MAX_PUT);
		rip_agent_stop(a, false, RIP_EUSAGE, err);
		return RIP_EUSAGE;
	}
	*n = (uint64_t)json_integer_value(s);
	return 0;
}

static json_t *hello_fields(void)
{
	json_t *f = rip_agent_hello_fields();
	char host[256] = "";
	struct timespec ts;

	gethostname(host, sizeof(host) - 1);
	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(f, "hostname", json_string(host));
	json_object_set_new(f, "time", json_real((double)ts.tv_sec +
		(double)ts.tv_nsec / 1e9));
	return f;
}

/* Answers one parsed request; fields become the answer's members (an
 * error answer's too). */
static int handle(json_t **fields, struct agent *a,
	const struct rip_agent_req *req, struct rip_err *err)
{
	const char *op = req->op;
	bool put = !strcmp(op, "put");
	uint64_t n = 0;
	int rc = put ? put_frame(&n, a, req, err) : 0;

	*fields = NULL;
	a->body_read = false;
	if (rc < 0)
		return rc;
	if (!strcmp(op, "hello")) {
		if ((rc = rip_agent_hello_check(req, err)) < 0) {
			*fields = rip_agent_hello_fields();
			return rc;
		}
		a->hello = true;
		*fields = hello_fields();
		return 0;
	}
	if (!a->hello) {
		rc = rip_err_set(err, RIP_EUSAGE, "request '%s' before the "
			"handshake: send 'hello' first", op);
	} else if (!strcmp(op, "bye")) {
		a->bye = true;
		return 0;
	} else {
		rc = rip_err_set(err, RIP_EUSAGE, "unknown op '%s' (known: "
			"hello, inspect, prepare, has, put, extract, switch, "
			"activate, remove, clean, bye)", op);
		for (size_t i = 0; i < RIP_ARRAY_SIZE(root_ops); i++)
			if (!strcmp(op, root_ops[i].op)) {
				rip_err_clear(err);
				rc = on_root(fields, a, req, root_ops[i].fn, err);
				break;
			}
	}
	/* a put refused before its bytes were read: they still come */
	if (put && !a->stop && !a->body_read)
		rip_agent_put_drop(a, n);
	return rc;
}

/* The answer to one line of input (rc: what reading it gave); NULL when
 * the session ended without one. */
static char *answer_line(struct agent *a, const struct rip_buf *line,
	int rc, struct rip_err *err)
{
	struct rip_agent_req req = { 0 };
	json_t *fields = NULL;
	char *ans;

	if (rc >= 0)
		rc = rip_agent_parse(&req, line->buf, line->len, err);
	if (rc >= 0)
		rc = handle(&fields, a, &req, err);
	if (a->silent) {
		json_decref(fields);
		ans = NULL;
	} else if (rc < 0) {
		rip_debug("agent: %s", err->msg);
		ans = rip_agent_answer_err_with(req.has_id, req.id, rc, err->msg,
			fields);
	} else {
		ans = rip_agent_answer_ok(true, req.id, fields);
	}
	rip_agent_req_release(&req);
	return ans;
}

static const char *ini_path(const struct rip_agent_opts *o)
{
	const char *env = getenv("RIPCORD_AGENT_INI");

	if (o && o->ini_path)
		return o->ini_path;
	return env && env[0] ? env : RIP_AGENT_INI;
}

int rip_agent_serve(int in, int out, const struct rip_agent_opts *o,
	struct rip_err *err)
{
	struct rip_agent_reader *r = rip_xcalloc(1, sizeof(*r));
	struct rip_buf line = RIP_BUF_INIT;
	struct agent a = { 0 };
	int rc;

	r->fd = in;
	a.r = r;
	a.out = out;
	if ((rc = rip_agent_conf_load(&a.conf, ini_path(o), err)) < 0)
		goto done;
	while (!a.bye) {
		struct rip_err rerr = { 0 };
		char *ans;

		rc = rip_agent_read_line(&line, r, RIP_AGENT_MAX_LINE, &rerr);
		if (rc == 0 || rc == RIP_EIO) {
			if (rc < 0)
				*err = rerr;
			break;
		}
		ans = answer_line(&a, &line, rc, &rerr);
		rc = ans ? rip_write_all(out, ans, strlen(ans)) : 0;
		free(ans);
		if (rc < 0) {
			rc = rip_err_errno(err, RIP_EIO, "cannot write an answer");
			break;
		}
		if (a.stop) {
			*err = a.stop_err;
			rc = a.stop_rc;
			break;
		}
	}
done:
	rip_agent_conf_release(&a.conf);
	rip_buf_release(&line);
	free(r);
	return rc;
}
