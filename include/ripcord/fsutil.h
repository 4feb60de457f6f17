/* SPDX-License-Identifier: MIT */
/*
 * fsutil.h: file-system helpers; the one atomic-write path.
 */
#ifndef RIPCORD_FSUTIL_H
#define RIPCORD_FSUTIL_H

#include <sys/types.h>

#include "ripcord/buf.h"
#include "ripcord/err.h"

/*
 * A file being written under a temporary name in the folder of its final
 * path. Commit makes it whole under the real name (fsync, rename, fsync of
 * the folder); abort removes it. Nobody ever sees a half file under path.
 */
struct rip_atomic {
	int fd;
	char *path;
	char *tmp;
};

RIP_MUST_CHECK int rip_atomic_open(struct rip_atomic *a, const char *path,
	mode_t mode, struct rip_err *err);
RIP_MUST_CHECK int rip_atomic_write(struct rip_atomic *a, const void *data,
	size_t len, struct rip_err *err);
/* With no_replace, an existing file at path is an RIP_EEXISTS error. */
RIP_MUST_CHECK int rip_atomic_commit(struct rip_atomic *a, bool no_replace,
	struct rip_err *err);
/* Removes the temporary file if still there; safe after commit. */
void rip_atomic_abort(struct rip_atomic *a);

/* Writes data to path atomically (the whole rip_atomic sequence). */
RIP_MUST_CHECK int rip_write_file_atomic(const char *path, const void *data,
	size_t len, mode_t mode, struct rip_err *err);

/* Reads a whole file into out (appending). Refuses files over max bytes. */
RIP_MUST_CHECK int rip_read_file(struct rip_buf *out, const char *path,
	size_t max, struct rip_err *err);

/* mkdir -p with mode for the folders it creates. */
RIP_MUST_CHECK int rip_mkdir_p(const char *path, mode_t mode,
	struct rip_err *err);

/* fsyncs a folder so a rename in it survives a crash. */
RIP_MUST_CHECK int rip_fsync_dir(const char *dir, struct rip_err *err);

/* Writes all of len bytes, retrying on EINTR and short writes. */
RIP_MUST_CHECK int rip_write_all(int fd, const void *data, size_t len);

bool rip_path_exists(const char *path);
bool rip_is_dir(const char *path);
/*
 * Removes path and, for a folder, everything below it, never following a
 * symlink (a link is removed, not what it points at), not even one
 * swapped in for a folder while the removal runs: each folder is entered
 * through the fd of its parent. Only the folder holding path is reached
 * by its path. 0, or -1 with errno set (a path that does not exist is 0).
 */
int rip_remove_tree(const char *path);
/* rip_remove_tree of name in the folder dirfd. */
int rip_remove_tree_at(int dirfd, const char *name);

/*
 * Opens folder name of dirfd into *out, never through a link: a link
 * there is RIP_ESECURITY, anything else that is not a folder RIP_EEXISTS,
 * nothing there RIP_ENOTFOUND; path names it in messages.
 */
RIP_MUST_CHECK int rip_open_dir_at(int *out, int dirfd, const char *name,
	const char *path, struct rip_err *err);

/*
 * Creates, in the folder dirfd, a fresh file (O_EXCL, never through a
 * link; returns its fd, read-write) or folder (returns 0) named name,
 * whose trailing "XXXXXX" is replaced with random characters, with mode.
 * -1 with errno set.
 */
int rip_mktemp_at(char *name, int dirfd, bool folder, mode_t mode);

/* Joins dir and name with one '/'; name absolute: returns a copy of name. */
char *rip_path_join(const char *dir, const char *name);
/* The folder part of path ("." when none); newly allocated. */
char *rip_path_dirname(const char *path);
/* Makes path absolute against the working directory; newly allocated. */
char *rip_path_absolute(const char *path);

#endif
