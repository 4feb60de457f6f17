/* SPDX-License-Identifier: MIT */
/*
 * remote_ops.c: the operations of remote.h on a live session: inspect,
 * stage (prepare, has, put, extract; a cached copy found damaged sent
 * again once), switch, activate, remove, clean.
 * Each holds the session's mutex for its whole exchange, checks what it
 * sends (an absolute root, a valid release id) and what it gets (types,
 * ids), and keeps an agent's error code. put streams the artifact from
 * disk in chunks: never a whole artifact in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "ripcord/manifest.h"
#include "remote_int.h"
#include "banned.h"

/* ---- operations ---- */

static uint64_t simple_ms(const struct rip_remote *r)
{
	return rip_remote_simple_ms(r->fleet);
}

/* The wait for an answer of an op that may touch many files (prepare,
 * remove, clean): a slow disk is not a host that is down. */
static uint64_t long_ms(void)
{
	return EXTRACT_MS;
}


/* Checks a root and a release id before they are sent. */
static int args_ok(struct rip_remote *r, const char *root,
	const char *release, struct rip_err *err)
{
	if (!root || root[0] != '/')
		return rip_err_set(err, RIP_EUSAGE, "%s: root '%s' is not an "
			"absolute path", rip_remote_label(r), root ? root : "");
	if (release && !rip_release_id_valid(release))
		return rip_err_set(err, RIP_EUSAGE, "%s: bad release id '%s'",
			rip_remote_label(r), release);
	return 0;
}

/* Fills the inspect struct from an answer; RIP_EFAIL when malformed. */
static int inspect_fill(struct rip_root_state *out,
	struct rip_remote_root *extra, struct rip_remote *r, json_t *ans,
	struct rip_err *err)
{
	json_t *ex = json_object_get(ans, "exists");
	json_t *cur = json_object_get(ans, "current");
	json_t *rels = json_object_get(ans, "releases");
	json_t *fb = json_object_get(ans, "free_bytes");
	json_t *hr = json_object_get(ans, "has_releases");
	size_t i;
	json_t *v;

	/* an agent from before "exists" refused a missing root */
	if (!(json_is_boolean(ex) || !ex) || !json_is_array(rels) ||
	    !(json_is_null(cur) || json_is_string(cur)) || !json_is_integer(fb))
		return rip_remote_bad_answer(r, "inspect", "lacks exists, current, "
			"releases or free_bytes", ans, err);
	if (json_is_string(cur) &&
	    !rip_release_id_valid(json_string_value(cur)))
		return rip_remote_bad_answer(r, "inspect", "names a bad current release",
			ans, err);
	json_array_foreach(rels, i, v) {
		if (!json_is_string(v) || !rip_release_id_valid(
				json_string_value(v))) {
			rip_root_state_release(out);
			return rip_remote_bad_answer(r, "inspect", "lists a bad release id",
			ans, err);
		}
		rip_strlist_push(&out->extracted, json_string_value(v));
	}
	if (json_is_string(cur))
		out->current = rip_xstrdup(json_string_value(cur));
	/* protocol 1 does not say whether an empty releases/ exists */
	out->has_releases = json_is_boolean(hr) ? json_is_true(hr) :
		out->extracted.n > 0;
	if (extra) {
		extra->exists = !ex || json_is_true(ex);
		extra->free_bytes = json_integer_value(fb) > 0 ?
			(uint64_t)json_integer_value(fb) : 0;
	}
	return 0;
}

int rip_remote_inspect(struct rip_root_state *out,
	struct rip_remote_root *extra, struct rip_remote *r, const char *root,
	bool check, struct rip_err *err)
{
	json_t *ans = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (extra)
		memset(extra, 0, sizeof(*extra));
	if ((rc = args_ok(r, root, NULL, err)) < 0)
		return rc;
	pthread_mutex_lock(&r->mu);
	rc = rip_remote_call(&ans, r, json_pack("{s:s,s:s,s:b}", "op",
		"inspect", "root", root, "check", check), simple_ms(r), err);
	if (rc == 0)
		rc = inspect_fill(out, extra, r, ans, err);
	pthread_mutex_unlock(&r->mu);
	json_decref(ans);
	return rc;
}

/* A simple request whose answer is only checked for ok. */
static int simple(json_t **ans, struct rip_remote *r, json_t *req,
	uint64_t wait_ms, struct rip_err *err)
{
	int rc;

	pthread_mutex_lock(&r->mu);
	rc = rip_remote_call(ans, r, req, wait_ms, err);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int rip_remote_switch(bool *synced, struct rip_remote *r, const char *root,
	const char *release, struct rip_err *err)
{
	json_t *ans = NULL, *s;
	const char *cur;
	int rc;

	if (synced)
		*synced = true;
	if ((rc = args_ok(r, root, release, err)) < 0)
		return rc;
	rc = simple(&ans, r, json_pack("{s:s,s:s,s:s}", "op", "switch",
		"root", root, "release", release), simple_ms(r), err);
	cur = json_string_value(json_object_get(ans, "current"));
	if (rc == 0 && (!cur || strcmp(cur, release)))
		rc = rip_remote_bad_answer(r, "switch", "does not name the release", ans, err);
	/* an agent from before "synced" made every switch durable or failed */
	s = json_object_get(ans, "synced");
	if (rc == 0 && synced && json_is_false(s))
		*synced = false;
	json_decref(ans);
	return rc;
}

int rip_remote_remove(bool *removed, struct rip_remote *r,
	const char *root, const char *release, struct rip_err *err)
{
	json_t *ans = NULL;
	int rc;

	*removed = false;
	if ((rc = args_ok(r, root, release, err)) < 0)
		return rc;
	rc = simple(&ans, r, json_pack("{s:s,s:s,s:s}", "op", "remove",
		"root", root, "release", release), long_ms(), err);
	if (rc == 0 && !json_is_boolean(json_object_get(ans, "removed")))
		rc = rip_remote_bad_answer(r, "remove", "lacks 'removed'", ans, err);
	if (rc == 0)
		*removed = json_is_true(json_object_get(ans, "removed"));
	json_decref(ans);
	return rc;
}

int rip_remote_clean(size_t *removed, struct rip_remote *r,
	const char *root, const char *const *keep, size_t nkeep,
	struct rip_err *err)
{
	json_t *ans = NULL, *k = json_array(), *n;
	int rc;

	*removed = 0;
	if ((rc = args_ok(r, root, NULL, err)) < 0) {
		json_decref(k);
		return rc;
	}
	for (size_t i = 0; i < nkeep; i++)
		json_array_append_new(k, json_string(keep[i]));
	rc = simple(&ans, r, json_pack("{s:s,s:s,s:o}", "op", "clean", "root",
		root, "keep", k), long_ms(), err);
	n = json_object_get(ans, "removed");
	if (rc == 0 && !(json_is_integer(n) && json_integer_value(n) >= 0))
		rc = rip_remote_bad_answer(r, "clean", "lacks 'removed'", ans, err);
	if (rc == 0)
		*removed = (size_t)json_integer_value(n);
	json_decref(ans);
	return rc;
}

/* Copies what an activate answer says of the hook into out. */
static void hook_fill(struct rip_hook_result *out, const json_t *ans)
{
	json_t *v;

	if (json_is_integer(v = json_object_get(ans, "exit_code")))
		out->exit_code = (int)json_integer_value(v);
	if (json_is_integer(v = json_object_get(ans, "signal")))
		out->signal = (int)json_integer_value(v);
	out->timed_out = json_is_true(json_object_get(ans, "timed_out"));
	if (json_is_number(v = json_object_get(ans, "seconds")))
		out->seconds = json_number_value(v);
	if (json_is_string(v = json_object_get(ans, "output"))) {
		rip_buf_add(&out->output, json_string_value(v),
			json_string_length(v));
		rip_remote_scrub(out->output.buf, out->output.len);
	}
}

/* The activate request of t's hook for release. */
static json_t *activate_req(const struct rip_target *t, const char *release,
	const char *previous)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "op", "activate",
		"root", t->root, "release", release, "previous", previous ?
		previous : "", "target", t->name, "command", t->activate,
		"timeout_ms", (json_int_t)t->hook_timeout_ms);
}

/* The hook of an activate given up on: the session is ended, which ends
 * the hook on the host (its agent sees the session close). */
static int activate_stopped(struct rip_hook_result *out, struct rip_remote *r,
	const struct rip_target *t, int64_t t0, struct rip_err *err)
{
	out->stopped = true;
	out->seconds = (double)(rip_remote_now_ms() - t0) / 1000;
	rip_remote_abandon(r);
	return rip_err_set(err, RIP_EINTR, "%s: activate hook '%s' was stopped "
		"after %.1f s: the session was ended, so the agent there ends the "
		"hook's process group", rip_remote_label(r), t->activate,
		out->seconds);
}

int rip_remote_activate_stoppable(struct rip_hook_result *out,
	struct rip_remote *r, const struct rip_target *t, const char *release,
	const char *previous, const atomic_bool *stop, struct rip_err *err)
{
	int64_t t0 = rip_remote_now_ms();
	json_t *ans = NULL;
	json_int_t id;
	uint64_t wait;
	int rc;

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	rip_buf_init(&out->output, 0);
	if ((rc = args_ok(r, t->root, release, err)) < 0)
		return rc;
	if (!t->activate)
		return rip_err_set(err, RIP_EUSAGE, "target '%s' has no activate "
			"hook", t->name);
	/* no hook timeout: only the keep-alives bound the wait */
	wait = t->hook_timeout_ms ? t->hook_timeout_ms + 3 *
		r->fleet->connect_ms : 0;
	pthread_mutex_lock(&r->mu);
	if (stop && atomic_load(stop))
		rc = rip_err_set(err, RIP_EINTR, "%s: activate hook not run: "
			"asked to stop", rip_remote_label(r));
	else if ((rc = rip_remote_alive(r, err)) == 0 &&
		 (rc = rip_remote_send(&id, r, activate_req(t, release,
			previous), simple_ms(r), err)) == 0 &&
		 (rc = rip_remote_recv_stoppable(&ans, r, id, wait, stop,
			err)) == RIP_EINTR && !ans)
		/* only a stop ends the wait so: an answer came with an error */
		rc = activate_stopped(out, r, t, t0, err);
	pthread_mutex_unlock(&r->mu);
	if (ans)
		hook_fill(out, ans);
	json_decref(ans);
	return rc;
}

int rip_remote_activate(struct rip_hook_result *out, struct rip_remote *r,
	const struct rip_target *t, const char *release, const char *previous,
	struct rip_err *err)
{
	return rip_remote_activate_stoppable(out, r, t, release, previous,
		NULL, err);
}

/* ---- staging ---- */

/* Copies the remembered digest of path (as st says it is) to hex;
 * whether there was one. */
static bool memo_find(char hex[RIP_SHA256_HEX], struct rip_fleet *f,
	const char *path, const struct stat *st)
{
	bool found = false;

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->nmemo && !found; i++) {
		struct rip_remote_memo *m = &f->memo[i];

		if (!strcmp(m->path, path) && m->dev == st->st_dev &&
		    m->ino == st->st_ino && m->size == st->st_size &&
		    m->mtime.tv_sec == st->st_mtim.tv_sec &&
		    m->mtime.tv_nsec == st->st_mtim.tv_nsec) {
			memcpy(hex, m->hex, RIP_SHA256_HEX);
			found = true;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return found;
}

/* The SHA-256 of the artifact at path (open as fd), hex; hashed once
 * per fleet while the file is unchanged: the first thread hashes under
 * hash_mu, the others wait for it and take its digest. */
static int file_digest(char hex[RIP_SHA256_HEX], struct rip_fleet *f,
	const char *path, int fd, const struct stat *st, struct rip_err *err)
{
	unsigned char h[RIP_SHA256_LEN];
	int rc = 0;

	if (memo_find(hex, f, path, st))
		return 0;
	pthread_mutex_lock(&f->hash_mu);
	if (memo_find(hex, f, path, st))
		goto done;
	if ((rc = rip_sha256_fd(h, fd, path, err)) < 0)
		goto done;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		rc = rip_err_errno(err, RIP_EIO, "cannot rewind '%s'", path);
		goto done;
	}
	rip_hex(hex, h, RIP_SHA256_LEN);
	pthread_mutex_lock(&f->mu);
	f->hashes++;
	RIP_ALLOC_GROW(f->memo, f->nmemo + 1, f->amemo);
	f->memo[f->nmemo++] = (struct rip_remote_memo){ rip_xstrdup(path),
		st->st_dev, st->st_ino, st->st_size, st->st_mtim, { 0 } };
	memcpy(f->memo[f->nmemo - 1].hex, hex, RIP_SHA256_HEX);
	pthread_mutex_unlock(&f->mu);
done:
	pthread_mutex_unlock(&f->hash_mu);
	return rc;
}

/* The put request of the artifact: size, digest and the .sig's text. */
static int put_req(json_t **out, const char *root, const char *release,
	const char *hex, uint64_t size, const char *path, struct rip_err *err)
{
	struct rip_buf sig = RIP_BUF_INIT;
	char *sig_path = rip_xasprintf("%s.sig", path);
	int rc = rip_read_file(&sig, sig_path, MAX_SIG, err);
	json_t *req = json_pack("{s:s,s:s,s:s,s:s,s:I}", "op", "put", "root",
		root, "release", release, "digest", hex, "size",
		(json_int_t)size);

	if (rc == RIP_ENOTFOUND) {
		rip_err_clear(err);
		rc = 0;
	} else if (rc == 0 && (!req || json_object_set_new(req, "sig",
			json_stringn(sig.buf, sig.len)) < 0)) {
		rc = rip_err_set(err, RIP_ESECURITY, "signature '%s' is not "
			"text", sig_path);
	}
	free(sig_path);
	rip_buf_release(&sig);
	if (rc < 0) {
		json_decref(req);
		return rc;
	}
	*out = req;
	return 0;
}

int rip_remote_send_file(struct rip_remote *r, int fd, uint64_t size,
	const char *what, bool *short_read, struct rip_err *err)
{
	uint64_t stall = 3 * r->fleet->connect_ms;
	char *buf = rip_xmalloc(CHUNK);
	uint64_t sent = 0;
	int rc = 0;

	while (sent < size) {
		size_t want = size - sent < CHUNK ? (size_t)(size - sent) :
			CHUNK;
		ssize_t n = *short_read ? 0 : read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*short_read = true;
			memset(buf, 0, want);
			n = (ssize_t)want;
		}
		if ((rc = rip_remote_send_raw(r, buf, (size_t)n, stall, what,
				err)) < 0)
			break;
		sent += (uint64_t)n;
	}
	free(buf);
	return rc;
}

/* Sends the put request and the artifact (open as fd) to the host's
 * cache, not waiting for the answer (*id: read it with put_recv). */
static int put_send(json_int_t *id, bool *short_read, struct rip_remote *r,
	const char *root, const char *release, const char *hex, int fd,
	uint64_t size, const char *path, struct rip_err *err)
{
	json_t *req = NULL;
	char *what;
	int rc;

	if (size == 0 || size > MAX_PUT)
		return rip_err_set(err, RIP_EUSAGE, "artifact '%s' is %s: it "
			"cannot be sent", path, size ? "over 64 GiB" : "empty");
	if ((rc = put_req(&req, root, release, hex, size, path, err)) < 0)
		return rc;
	if ((rc = rip_remote_send(id, r, req, simple_ms(r), err)) < 0)
		return rc;
	what = rip_xasprintf("artifact '%s'", path);
	rc = rip_remote_send_file(r, fd, size, what, short_read, err);
	free(what);
	return rc;
}

/* Reads put's answer: *sent is size once the host says it stored all. */
static int put_recv(uint64_t *sent, struct rip_remote *r, json_int_t id,
	bool short_read, uint64_t size, const char *path, struct rip_err *err)
{
	json_t *ans = NULL, *b;
	int rc = rip_remote_recv(&ans, r, id, 3 * r->fleet->connect_ms +
		PUT_SETTLE_MS, err);

	b = json_object_get(ans, "bytes");
	if (short_read)
		rc = rip_err_set(err, RIP_EINTEGRITY, "%s: artifact '%s' shrank "
			"while it was sent: build it again", rip_remote_label(r), path);
	else if (rc == 0 && (!json_is_true(json_object_get(ans, "stored")) ||
		 !json_is_integer(b) ||
		 (uint64_t)json_integer_value(b) != size))
		rc = rip_remote_bad_answer(r, "put", "does not say all was stored",
			ans, err);
	if (rc == 0)
		*sent = size;
	json_decref(ans);
	return rc;
}

/*
 * Reads the answer to id, a request sent after one whose answer failed:
 * only to keep the session in step (an agent's error answer leaves it
 * open); what it says is dropped, the first error stands.
 */
static void drain(struct rip_remote *r, json_int_t id, uint64_t wait_ms)
{
	struct rip_err ignored = { 0 };
	json_t *ans = NULL;

	if (rip_remote_alive(r, &ignored) == 0)
		(void)rip_remote_recv(&ans, r, id, wait_ms, &ignored);
	json_decref(ans);
}

/*
 * put (when send) and extract, under r->mu, in one round trip: both
 * requests go before either answer is read (the agent answers in order,
 * and an extract after a failed put fails too). *damaged: the extract
 * failed because the host's cached copy was damaged (the agent removed
 * it; an agent from before "damaged" is taken at its code).
 */
static int put_extract(struct rip_remote_stage *out, bool *damaged,
	struct rip_remote *r, const char *root, const char *release,
	const char *hex, int fd, uint64_t size, const char *path, bool send,
	struct rip_err *err)
{
	json_t *ans = NULL, *d;
	json_int_t put, ex;
	bool short_read = false;
	int rc;

	*damaged = false;
	if (send && (rc = put_send(&put, &short_read, r, root, release, hex,
			fd, size, path, err)) < 0)
		return rc;
	if ((rc = rip_remote_send(&ex, r, json_pack("{s:s,s:s,s:s,s:s}",
			"op", "extract", "root", root, "release", release,
			"digest", hex), simple_ms(r), err)) < 0)
		return rc;
	if (send && (rc = put_recv(&out->sent, r, put, short_read, size, path,
			err)) < 0) {
		drain(r, ex, EXTRACT_MS);
		return rc;
	}
	rc = rip_remote_recv(&ans, r, ex, EXTRACT_MS, err);
	d = json_object_get(ans, "damaged");
	if (rc == RIP_EINTEGRITY)
		*damaged = d ? json_is_true(d) : true;
	else if (rc == 0 && !json_is_boolean(json_object_get(ans, "already")))
		rc = rip_remote_bad_answer(r, "extract", "lacks 'already'", ans, err);
	else if (rc == 0)
		out->extracted = !json_is_true(json_object_get(ans, "already"));
	json_decref(ans);
	return rc;
}

/*
 * prepare and has (one round trip), then put when missing and extract
 * (another), under r->mu. An extract from a cached copy found damaged
 * sends the artifact again, once, and extracts again.
 */
static int stage_locked(struct rip_remote_stage *out, struct rip_remote *r,
	const char *root, const char *release, const char *hex, int fd,
	uint64_t size, const char *path, struct rip_err *err)
{
	json_t *ans = NULL;
	json_int_t prep, has;
	bool damaged;
	int rc;

	if ((rc = rip_remote_alive(r, err)) < 0 ||
	    (rc = rip_remote_send(&prep, r, json_pack("{s:s,s:s}", "op",
		    "prepare", "root", root), simple_ms(r), err)) < 0 ||
	    (rc = rip_remote_send(&has, r, json_pack("{s:s,s:s,s:s,s:s}",
		    "op", "has", "root", root, "release", release, "digest",
		    hex), simple_ms(r), err)) < 0)
		goto done;
	if ((rc = rip_remote_recv(&ans, r, prep, long_ms(), err)) < 0) {
		drain(r, has, simple_ms(r));
		goto done;
	}
	json_decref(ans);
	if ((rc = rip_remote_recv(&ans, r, has, simple_ms(r), err)) < 0)
		goto done;
	if (!json_is_boolean(json_object_get(ans, "has"))) {
		rc = rip_remote_bad_answer(r, "has", "lacks 'has'", ans, err);
		goto done;
	}
	out->cached = json_is_true(json_object_get(ans, "has"));
	rc = put_extract(out, &damaged, r, root, release, hex, fd, size, path,
		!out->cached, err);
	if (rc != RIP_EINTEGRITY || !out->cached || !damaged)
		goto done;
	/* a copy this stage did not send: the host damaged it since */
	rip_warn("%s: its cached copy of %s was damaged: sent again",
		rip_remote_label(r), release);
	rip_err_clear(err);
	out->resent = true;
	if (lseek(fd, 0, SEEK_SET) < 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot rewind '%s'", path);
	else
		rc = put_extract(out, &damaged, r, root, release, hex, fd, size,
			path, true, err);
done:
	json_decref(ans);
	return rc;
}

int rip_remote_stage(struct rip_remote_stage *out, struct rip_remote *r,
	const char *root, const char *release, const char *artifact_path,
	struct rip_err *err)
{
	char hex[RIP_SHA256_HEX];
	struct stat st;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = args_ok(r, root, release, err)) < 0)
		return rc;
	fd = open(artifact_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND :
			RIP_EIO, "cannot open artifact '%s'", artifact_path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = rip_err_set(err, RIP_EIO, "artifact '%s' is not a file",
			artifact_path);
		goto done;
	}
	if ((rc = file_digest(hex, r->fleet, artifact_path, fd, &st,
			err)) < 0)
		goto done;
	pthread_mutex_lock(&r->mu);
	rc = stage_locked(out, r, root, release, hex, fd, (uint64_t)st.st_size,
		artifact_path, err);
	pthread_mutex_unlock(&r->mu);
done:
	close(fd);
	return rc;
}

