/* SPDX-License-Identifier: MIT */
/*
 * fuzz_artifact.c: the artifact reader on hostile archives.
 *
 * An input that starts with zstd's magic number is the artifact file as
 * is (the golden artifact is a seed). Any other input is taken as the tar
 * inside it and zstd-compressed here first: the reader refuses what is not
 * zstd, and random bytes almost never make a valid zstd frame, so without
 * this the fuzzer would spend its time on zstd's frame checks instead of
 * on tar headers, pax records and ripcord's own entry checks.
 *
 * The file lives in a memfd, named by its /proc/self/fd path, so nothing
 * touches the disk and nothing is left behind. Each input goes through
 * rip_artifact_read, then (when that accepts it) rip_artifact_read_capture
 * as migrate reads releases, and through rip_verify_file, which parses
 * MANIFEST, SHA256SUMS and LINKS from the archive and checks every entry
 * against them.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "ripcord/artifact.h"
#include "ripcord/release.h"
#include "fuzz.h"
#include "fuzz_archive.h"

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	memfd = memfd_create("fuzz-artifact", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

/* What rip_artifact_read promises about an archive it accepted. */
static void check_contents(const struct rip_artifact_contents *c,
	const void *file, size_t size)
{
	unsigned char digest[RIP_SHA256_LEN];

	rip_sha256(digest, file, size);
	FUZZ_CHECK(c->file_size == size);
	FUZZ_CHECK(!memcmp(digest, c->file_digest, RIP_SHA256_LEN));
	for (size_t i = 0; i < c->n; i++) {
		const struct rip_artifact_entry *e = &c->v[i];

		FUZZ_CHECK(rip_artifact_path_safe(e->path));
		FUZZ_CHECK(!strncmp(e->path, "payload", 7) ||
			!strncmp(e->path, "ripcord", 7));
		FUZZ_CHECK(i == 0 || strcmp(c->v[i - 1].path, e->path) < 0);
		FUZZ_CHECK((e->kind == RIP_ART_LINK) == (e->target != NULL));
		FUZZ_CHECK(!(e->mode & ~0777u));
	}
}

static void read_artifact(const void *file, size_t size)
{
	struct rip_artifact_contents c;
	struct rip_verify_result res;
	struct rip_err err = { 0 };
	int rc;

	fuzz_put_file(memfd, file, size);
	rc = rip_artifact_read(&c, path, &err);
	fuzz_report("rip_artifact_read", rc, &err);
	if (rc < 0) {
		FUZZ_CHECK(c.n == 0 && c.v == NULL && err.code < 0);
		return;
	}
	check_contents(&c, file, size);
	rip_artifact_contents_release(&c);

	if (rip_artifact_read_capture(&c, path, "ripcord/migrations/",
			&err) == 0) {
		for (size_t i = 0; i < c.nfiles; i++)
			FUZZ_CHECK(!strncmp(c.files[i].path,
				"ripcord/migrations/", 19));
		rip_artifact_contents_release(&c);
	}

	rc = rip_verify_file(&res, path, NULL, NULL, NULL, &err);
	fuzz_report("rip_verify_file", rc, &err);
	if (rc == 0)
		FUZZ_CHECK(res.id != NULL);
	rip_verify_result_release(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	struct rip_buf z = RIP_BUF_INIT;

	if (size >= 4 && !memcmp(data, zstd_magic, 4)) {
		read_artifact(data, size);
		return 0;
	}
	fuzz_zstd_wrap(&z, data, size);
	read_artifact(z.buf, z.len);
	rip_buf_release(&z);
	return 0;
}
