/* SPDX-License-Identifier: MIT */
/*
 * agent_cache.c: the agent's artifact cache, <root>/.ripcord/artifacts
 * (mode 0700 folders, made by the agent, never through a link, and
 * worked in through the fd of the folder opened, never by path, so a link
 * swapped in by someone who can write in the root leads nowhere): has, put
 * (the one request with a body), extract from it, and clean. An artifact
 * is named <id>@<sha256>.tar.zst, so a name is a claim that put checked
 * and extract checks again: its digest before a byte is parsed, then
 * every entry in the one read that unpacks it (rip_extract_verify_file).
 * A cached file whose digest no longer matches its name (damaged on the
 * host after put checked it) is removed when extract finds it so, and
 * the answer says "damaged": the client sends it again once.
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

/* <id>@<digest>.tar.zst, an artifact's name in the cache */
static char *cache_name(const char *id, const char *digest)
{
	return rip_xasprintf("%s@%s.tar.zst", id, digest);
}

/* <root>/.ripcord/artifacts/<id>@<digest>.tar.zst */
static char *cache_file(const char *root, const char *id, const char *digest)
{
	return rip_xasprintf("%s/.ripcord/artifacts/%s@%s.tar.zst", root, id,
		digest);
}

/* Folder name of dirfd (path in messages), opened without following a
 * link; with create, made (mode 0700) when missing. */
static int own_dir(int *out, int dirfd, const char *name, const char *path,
	bool create, struct rip_err *err)
{
	if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return rip_err_errno(err, RIP_EIO, "cannot create '%s'", path);
	return rip_open_dir_at(out, dirfd, name, path, err);
}

/*
 * Opens the artifact cache of root into *out: the root, then .ripcord and
 * artifacts below it, each never through a link; with create, made when
 * missing. Everything done in the cache is done relative to *out, so a
 * link swapped in meanwhile leads nowhere. RIP_ENOTFOUND when it is
 * missing (and not created).
 */
static int open_cache(int *out, const char *root, bool create,
	struct rip_err *err)
{
	char *top = rip_path_join(root, ".ripcord");
	char *dir = cache_dir(root);
	int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), tfd = -1;
	int rc;

	*out = -1;
	if (rfd < 0)
		rc = rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND : RIP_EIO,
			"cannot open '%s'", root);
	else if ((rc = own_dir(&tfd, rfd, ".ripcord", top, create, err)) == 0)
		rc = own_dir(out, tfd, "artifacts", dir, create, err);
	if (tfd >= 0)
		close(tfd);
	if (rfd >= 0)
		close(rfd);
	free(top);
	free(dir);
	return rc;
}

/* Whether the cache holds the artifact name, a file (never a link). */
static int cache_has(bool *has, const char *root, const char *name,
	struct rip_err *err)
{
	struct stat st;
	int fd, rc = open_cache(&fd, root, false, err);

	*has = false;
	if (rc == RIP_ENOTFOUND) {
		rip_err_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	*has = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		S_ISREG(st.st_mode);
	close(fd);
	return 0;
}

int rip_agent_do_has(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	const char *id = rip_agent_release_arg(c->req, err);
	const char *digest = id ? rip_agent_digest_arg(c->req, err) : NULL;
	char *name;
	bool has;
	int rc;

	if (!digest)
		return RIP_EUSAGE;
	name = cache_name(id, digest);
	if ((rc = cache_has(&has, c->root, name, err)) == 0)
		*fields = json_pack("{s:b}", "has", has);
	free(name);
	return rc;
}

/*
 * After an extract from the cached artifact name of root failed: when the
 * file's sha256 (vr) is not the one its name claims, it was damaged here
 * after put checked it; it is removed (ripcord's own file: a put sends it
 * again) and err says so, in a host's words. *damaged tells the client
 * whether sending it again can help.
 */
static void cache_damaged(bool *damaged, const struct rip_verify_result *vr,
	const char *root, const char *name, const char *id,
	const char *digest, struct rip_err *err)
{
	char *dir = cache_dir(root);
	struct stat st;
	bool gone = false;
	int fd;

	*damaged = vr->sha256[0] && strcmp(vr->sha256, digest);
	if (!*damaged)
		goto done;
	if (open_cache(&fd, root, false, NULL) == 0) {
		gone = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			S_ISREG(st.st_mode) && unlinkat(fd, name, 0) == 0;
		close(fd);
	}
	rip_err_set(err, RIP_EINTEGRITY, "the cached artifact of release '%s' "
		"('%s/%s') has sha256 %s, not %s as when it was stored: it was "
		"damaged on this host; %s", id, dir, name, vr->sha256, digest,
		gone ? "removed (stage it again to send it again)" :
		"and it could not be removed (remove it, then stage again)");
done:
	free(dir);
}

int rip_agent_do_extract(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	const char *id = rip_agent_release_arg(c->req, err);
	const char *digest = id ? rip_agent_digest_arg(c->req, err) : NULL;
	struct rip_verify_result vr = { 0 };
	struct rip_extract_result res = { 0 };
	char *file = NULL, *dir = NULL, *name = NULL;
	bool already, cached;
	int rc;

	if (!digest)
		return RIP_EUSAGE;
	if ((rc = rip_root_prepare(c->root, err)) < 0)
		return rc;
	file = cache_file(c->root, id, digest);
	name = cache_name(id, digest);
	/* a link there is refused, never taken for the release */
	if ((rc = rip_agent_release_dir(&dir, &already, c, id, err)) < 0)
		goto done;
	already = rip_path_exists(dir);
	if (already)
		goto answer;
	if ((rc = cache_has(&cached, c->root, name, err)) < 0)
		goto done;
	/* read by path, but its digest is checked before a byte counts */
	if (!cached) {
		rc = rip_err_set(err, RIP_ENOTFOUND, "no artifact of release "
			"'%s' with sha256 %s under '%s': send it first (put)", id,
			digest, c->root);
		goto done;
	}
	/* the cache's name is a claim: the one read checks the bytes (and
	 * that they are release id) before the release appears */
	if ((rc = rip_extract_verify_file(&vr, &res, file, digest, id, dir,
			err)) < 0) {
		bool damaged;

		cache_damaged(&damaged, &vr, c->root, name, id, digest, err);
		*fields = json_pack("{s:b}", "damaged", damaged);
		goto done;
	}
answer:
	*fields = json_pack("{s:I,s:I,s:b}", "files", (json_int_t)res.files,
		"bytes", (json_int_t)res.bytes, "already", already);
done:
	rip_verify_result_release(&vr);
	free(name);
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

/* Removes the stale artifacts and put temps of root's cache (files only:
 * a link or a folder of such a name is not ours). */
static int clean_cache(size_t *removed, const char *root,
	const struct rip_strlist *keep, struct rip_err *err)
{
	char *dir = cache_dir(root);
	DIR *d = NULL;
	struct dirent *e;
	int fd = -1, dfd, rc;

	if ((rc = open_cache(&fd, root, false, err)) == RIP_ENOTFOUND) {
		rip_err_clear(err);
		rc = 0;
		goto done;
	}
	if (rc < 0)
		goto done;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		rc = rip_err_errno(err, RIP_EIO, "cannot read '%s'", dir);
		if (dfd >= 0)
			close(dfd);
		goto done;
	}
	while (rc == 0 && (e = readdir(d))) {
		struct stat st;

		if ((strncmp(e->d_name, ".put-", 5) &&
		     !stale_artifact(e->d_name, keep)) ||
		    fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(fd, e->d_name, 0) == 0)
			(*removed)++;
		else if (errno != ENOENT)
			rc = rip_err_errno(err, RIP_EIO, "cannot remove '%s/%s'",
				dir, e->d_name);
	}
done:
	if (d)
		closedir(d);
	if (fd >= 0)
		close(fd);
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

/* The put's bytes, once they are received and checked, under final in
 * the cache cfd (dir: its path, for messages). */
static int put_store(const char *tmp, int *fd, int cfd, const char *final,
	const char *dir, struct rip_err *err)
{
	int rc = 0;

	if (fsync(*fd) < 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot write '%s/%s'", dir, tmp);
	if (close(*fd) < 0 && rc == 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot write '%s/%s'", dir, tmp);
	*fd = -1;
	if (rc == 0 && renameat(cfd, tmp, cfd, final) < 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot rename '%s/%s' to "
			"'%s/%s'", dir, tmp, dir, final);
	if (rc == 0 && fsync(cfd) < 0 && errno != EINVAL)
		rc = rip_err_errno(err, RIP_EIO, "cannot fsync folder '%s'", dir);
	return rc;
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

/* Receives a put's n bytes into the cache cfd of c->root, checked. */
static int put_receive(json_t **fields, struct op_ctx *c, int cfd,
	const char *id, const char *digest, const char *sig, uint64_t n,
	struct rip_err *err)
{
	struct rip_err werr = { 0 }, rerr = { 0 };
	struct rip_sha256 sha;
	unsigned char raw[RIP_SHA256_LEN];
	char hex[RIP_SHA256_HEX], tmp[] = ".put-XXXXXX";
	char *dir = cache_dir(c->root);
	char *final = cache_name(id, digest);
	char *shown;
	int fd = rip_mktemp_at(tmp, cfd, false, 0600);
	bool made = fd >= 0;
	int rc;

	shown = rip_xasprintf("%s/%s", dir, tmp);
	if (!made)
		rip_err_errno(&werr, RIP_EIO, "cannot create a file in '%s'", dir);
	rip_sha256_init(&sha);
	if ((rc = pump(c->a, n, &sha, fd, shown, &werr, &rerr)) < 0) {
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
		   (rc = put_store(tmp, &fd, cfd, final, dir, err)) == 0) {
		*fields = json_pack("{s:b,s:I}", "stored", true, "bytes",
			(json_int_t)n);
	}
done:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && made)
		unlinkat(cfd, tmp, 0);
	free(shown);
	free(final);
	free(dir);
	return rc;
}

/* put's members other than size, and the cache, made ready and opened
 * (*cfd). */
static int put_args(int *cfd, const char **id, const char **digest,
	const char **sig, struct op_ctx *c, struct rip_err *err)
{
	json_t *s;
	int rc;

	*cfd = -1;
	if (!(*id = rip_agent_release_arg(c->req, err)) ||
	    !(*digest = rip_agent_digest_arg(c->req, err)))
		return RIP_EUSAGE;
	if ((rc = rip_agent_member(&s, c->req, "sig", rip_agent_is_string,
			"a string", err)) < 0)
		return rc;
	*sig = s ? json_string_value(s) : NULL;
	if ((rc = rip_root_prepare(c->root, err)) < 0)
		return rc;
	return open_cache(cfd, c->root, true, err);
}

int rip_agent_do_put(json_t **fields, struct op_ctx *c, struct rip_err *err)
{
	const char *id, *digest, *sig;
	int cfd, rc = put_args(&cfd, &id, &digest, &sig, c, err);
	uint64_t n = (uint64_t)json_integer_value(json_object_get(c->req->doc,
		"size"));

	if (rc == 0)
		rc = put_receive(fields, c, cfd, id, digest, sig, n, err);
	if (cfd >= 0)
		close(cfd);
	return rc;
}

/* The bytes of a refused put, read and dropped. */
void rip_agent_put_drop(struct agent *a, uint64_t n)
{
	struct rip_err werr = { 0 }, rerr = { 0 };

	if (pump(a, n, NULL, -1, NULL, &werr, &rerr) < 0)
		rip_agent_stop(a, true, RIP_EIO, &rerr);
}
