/* SPDX-License-Identifier: MIT */
/*
 * manifest.h: the metadata files inside an artifact: ripcord/MANIFEST (INI),
 * ripcord/SHA256SUMS (sha256sum's format) and ripcord/LINKS.
 */
#ifndef RIPCORD_MANIFEST_H
#define RIPCORD_MANIFEST_H

#include "ripcord/buf.h"
#include "ripcord/config.h"
#include "ripcord/digest.h"

#define RIP_FORMAT_VERSION 1

struct rip_manifest {
	uint64_t format;      /* artifact format version */
	char *id;
	char *project;
	char *commit;
	char *tree;
	char *parent;         /* NULL for the first release */
	char *created;        /* commit time, RFC 3339 UTC */
	char *tool;
	uint64_t files;       /* regular payload files */
	uint64_t bytes;       /* their total size */
	uint64_t links;
	struct rip_strlist submodules;   /* "path commit" */
	struct rip_strlist migrations;   /* "<version>_<name>" in apply order */
};

/* Serialises m as INI into out (appending). Deterministic. */
void rip_manifest_format(struct rip_buf *out, const struct rip_manifest *m);

/*
 * Parses MANIFEST text into *out (newly allocated). Unknown keys, missing
 * required keys and bad numbers are RIP_EINTEGRITY with the line.
 */
RIP_MUST_CHECK int rip_manifest_parse(struct rip_manifest **out,
	const char *text, struct rip_err *err);
void rip_manifest_free(struct rip_manifest *m);

/* One line of SHA256SUMS or LINKS. */
struct rip_sum {
	char *path;           /* relative to the artifact root */
	unsigned char digest[RIP_SHA256_LEN];
	char *target;         /* LINKS only */
};

struct rip_sums {
	struct rip_sum *v;
	size_t n;
	size_t alloc;
};

void rip_sums_add(struct rip_sums *s, const char *path,
	const unsigned char digest[RIP_SHA256_LEN], const char *target);
void rip_sums_release(struct rip_sums *s);
/* Sorts by path (bytewise) so lookups can bisect. */
void rip_sums_sort(struct rip_sums *s);
/* Finds path in a sorted list; NULL when absent. */
struct rip_sum *rip_sums_find(const struct rip_sums *s, const char *path);

/* Whether some path of sorted s lies below folder dir ("payload/a"). */
bool rip_sums_has_below(const struct rip_sums *s, const char *dir);
/* Whether artifact folder path ("payload/x") is a submodule's or holds one. */
bool rip_manifest_holds_submodule(const struct rip_manifest *m,
	const char *path);

/* SHA256SUMS text, in the order of s; names escaped as sha256sum does. */
void rip_sums_format(struct rip_buf *out, const struct rip_sums *s);
RIP_MUST_CHECK int rip_sums_parse(struct rip_sums *out, const char *text,
	struct rip_err *err);

/* LINKS text: "<target>\t<path>\n" per link. */
void rip_links_format(struct rip_buf *out, const struct rip_sums *s);
RIP_MUST_CHECK int rip_links_parse(struct rip_sums *out, const char *text,
	struct rip_err *err);

/* Whether an id is a valid release id: [A-Za-z0-9._+-], 1..128, no "..". */
bool rip_release_id_valid(const char *id);

#endif
