/* SPDX-License-Identifier: MIT */
/*
 * archive_lazy.c: libarchive, loaded on first use (lazy.h) for its two
 * callers, artifact.c and extract.c, which share the table rip_ar
 * (archive_internal.h). Only cut, verify, drill, deploy and the agent's
 * extract read or write artifacts; the agent's other requests, rollback,
 * status and --version never map libarchive nor what it pulls in
 * (zstd, lzma, bzip2, lz4, libxml2, nettle, acl, ...).
 */
#include "archive_internal.h"
#include "banned.h"

struct rip_archive_fns rip_ar;

static const char *const ar_names[] = { RIP_ARCHIVE_FUNCS(RIP_LAZY_NAME) };

/* libarchive.so.13: the ABI of every 3.x release */
static struct rip_lazy libarchive = RIP_LAZY_INIT("libarchive.so.13",
	"libarchive", ar_names, &rip_ar);

int rip_archive_load(struct rip_err *err)
{
	return rip_lazy_load(&libarchive, err);
}
