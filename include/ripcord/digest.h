/* SPDX-License-Identifier: MIT */
/*
 * digest.h: SHA-256, streaming and one-shot, and its hex form; streaming
 * SHA-1 for git's object ids (fidelity.c). The one file that calls
 * OpenSSL's digests is digest.c.
 */
#ifndef RIPCORD_DIGEST_H
#define RIPCORD_DIGEST_H

#include "ripcord/err.h"

#define RIP_SHA256_LEN 32
#define RIP_SHA256_HEX (2 * RIP_SHA256_LEN + 1)

struct rip_sha256 {
	void *ctx; /* EVP_MD_CTX */
};

/* Starts a digest. Aborts on allocation failure. */
void rip_sha256_init(struct rip_sha256 *s);
void rip_sha256_update(struct rip_sha256 *s, const void *data, size_t len);
/* Writes the digest to out and releases s. */
void rip_sha256_final(unsigned char out[RIP_SHA256_LEN], struct rip_sha256 *s);
/* Releases s without a result; safe on a finished digest. */
void rip_sha256_release(struct rip_sha256 *s);

struct rip_sha1 {
	void *ctx; /* EVP_MD_CTX */
};

/* Starts a SHA-1; RIP_EFAIL when OpenSSL refuses it (a FIPS-only
 * provider). */
RIP_MUST_CHECK int rip_sha1_init(struct rip_sha1 *s, struct rip_err *err);
void rip_sha1_update(struct rip_sha1 *s, const void *data, size_t len);
/* Writes the 20-byte digest to out and releases s. */
void rip_sha1_final(unsigned char out[20], struct rip_sha1 *s);
/* Releases s without a result; safe on a finished or unstarted one. */
void rip_sha1_release(struct rip_sha1 *s);

void rip_sha256(unsigned char out[RIP_SHA256_LEN], const void *data,
	size_t len);
/*
 * SHA-256 of what fd holds from its current offset to its end (fd is left
 * there, open); path names it in errors. Returns 0 or RIP_EIO.
 */
RIP_MUST_CHECK int rip_sha256_fd(unsigned char out[RIP_SHA256_LEN], int fd,
	const char *path, struct rip_err *err);

/* SHA-256 of a file's contents. */
RIP_MUST_CHECK int rip_sha256_file(unsigned char out[RIP_SHA256_LEN],
	const char *path, struct rip_err *err);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void rip_hex(char *out, const unsigned char *bytes, size_t len);
/* Parses 2*len hex digits; returns 0 or -1. */
int rip_unhex(unsigned char *out, const char *hex, size_t len);

#endif
