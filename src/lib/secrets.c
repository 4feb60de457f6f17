/* SPDX-License-Identifier: MIT */
/*
 * secrets.c: the secret sniffer cut runs over every blob.
 *
 * Tuned to be cheap on the hot path of cut (it sees every byte of the
 * tree): memmem for rare anchors, then a precise check around each hit.
 * It errs towards few false alarms: a real private key block, a file named
 * .env (templates like .env.example excluded), an AWS-style key id.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "ripcord/secrets.h"
#include "banned.h"

static bool env_name(const char *path)
{
	static const char *const templates[] = {
		".example", ".sample", ".template", ".dist", ".defaults",
	};
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (strncmp(base, ".env", 4) || (base[4] != '\0' && base[4] != '.'))
		return false;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(templates); i++)
		if (!strcmp(base + 4, templates[i]))
			return false;
	return true;
}

/* "-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----" */
static bool pem_private(const char *s, size_t len)
{
	static const char begin[] = "-----BEGIN ";
	const char *end = s + len, *p = s;

	while ((p = memmem(p, (size_t)(end - p), begin, sizeof(begin) - 1))) {
		const char *q = p + sizeof(begin) - 1;

		while (q < end && (isupper((unsigned char)*q) ||
				   isdigit((unsigned char)*q) || *q == ' '))
			q++;
		if (q - p >= (ptrdiff_t)(sizeof(begin) - 1 + 11) &&
		    (size_t)(end - q) >= 5 &&
		    !memcmp(q - 11, "PRIVATE KEY", 11) && !memcmp(q, "-----", 5))
			return true;
		p = q;
	}
	return false;
}

static bool key_char(char c)
{
	return isupper((unsigned char)c) || isdigit((unsigned char)c);
}

/* "AKIA" or "ASIA" + 16 of [A-Z0-9], not inside a longer word */
static bool aws_key(const char *s, size_t len)
{
	static const char *const anchors[] = { "AKIA", "ASIA" };

	for (size_t a = 0; a < RIP_ARRAY_SIZE(anchors); a++) {
		const char *end = s + len, *p = s;

		while ((p = memmem(p, (size_t)(end - p), anchors[a], 4))) {
			size_t i = 4;

			while (i < 20 && p + i < end && key_char(p[i]))
				i++;
			if (i == 20 && (p == s || !isalnum((unsigned char)p[-1])) &&
			    (p + 20 == end || !isalnum((unsigned char)p[20])))
				return true;
			p += 4;
		}
	}
	return false;
}

const char *rip_secret_reason(const char *path, const void *data,
	size_t len)
{
	if (env_name(path))
		return "an .env file";
	if (pem_private(data, len))
		return "a PEM or OpenSSH private key";
	if (aws_key(data, len))
		return "an AWS access key id";
	return NULL;
}
