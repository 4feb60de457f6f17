/* SPDX-License-Identifier: MIT */
/*
 * archive_internal.h: what the two files that call libarchive (artifact.c
 * reads and writes, extract.c streams onto disk) must do the same way,
 * and the one table of libarchive's functions they call it through
 * (archive_lazy.c loads it on first use, lazy.h).
 */
#ifndef RIPCORD_ARCHIVE_INTERNAL_H
#define RIPCORD_ARCHIVE_INTERNAL_H

#include <locale.h>

#include <archive.h>
#include <archive_entry.h>

#include "lazy.h"

/* Uncompressed bytes allowed per compressed byte, above a floor. */
#define RIP_MAX_RATIO 500u
#define RIP_RATIO_FLOOR (64u << 20)

/*
 * Names in pax headers are UTF-8 and libarchive converts them through the
 * locale's charset: calls that handle names run between these two, under
 * a thread-local C.UTF-8, never touching the process's locale.
 */
locale_t rip_utf8_enter(void);
void rip_utf8_leave(locale_t old);

/* Every libarchive function artifact.c and extract.c call, and only
 * through rip_ar: the binary does not link libarchive. */
#define RIP_ARCHIVE_FUNCS(X) \
	X(archive_entry_clear) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_hardlink) \
	X(archive_entry_mode) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_pathname_utf8) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_gid) \
	X(archive_entry_set_mtime) \
	X(archive_entry_set_pathname) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_size) \
	X(archive_entry_set_symlink) \
	X(archive_entry_set_uid) \
	X(archive_entry_sparse_count) \
	X(archive_entry_symlink) \
	X(archive_entry_symlink_utf8) \
	X(archive_error_string) \
	X(archive_filter_code) \
	X(archive_filter_count) \
	X(archive_read_data_block) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open2) \
	X(archive_read_support_filter_zstd) \
	X(archive_read_support_format_tar) \
	X(archive_write_add_filter_zstd) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open2) \
	X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_filter_option) \
	X(archive_write_set_format_pax_restricted)

struct rip_archive_fns {
	RIP_ARCHIVE_FUNCS(RIP_LAZY_SLOT)
};

/* Filled by rip_archive_load; NULL pointers before it succeeded. */
extern struct rip_archive_fns rip_ar;

/*
 * Loads libarchive into rip_ar, once per process (thread-safe). Every
 * way into libarchive calls it first. Returns 0, or RIP_EIO naming the
 * library when it cannot be loaded.
 */
RIP_MUST_CHECK int rip_archive_load(struct rip_err *err);

#endif
