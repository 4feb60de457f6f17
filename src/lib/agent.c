/* SPDX-License-Identifier: MIT */
/*
 * agent.c: the serving loop of `ripcord agent` and its agent.ini. The
 * agent acts only through target.c, on a root the request names, after
 * the handshake, and (when agent.ini lists roots) only below a listed
 * root, compared after realpath(3) so that links and ".." cannot lead
 * out. A bad request costs one error answer, never the session: the
 * client may be a newer ripcord, or a confused one.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "ripcord/agent.h"
#include "ripcord/fsutil.h"
#include "ripcord/ini.h"
#include "ripcord/log.h"
#include "ripcord/manifest.h"
#include "ripcord/target.h"
#include "agent_proto.h"
#include "banned.h"

#define MAX_INI_FILE ((size_t)1 << 20)
#define MAX_INI_LINE 4096

struct ini_parse {
	struct rip_agent_conf *conf;
	const char *name;
};

static int ini_key(void *user, const char *section, const char *name,
	const char *value, int line, struct rip_err *err)
{
	struct ini_parse *p = user;
	struct rip_strlist roots = { 0 };

	if (strcmp(section, "agent"))
		return rip_err_set(err, RIP_ECONFIG, "%s:%d: unknown section "
			"'%s' (agent.ini has only [agent])", p->name, line, section);
	if (strcmp(name, "roots"))
		return rip_err_set(err, RIP_ECONFIG, "%s:%d: unknown key '%s' in "
			"[agent] (known: roots)", p->name, line, name);
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
}

/* Whether real is dir or below it (both resolved). */
static bool below(const char *real, const char *dir)
{
	size_t l = strlen(dir);

	if (l == 1 && dir[0] == '/')
		return true;
	return !strncmp(real, dir, l) && (real[l] == '\0' || real[l] == '/');
}

int rip_agent_root_allowed(const struct rip_agent_conf *c,
	const char *root, struct rip_err *err)
{
	char real[PATH_MAX], listed[PATH_MAX];

	if (root[0] != '/')
		return rip_err_set(err, RIP_EUSAGE, "root '%s' is not an "
			"absolute path", root);
	if (!realpath(root, real))
		return rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND :
			RIP_EIO, "root '%s'", root);
	if (!c->roots.n)
		return 0;
	for (size_t i = 0; i < c->roots.n; i++)
		if (realpath(c->roots.v[i], listed) && below(real, listed))
			return 0;
	return rip_err_set(err, RIP_ESECURITY, "root '%s' is not allowed "
		"here: agent.ini's roots do not list it or a folder above it",
		root);
}

struct agent {
	struct rip_agent_conf conf;
	bool hello;
	bool bye;
};

static int do_inspect(json_t **fields, const char *root, struct rip_err *err)
{
	struct rip_root_state st = { 0 };
	struct statvfs vfs;
	json_t *rels;
	int rc;

	if ((rc = rip_root_inspect(&st, root, err)) < 0)
		return rc;
	if (statvfs(root, &vfs) < 0) {
		rip_root_state_release(&st);
		return rip_err_errno(err, RIP_EIO, "cannot read the free space "
			"of '%s'", root);
	}
	rels = json_array();
	for (size_t i = 0; i < st.extracted.n; i++)
		json_array_append_new(rels, json_string(st.extracted.v[i]));
	*fields = json_pack("{s:s,s:o,s:o,s:I}", "root", root,
		"current", st.current ? json_string(st.current) : json_null(),
		"releases", rels,
		"free_bytes", (json_int_t)((unsigned long long)vfs.f_bavail *
			vfs.f_frsize));
	rip_root_state_release(&st);
	return 0;
}

/* The release of a switch or remove: a valid id. */
static const char *release_arg(const struct rip_agent_req *req,
	struct rip_err *err)
{
	const char *id = rip_agent_req_str(req, "release", err);

	if (id && !rip_release_id_valid(id)) {
		rip_err_set(err, RIP_EUSAGE, "bad release id '%s'", id);
		return NULL;
	}
	return id;
}

static int do_switch(json_t **fields, const struct rip_agent_req *req,
	const char *root, struct rip_err *err)
{
	const char *id = release_arg(req, err);
	char *dir;
	int rc;

	if (!id)
		return RIP_EUSAGE;
	dir = rip_root_release_dir(root, id);
	if (!rip_is_dir(dir))
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' is not "
			"extracted under '%s': extract it first", id, root);
	else
		rc = rip_root_switch(root, id, err);
	free(dir);
	if (rc == 0)
		*fields = json_pack("{s:s}", "current", id);
	return rc;
}

static int do_remove(json_t **fields, const struct rip_agent_req *req,
	const char *root, struct rip_err *err)
{
	const char *id = release_arg(req, err);
	char *dir;
	bool was;
	int rc;

	if (!id)
		return RIP_EUSAGE;
	dir = rip_root_release_dir(root, id);
	was = rip_is_dir(dir);
	free(dir);
	if ((rc = rip_root_remove(root, id, err)) == 0)
		*fields = json_pack("{s:b}", "removed", was);
	return rc;
}

/* Acts on a request about a root: inspect, switch, remove. */
static int on_root(json_t **fields, struct agent *a,
	const struct rip_agent_req *req, struct rip_err *err)
{
	const char *root = rip_agent_req_str(req, "root", err);
	int rc;

	if (!root)
		return RIP_EUSAGE;
	if ((rc = rip_agent_root_allowed(&a->conf, root, err)) < 0)
		return rc;
	if (!strcmp(req->op, "inspect"))
		return do_inspect(fields, root, err);
	if (!strcmp(req->op, "switch"))
		return do_switch(fields, req, root, err);
	return do_remove(fields, req, root, err);
}

/* Answers one parsed request; fields become the answer's members. */
static int handle(json_t **fields, struct agent *a,
	const struct rip_agent_req *req, struct rip_err *err)
{
	const char *op = req->op;
	int rc;

	*fields = NULL;
	if (!strcmp(op, "hello")) {
		if ((rc = rip_agent_hello_check(req, err)) < 0)
			return rc;
		a->hello = true;
		*fields = rip_agent_hello_fields();
		return 0;
	}
	if (!a->hello)
		return rip_err_set(err, RIP_EUSAGE, "request '%s' before the "
			"handshake: send 'hello' first", op);
	if (!strcmp(op, "bye")) {
		a->bye = true;
		return 0;
	}
	if (!strcmp(op, "inspect") || !strcmp(op, "switch") ||
	    !strcmp(op, "remove"))
		return on_root(fields, a, req, err);
	return rip_err_set(err, RIP_EUSAGE, "unknown op '%s' (known: hello, "
		"inspect, switch, remove, bye)", op);
}

/* The answer to one line of input (rc: what reading it gave). */
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
	if (rc < 0) {
		rip_debug("agent: %s", err->msg);
		ans = rip_agent_answer_err(req.has_id, req.id, rc, err->msg);
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
		rc = rip_write_all(out, ans, strlen(ans));
		free(ans);
		if (rc < 0) {
			rc = rip_err_errno(err, RIP_EIO, "cannot write an answer");
			break;
		}
		rc = 0;
	}
done:
	rip_agent_conf_release(&a.conf);
	rip_buf_release(&line);
	free(r);
	return rc;
}
