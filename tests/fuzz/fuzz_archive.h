/* SPDX-License-Identifier: MIT */
/*
 * fuzz_archive.h: what the targets that read artifacts share: a fuzz input
 * wrapped in one zstd frame (so mutations reach the tar reader and
 * ripcord's entry checks, not zstd's frame checks), and a memfd to hand it
 * to code that reads a path (/proc/self/fd/N): nothing touches the disk.
 */
#ifndef RIPCORD_FUZZ_ARCHIVE_H
#define RIPCORD_FUZZ_ARCHIVE_H

#include <errno.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "ripcord/buf.h"
#include "fuzz.h"

static inline la_ssize_t fuzz_to_buf(struct archive *a, void *data,
	const void *buf, size_t len)
{
	(void)a;
	rip_buf_add(data, buf, len);
	return (la_ssize_t)len;
}

/* out = data[0..size), zstd-compressed as one frame. */
static inline void fuzz_zstd_wrap(struct rip_buf *out, const uint8_t *data,
	size_t size)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	FUZZ_CHECK(a && e);
	FUZZ_CHECK(archive_write_add_filter_zstd(a) == ARCHIVE_OK);
	FUZZ_CHECK(archive_write_set_filter_option(a, "zstd",
		"compression-level", "1") == ARCHIVE_OK);
	FUZZ_CHECK(archive_write_set_format_raw(a) == ARCHIVE_OK);
	FUZZ_CHECK(archive_write_set_bytes_per_block(a, 0) == ARCHIVE_OK);
	FUZZ_CHECK(archive_write_open2(a, out, NULL, fuzz_to_buf, NULL, NULL) ==
		ARCHIVE_OK);
	archive_entry_set_pathname(e, "artifact.tar");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	FUZZ_CHECK(archive_write_header(a, e) == ARCHIVE_OK);
	FUZZ_CHECK(!size ||
		archive_write_data(a, data, size) == (la_ssize_t)size);
	FUZZ_CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
}

/* The memfd fd holds exactly data[0..size). */
static inline void fuzz_put_file(int fd, const void *data, size_t size)
{
	const char *p = data;

	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	for (size_t off = 0; off < size; ) {
		ssize_t n = pwrite(fd, p + off, size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		FUZZ_CHECK(n > 0);
		off += (size_t)n;
	}
}

#endif
