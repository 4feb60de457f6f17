/* SPDX-License-Identifier: MIT */
/*
 * artifact.h: the .tar.zst container, written reproducibly and read
 * defensively (see ripcord-artifact(5)).
 *
 * This layer knows tar entries, not releases: what goes into MANIFEST and
 * SHA256SUMS is decided by cut.c, and what they must agree with by
 * verify.c.
 */
#ifndef RIPCORD_ARTIFACT_H
#define RIPCORD_ARTIFACT_H

#include "ripcord/buf.h"
#include "ripcord/digest.h"

/* Fixed so that the same input always compresses to the same bytes. */
#define RIP_ZSTD_LEVEL 3

struct rip_artifact_writer;

/*
 * Starts a pax tar, zstd-compressed, written to fd. Every entry gets mtime,
 * uid/gid 0 and no owner names; the output's SHA-256 is computed as it is
 * written.
 */
RIP_MUST_CHECK int rip_artifact_writer_open(struct rip_artifact_writer **out,
	int fd, int64_t mtime, struct rip_err *err);
RIP_MUST_CHECK int rip_artifact_add_dir(struct rip_artifact_writer *w,
	const char *path, struct rip_err *err);
RIP_MUST_CHECK int rip_artifact_add_file(struct rip_artifact_writer *w,
	const char *path, bool exec, const void *data, size_t len,
	struct rip_err *err);
RIP_MUST_CHECK int rip_artifact_add_link(struct rip_artifact_writer *w,
	const char *path, const char *target, struct rip_err *err);
/* Finishes the archive: digest and size of the compressed output. */
RIP_MUST_CHECK int rip_artifact_writer_close(struct rip_artifact_writer *w,
	unsigned char digest[RIP_SHA256_LEN], uint64_t *size,
	struct rip_err *err);
/* Frees the writer, finished or not. */
void rip_artifact_writer_free(struct rip_artifact_writer *w);

enum rip_artifact_kind {
	RIP_ART_DIR,
	RIP_ART_FILE,
	RIP_ART_LINK,
};

/* One entry as read back from an artifact. */
struct rip_artifact_entry {
	char *path;
	enum rip_artifact_kind kind;
	unsigned mode;            /* permission bits */
	uint64_t size;
	unsigned char digest[RIP_SHA256_LEN];   /* of a file's content */
	char *target;             /* of a link */
};

/* A file whose content was kept in memory while reading. */
struct rip_artifact_file {
	char *path;
	struct rip_buf data;
};

struct rip_artifact_contents {
	struct rip_artifact_entry *v;
	size_t n;
	size_t alloc;
	struct rip_artifact_file *files;   /* captured, in archive order */
	size_t nfiles;
	size_t files_alloc;
	struct rip_buf manifest;      /* ripcord/MANIFEST */
	struct rip_buf sums;          /* ripcord/SHA256SUMS */
	struct rip_buf links;         /* ripcord/LINKS */
	unsigned char file_digest[RIP_SHA256_LEN];  /* of the .tar.zst */
	uint64_t file_size;
};

/*
 * Reads the whole artifact at path in one streaming pass: the SHA-256 of
 * the file, every entry with the SHA-256 of its content, and the three
 * metadata files. Refuses (RIP_ESECURITY) anything a hostile archive could
 * use: absolute or ".." paths, entries outside payload/ and ripcord/,
 * devices, fifos, hard links, setuid/setgid bits, duplicate paths, and an
 * expansion ratio beyond reason. A broken archive is RIP_EINTEGRITY.
 */
RIP_MUST_CHECK int rip_artifact_read(struct rip_artifact_contents *out,
	const char *path, struct rip_err *err);

/*
 * The same, also keeping the content of every file whose path starts with
 * capture (e.g. "ripcord/migrations/") in out->files, within the same
 * bound as the metadata files.
 */
RIP_MUST_CHECK int rip_artifact_read_capture(
	struct rip_artifact_contents *out, const char *path,
	const char *capture, struct rip_err *err);

/*
 * What a reader hands each entry to as it streams past (a drill's scratch
 * extraction): begin() once the entry's header passed every refusal
 * above, then for a file block() with each block of its data, in order,
 * and end() with its size and digest. Nothing a sink is given is proven
 * yet: the artifact's lists come last, so only a caller that verified the
 * whole artifact afterwards may trust what the sink made of it. A sink
 * that returns a negative code stops the read with it.
 */
struct rip_artifact_sink {
	int (*begin)(void *data, const struct rip_artifact_entry *e,
		struct rip_err *err);
	int (*block)(void *data, const struct rip_artifact_entry *e,
		const void *buf, size_t len, struct rip_err *err);
	int (*end)(void *data, const struct rip_artifact_entry *e,
		struct rip_err *err);
	void *data;
};

/*
 * rip_artifact_read_capture of the artifact open at fd, read from where it
 * stands to its end (fd stays open), each entry also handed to sink when
 * it is not NULL.
 */
RIP_MUST_CHECK int rip_artifact_read_fd(struct rip_artifact_contents *out,
	int fd, const char *capture, const struct rip_artifact_sink *sink,
	struct rip_err *err);
void rip_artifact_contents_release(struct rip_artifact_contents *c);

/* Whether a path inside an artifact is safe: relative, no "." or "..". */
bool rip_artifact_path_safe(const char *path);

#endif
