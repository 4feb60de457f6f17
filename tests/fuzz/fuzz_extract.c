/* SPDX-License-Identifier: MIT */
/*
 * fuzz_extract.c: extraction onto disk from hostile archives.
 *
 * The input is taken as fuzz_artifact takes it (an artifact when it starts
 * with zstd's magic, else the tar inside one, zstd-compressed here), put
 * in a memfd and extracted twice: with rip_extract_payload into one root,
 * and with rip_extract_payload_many into two. Seeds: corpus/artifact (the
 * golden artifact and its tar reach the second pass; random bytes rarely
 * make a MANIFEST, SHA256SUMS and LINKS that agree).
 *
 * Contracts checked: both calls agree on the outcome; a refusal leaves
 * nothing in any root's releases/ (no dest, no temporary folder) and a
 * zeroed result; an acceptance leaves exactly the dests, each holding as
 * many files and links as the result says, with modes 0644/0755 and no
 * device, fifo or setuid bit; nothing ever appears outside the roots (a
 * sentinel folder beside them stays empty); no descriptor stays open.
 * The roots live in one folder under $RIPCORD_FUZZ_TMPDIR, else /dev/shm
 * (or /tmp), made once and emptied after each input.
 */
#include <errno.h>
#include <ftw.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "ripcord/extract.h"
#include "ripcord/fsutil.h"
#include "fuzz.h"
#include "fuzz_archive.h"

static int memfd = -1;
static char path[64];
static char base[256];
static char rel[3][300];    /* <base>/r<i>/releases */
static char dest[3][310];   /* its "/1" */
static char sentinel[300];

static int rm_cb(const char *p, const struct stat *sb, int flag,
	struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static void cleanup(void)
{
	if (base[0])
		nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char root[290];

	(void)argc;
	(void)argv;
	fuzz_quiet();
	memfd = memfd_create("fuzz-extract", MFD_CLOEXEC);
	FUZZ_CHECK(memfd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	/* a crash skips atexit: run.sh names a folder it removes itself */
	if (getenv("RIPCORD_FUZZ_TMPDIR"))
		snprintf(base, sizeof(base), "%.200s/fuzz-extract-XXXXXX",
			getenv("RIPCORD_FUZZ_TMPDIR"));
	else
		snprintf(base, sizeof(base), "/dev/shm/fuzz-extract-XXXXXX");
	if (!mkdtemp(base)) {
		snprintf(base, sizeof(base), "/tmp/fuzz-extract-XXXXXX");
		FUZZ_CHECK(mkdtemp(base) != NULL);
	}
	atexit(cleanup);
	for (int i = 0; i < 3; i++) {
		snprintf(root, sizeof(root), "%s/r%d", base, i);
		snprintf(rel[i], sizeof(rel[i]), "%s/releases", root);
		/* from root, not rel[i]: gcc cannot bound a row of rel */
		snprintf(dest[i], sizeof(dest[i]), "%s/releases/1", root);
		FUZZ_CHECK(mkdir(root, 0755) == 0 && mkdir(rel[i], 0755) == 0);
	}
	snprintf(sentinel, sizeof(sentinel), "%s/outside", base);
	FUZZ_CHECK(mkdir(sentinel, 0755) == 0);
	return 0;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	FUZZ_CHECK(d != NULL);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static uint64_t tree_files, tree_links;

static int tree_cb(const char *p, const struct stat *sb, int flag,
	struct FTW *ftw)
{
	mode_t perm = sb->st_mode & 07777;

	(void)p;
	(void)flag;
	(void)ftw;
	if (S_ISREG(sb->st_mode)) {
		FUZZ_CHECK(perm == 0644 || perm == 0755);
		tree_files++;
	} else if (S_ISLNK(sb->st_mode)) {
		tree_links++;
	} else {
		FUZZ_CHECK(S_ISDIR(sb->st_mode) && perm == 0755);
	}
	return 0;
}

/* An accepted extraction: dest holds what res says, and nothing else. */
static void check_tree(const char *d, const struct rip_extract_result *res)
{
	tree_files = tree_links = 0;
	FUZZ_CHECK(nftw(d, tree_cb, 16, FTW_PHYS) == 0);
	FUZZ_CHECK(tree_files == res->files && tree_links == res->links);
}

/* What an extraction leaves: the dests of the roots in filled (a bit
 * each) when it succeeded, nothing anywhere when it failed. */
static void check_outcome(int rc, const struct rip_err *err,
	const struct rip_extract_result *res, unsigned filled)
{
	FUZZ_CHECK(entries(sentinel) == 0);
	FUZZ_CHECK(entries(base) == 4);
	for (int i = 0; i < 3; i++) {
		int want = rc == 0 && (filled & (1u << i)) ? 1 : 0;

		FUZZ_CHECK(entries(rel[i]) == want);
		if (want)
			check_tree(dest[i], res);
	}
	if (rc < 0) {
		FUZZ_CHECK(err->code == rc);
		FUZZ_CHECK(!res->files && !res->bytes && !res->links);
	}
}

static void empty_roots(void)
{
	for (int i = 0; i < 3; i++)
		if (rip_path_exists(dest[i]))
			nftw(dest[i], rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void extract(const void *file, size_t size)
{
	const char *const many[] = { dest[1], dest[2] };
	struct rip_extract_result one, two;
	struct rip_err err = { 0 };
	int fds = entries("/proc/self/fd"), rc1, rc2;

	fuzz_put_file(memfd, file, size);
	rc1 = rip_extract_payload(&one, path, dest[0], &err);
	fuzz_report("rip_extract_payload", rc1, &err);
	check_outcome(rc1, &err, &one, 1u);
	empty_roots();
	rc2 = rip_extract_payload_many(&two, path, many, 2, &err);
	fuzz_report("rip_extract_payload_many", rc2, &err);
	check_outcome(rc2, &err, &two, 6u);
	empty_roots();
	/* one stream for two dests decides as one for one dest does */
	FUZZ_CHECK(rc1 == rc2);
	FUZZ_CHECK(!memcmp(&one, &two, sizeof(one)));
	FUZZ_CHECK(entries("/proc/self/fd") == fds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	struct rip_buf z = RIP_BUF_INIT;

	if (size >= 4 && !memcmp(data, zstd_magic, 4)) {
		extract(data, size);
		return 0;
	}
	fuzz_zstd_wrap(&z, data, size);
	extract(z.buf, z.len);
	rip_buf_release(&z);
	return 0;
}
