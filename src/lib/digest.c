/* SPDX-License-Identifier: MIT */
/*
 * digest.c: SHA-256 through OpenSSL's EVP interface, the only place that
 * calls it. Tuned for streaming: callers feed archive blocks as they pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ripcord/digest.h"
#include "banned.h"

void rip_sha256_init(struct rip_sha256 *s)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();
	s->ctx = ctx;
}

void rip_sha256_update(struct rip_sha256 *s, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(s->ctx, data, len) != 1)
		abort();
}

void rip_sha256_final(unsigned char out[RIP_SHA256_LEN], struct rip_sha256 *s)
{
	unsigned int n = RIP_SHA256_LEN;

	if (EVP_DigestFinal_ex(s->ctx, out, &n) != 1)
		abort();
	rip_sha256_release(s);
}

void rip_sha256_release(struct rip_sha256 *s)
{
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

int rip_sha1_init(struct rip_sha1 *s, struct rip_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx)
		abort();
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		s->ctx = NULL;
		return rip_err_set(err, RIP_EFAIL, "OpenSSL cannot compute SHA-1 "
			"(is a FIPS-only provider configured?)");
	}
	s->ctx = ctx;
	return 0;
}

void rip_sha1_update(struct rip_sha1 *s, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(s->ctx, data, len) != 1)
		abort();
}

void rip_sha1_final(unsigned char out[20], struct rip_sha1 *s)
{
	unsigned int n = 20;

	if (EVP_DigestFinal_ex(s->ctx, out, &n) != 1 || n != 20)
		abort();
	rip_sha1_release(s);
}

void rip_sha1_release(struct rip_sha1 *s)
{
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

void rip_sha256(unsigned char out[RIP_SHA256_LEN], const void *data,
	size_t len)
{
	struct rip_sha256 s;

	rip_sha256_init(&s);
	rip_sha256_update(&s, data, len);
	rip_sha256_final(out, &s);
}

int rip_sha256_fd(unsigned char out[RIP_SHA256_LEN], int fd,
	const char *path, struct rip_err *err)
{
	unsigned char chunk[65536];
	struct rip_sha256 s;

	rip_sha256_init(&s);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rip_sha256_release(&s);
			return rip_err_errno(err, RIP_EIO, "cannot read '%s'", path);
		}
		if (n == 0)
			break;
		rip_sha256_update(&s, chunk, (size_t)n);
	}
	rip_sha256_final(out, &s);
	return 0;
}

int rip_sha256_file(unsigned char out[RIP_SHA256_LEN], const char *path,
	struct rip_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND : RIP_EIO,
			"cannot open '%s'", path);
	rc = rip_sha256_fd(out, fd, path, err);
	close(fd);
	return rc;
}

void rip_hex(char *out, const unsigned char *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rip_unhex(unsigned char *out, const char *hex, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo;

		if (hi < 0)
			return -1;
		lo = hexval(hex[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}
