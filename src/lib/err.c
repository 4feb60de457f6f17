/* SPDX-License-Identifier: MIT */
/*
 * err.c: struct rip_err and the code-to-exit-status table.
 *
 * Messages are bounded (1 KiB) and truncated rather than allocated, so an
 * error path never fails for lack of memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ripcord/err.h"
#include "banned.h"

static int err_vset(struct rip_err *err, int code, bool with_errno,
	const char *fmt, va_list ap)
{
	int saved = errno;
	size_t len;

	if (!err)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (with_errno) {
		len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
			strerror(saved));
	}
	return code;
}

int rip_err_set(struct rip_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, code, false, fmt, ap);
	va_end(ap);
	return code;
}

int rip_err_errno(struct rip_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, code, true, fmt, ap);
	va_end(ap);
	return code;
}

int rip_err_prefix(struct rip_err *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof(err->msg)];
	size_t len, old_len;
	va_list ap;

	if (!err)
		return RIP_EFAIL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* truncation is fine: messages are bounded by design */
	len = strlen(prefix);
	if (len > sizeof(err->msg) - 3)
		len = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, len);
	memcpy(err->msg + len, ": ", 2);
	len += 2;
	old_len = strnlen(old, sizeof(old) - 1);
	if (old_len > sizeof(err->msg) - 1 - len)
		old_len = sizeof(err->msg) - 1 - len;
	memcpy(err->msg + len, old, old_len);
	err->msg[len + old_len] = '\0';
	return err->code ? err->code : RIP_EFAIL;
}

void rip_err_clear(struct rip_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

int rip_err_exit_code(int code)
{
	switch (code) {
	case RIP_OK:
		return 0;
	case RIP_EUSAGE:
	case RIP_ECONFIG:
	case RIP_ENOTFOUND:
	case RIP_EEXISTS:
		return 2;
	case RIP_EINTEGRITY:
	case RIP_ESECURITY:
		return 3;
	case RIP_EBUSY:
		return 4;
	case RIP_EINTR:
		return 5;
	default:
		return 1;
	}
}
