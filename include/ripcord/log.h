/* SPDX-License-Identifier: MIT */
/*
 * log.h: diagnostics on stderr, filtered by verbosity, and the clock the
 * durations they report are measured with.
 */
#ifndef RIPCORD_LOG_H
#define RIPCORD_LOG_H

#include "ripcord/common.h"

enum rip_log_level {
	RIP_LOG_ERROR = 0,
	RIP_LOG_WARN = 1,
	RIP_LOG_INFO = 2,
	RIP_LOG_DEBUG = 3,
};

/* Messages above level are dropped. Default: RIP_LOG_INFO. */
void rip_log_set_level(enum rip_log_level level);
enum rip_log_level rip_log_get_level(void);

void rip_log(enum rip_log_level level, const char *fmt, ...) RIP_PRINTF(2, 3);
/*
 * The lines of a process's output (text, len bytes), one log line each,
 * every one after head ("web-1: activate: "); CRs of CRLF and the final
 * newline dropped; in one write. Nothing when text is empty.
 */
void rip_log_lines(enum rip_log_level level, const char *head,
	const char *text, size_t len);
#define rip_warn(...) rip_log(RIP_LOG_WARN, __VA_ARGS__)
#define rip_info(...) rip_log(RIP_LOG_INFO, __VA_ARGS__)
#define rip_debug(...) rip_log(RIP_LOG_DEBUG, __VA_ARGS__)

/* Seconds on the monotonic clock: for durations, never for dates. */
double rip_monotonic(void);

#endif
