/* SPDX-License-Identifier: MIT */
/*
 * agent_cache.c: the agent's artifact cache, <root>/.ripcord/artifacts
 * (mode 0700 folders, made by the agent, never through a link): has, put
 * (the one request with a body), extract from it, and clean. An artifact
 * is named <id>@<sha256>.tar.zst, so a name is a claim that put checked
 * and extract checks again: its digest before a byte is parsed, then
 * every entry in the one read that unpacks it (rip_extract_verify_file).
 *
 * Tuned for a big artifact on a small host: a put streams through one
 * 64 KiB buffer into .put-XXXXXX beside its final name, hashed on the
 * way, and reads exactly its size whatever goes wrong (a full disk, a bad
 * digest), so the session stays framed; only a checked file is renamed
 * into place (fsync, rename, fsync of the folder).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ripcord/digest.h"
#include "ripcord/extract.h"
#include "ripcord/fsutil.h"
#include "ripcord/manifest.h"
#include "ripcord/release.h"
#include "ripcord/sign.h"
#include "ripcord/target.h"
#include "agent_internal.h"
#include "banned.h"

/* <root>/.ripcord/artifacts */
static char *cache_dir(const char *root)
{
	return rip_xasprintf("%s/.ripcord/artifacts", root);
}

/* <root>/.ripcord/artifacts/<id>@<digest>.tar.zst */
static char *cache_file(const char *root, const char *id, const char *digest)
{
	return rip_xasprintf("%s/.ripcord/artifacts/%s@%s.tar.zst", root, id,
		digest);
}

/* path is a folder of ours, not a link that would lead out of the root;
 * with create, made (mode 0700) when missing. */
static int own_dir(const char *path, bool create, struct rip_err *err)
{
	struct stat st;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return rip_err_errno(err, RIP_EIO, "cannot create '%s'", path);
	if (lstat(path, &st) < 0)
		return rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND :
			RIP_EIO, "cannot read '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return rip_err_set(err, RIP_ESECURITY, "'%s' is not a folder (a "
			"link?): the agent writes only inside the root", path);
	return 0;
}

/* The artifact cache of root; with create, made when missing. */
static int open_cache(const char *root, bool create, struct rip_err *err)
{
	char *top = rip_path_join(root, ".ripcord");
	char *dir = cache_dir(root);
	int rc;

	if ((rc = own_dir(top, create, err)) == 0)
		rc = own_dir(dir, create, err);
	free(top);
	free(dir);
	return rc;
}

int rip_agent_do_has(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	const char *id = rip_agent_release_arg(c->req, err);
	const char *digest = id ? rip_agent_digest_arg(c->req, err) : NULL;
	struct stat st;
	char *path;

	if (!digest)
		return RIP_EUSAGE;
	path = cache_file(c->root, id, digest);
	*fields = json_pack("{s:b}", "has", lstat(path, &st) == 0 &&
		S_ISREG(st.st_mode));
	free(path);
	return 0;
}

int rip_agent_do_extract(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	const char *id = rip_agent_release_arg(c->req, err);
	const char *digest = id ? rip_agent_digest_arg(c->req, err) : NULL;
	struct rip_verify_result vr = { 0 };
	struct rip_extract_result res = { 0 };
	char *file = NULL, *dir = NULL;
	bool already;
	int rc;

	if (!digest)
		return RIP_EUSAGE;
	if ((rc = rip_root_prepare(c->root, err)) < 0)
		return rc;
	file = cache_file(c->root, id, digest);
	/* a link there is refused, never taken for the release */
	if ((rc = rip_agent_release_dir(&dir, &already, c, id, err)) < 0)
		goto done;
	already = rip_path_exists(dir);
	if (already)
		goto answer;
	if (!rip_path_exists(file)) {
		rc = rip_err_set(err, RIP_ENOTFOUND, "no artifact of release "
			"'%s' with sha256 %s under '%s': send it first (put)", id,
			digest, c->root);
		goto done;
	}
	/* the cache's name is a claim: the one read checks the bytes (and
	 * that they are release id) before the release appears */
	if ((rc = rip_extract_verify_file(&vr, &res, file, digest, id, dir,
			err)) < 0)
		goto done;
answer:
	*fields = json_pack("{s:I,s:I,s:b}", "files", (json_int_t)res.files,
		"bytes", (json_int_t)res.bytes, "already", already);
done:
	rip_verify_result_release(&vr);
	free(file);
	free(dir);
	return rc;
}

/* Whether name is "<id>@<64 hex>.tar.zst" with id not in keep. */
static bool stale_artifact(const char *name, const struct rip_strlist *keep)
{
	const char *at = strrchr(name, '@');
	char id[256];
	size_t n;

	if (!at || (size_t)(at - name) >= sizeof(id) || strlen(at + 1) !=
	    64 + strlen(".tar.zst") || strcmp(at + 65, ".tar.zst"))
		return false;
	n = (size_t)(at - name);
	memcpy(id, name, n);
	id[n] = '\0';
	return rip_release_id_valid(id) && !rip_strlist_has(keep, id);
}

/* Removes the stale artifacts and put temps of root's cache. */
static int clean_cache(size_t *removed, const char *root,
	const struct rip_strlist *keep, struct rip_err *err)
{
	char *dir = cache_dir(root);
	DIR *d = NULL;
	struct dirent *e;
	int rc;

	if ((rc = open_cache(root, false, err)) == RIP_ENOTFOUND) {
		rip_err_clear(err);
		rc = 0;
		goto done;
	}
	if (rc < 0)
		goto done;
	if (!(d = opendir(dir))) {
		rc = rip_err_errno(err, RIP_EIO, "cannot read '%s'", dir);
		goto done;
	}
	while (rc == 0 && (e = readdir(d))) {
		char *path;

		if (strncmp(e->d_name, ".put-", 5) &&
		    !stale_artifact(e->d_name, keep))
			continue;
		path = rip_path_join(dir, e->d_name);
		if (unlink(path) == 0)
			(*removed)++;
		else if (errno != ENOENT)
			rc = rip_err_errno(err, RIP_EIO, "cannot remove '%s'", path);
		free(path);
	}
done:
	if (d)
		closedir(d);
	free(dir);
	return rc;
}

int rip_agent_do_clean(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	struct rip_strlist keep = { 0 };
	size_t removed = 0, temps = 0;
	json_t *k, *v;
	size_t i;
	int rc;

	if ((rc = rip_agent_member(&k, c->req, "keep", rip_agent_is_array,
			"an array", err)) < 0)
		return rc;
	json_array_foreach(k, i, v) {
		if (!json_is_string(v) ||
		    !rip_release_id_valid(json_string_value(v))) {
			rc = rip_err_set(err, RIP_EUSAGE, "'clean': 'keep' holds "
				"something that is not a release id");
			goto done;
		}
		rip_strlist_push(&keep, json_string_value(v));
	}
	if (!c->exists)
		goto answer;
	if ((rc = clean_cache(&removed, c->root, &keep, err)) < 0 ||
	    (rc = rip_root_clean_temps(&temps, c->root, err)) < 0)
		goto done;
answer:
	*fields = json_pack("{s:I}", "removed", (json_int_t)removed + (json_int_t)temps);
done:
	rip_strlist_release(&keep);
	return rc;
}

/*
 * Reads the n bytes of a put through the reader, hashing them into sha
 * (when not NULL) and writing them to fd (when >= 0). A write that fails
 * is recorded in werr (path names the file) and the rest is still read.
 * Returns 0 when all n came, RIP_EIO when the input ended or failed first.
 */
static int pump(struct agent *a, uint64_t n, struct rip_sha256 *sha, int fd,
	const char *path, struct rip_err *werr, struct rip_err *err)
{
	char *buf = rip_xmalloc(PUT_CHUNK);
	uint64_t left = n;
	int rc = 0;

	a->body_read = true;
	while (left) {
		ssize_t got = rip_agent_read_raw(buf, a->r, left < PUT_CHUNK ?
			(size_t)left : PUT_CHUNK, err);

		if (got <= 0) {
			if (got == 0)
				rip_err_set(err, RIP_EIO, "input ended %llu bytes "
					"into a put of %llu",
					(unsigned long long)(n - left),
					(unsigned long long)n);
			rc = RIP_EIO;
			break;
		}
		left -= (uint64_t)got;
		if (sha)
			rip_sha256_update(sha, buf, (size_t)got);
		if (fd >= 0 && !werr->code &&
		    rip_write_all(fd, buf, (size_t)got) < 0)
			rip_err_errno(werr, RIP_EIO, "cannot write '%s'", path);
	}
	free(buf);
	return rc;
}

/* The put's bytes, once they are received and checked, under final. */
static int put_store(const char *tmp, int *fd, const char *final,
	const char *dir, struct rip_err *err)
{
	int rc = 0;

	if (fsync(*fd) < 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot write '%s'", tmp);
	if (close(*fd) < 0 && rc == 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot write '%s'", tmp);
	*fd = -1;
	if (rc == 0 && rename(tmp, final) < 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot rename '%s' to '%s'",
			tmp, final);
	return rc ? rc : rip_fsync_dir(dir, err);
}

/* The received digest hex against the announced one, then the signature. */
static int put_check(struct agent *a, const char *id, const char *digest,
	const char *hex, const unsigned char raw[RIP_SHA256_LEN],
	const char *sig, struct rip_err *err)
{
	if (strcmp(hex, digest))
		return rip_err_set(err, RIP_EINTEGRITY, "the artifact of release "
			"'%s' arrived with sha256 %s, not %s as announced: "
			"refused (send it again)", id, hex, digest);
	if (!a->conf.verify_key)
		return 0;
	if (!sig)
		return rip_err_set(err, RIP_ESECURITY, "the artifact of release "
			"'%s' is not signed, and this host's agent.ini pins "
			"verify_key '%s': refused (sign it: [package] signing_key)",
			id, a->conf.verify_key);
	if (rip_sign_verify(a->conf.verify_key, raw, sig, strlen(sig), err) < 0)
		return rip_err_prefix(err, "the artifact of release '%s' (checked "
			"with verify_key '%s')", id, a->conf.verify_key);
	return 0;
}

/* Receives a put's n bytes into the cache of c->root, checked. */
static int put_receive(json_t **fields, struct op_ctx *c, const char *id,
	const char *digest, const char *sig, uint64_t n, struct rip_err *err)
{
	struct rip_err werr = { 0 }, rerr = { 0 };
	struct rip_sha256 sha;
	unsigned char raw[RIP_SHA256_LEN];
	char hex[RIP_SHA256_HEX];
	char *dir = cache_dir(c->root);
	char *tmp = rip_xasprintf("%s/.put-XXXXXX", dir);
	char *final = cache_file(c->root, id, digest);
	int fd = mkostemp(tmp, O_CLOEXEC);
	bool made = fd >= 0;
	int rc;

	if (!made)
		rip_err_errno(&werr, RIP_EIO, "cannot create a file in '%s'", dir);
	rip_sha256_init(&sha);
	if ((rc = pump(c->a, n, &sha, fd, tmp, &werr, &rerr)) < 0) {
		rip_sha256_release(&sha);
		rip_agent_stop(c->a, true, rc, &rerr);
		*err = rerr;
		goto done;
	}
	rip_sha256_final(raw, &sha);
	rip_hex(hex, raw, RIP_SHA256_LEN);
	if (werr.code) {
		*err = werr;
		rc = werr.code;
	} else if ((rc = put_check(c->a, id, digest, hex, raw, sig, err)) == 0 &&
		   (rc = put_store(tmp, &fd, final, dir, err)) == 0) {
		*fields = json_pack("{s:b,s:I}", "stored", true, "bytes",
			(json_int_t)n);
	}
done:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && made)
		unlink(tmp);
	free(final);
	free(tmp);
	free(dir);
	return rc;
}

/* put's members other than size, and the cache, made ready. */
static int put_args(const char **id, const char **digest, const char **sig,
	struct op_ctx *c, struct rip_err *err)
{
	json_t *s;
	int rc;

	if (!(*id = rip_agent_release_arg(c->req, err)) ||
	    !(*digest = rip_agent_digest_arg(c->req, err)))
		return RIP_EUSAGE;
	if ((rc = rip_agent_member(&s, c->req, "sig", rip_agent_is_string,
			"a string", err)) < 0)
		return rc;
	*sig = s ? json_string_value(s) : NULL;
	if ((rc = rip_root_prepare(c->root, err)) < 0)
		return rc;
	return open_cache(c->root, true, err);
}

int rip_agent_do_put(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	const char *id, *digest, *sig;
	int rc = put_args(&id, &digest, &sig, c, err);
	uint64_t n = (uint64_t)json_integer_value(json_object_get(c->req->doc,
		"size"));

	if (rc == 0)
		return put_receive(fields, c, id, digest, sig, n, err);
	return rc;
}

/* The bytes of a refused put, read and dropped. */
void rip_agent_put_drop(struct agent *a, uint64_t n)
{
	struct rip_err werr = { 0 }, rerr = { 0 };

	if (pump(a, n, NULL, -1, NULL, &werr, &rerr) < 0)
		rip_agent_stop(a, true, RIP_EIO, &rerr);
}
