/* SPDX-License-Identifier: MIT */
/*
 * log.c: the one place that prints diagnostics. Everything goes to stderr,
 * prefixed with its severity, so stdout stays for results.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "ripcord/log.h"
#include "banned.h"

static enum rip_log_level threshold = RIP_LOG_INFO;

void rip_log_set_level(enum rip_log_level level)
{
	threshold = level;
}

enum rip_log_level rip_log_get_level(void)
{
	return threshold;
}

void rip_log(enum rip_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		"error: ", "warning: ", "", "debug: ",
	};
	va_list ap;

	if (level > threshold)
		return;
	fputs("ripcord: ", stderr);
	fputs(prefix[level], stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

double rip_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
