/* SPDX-License-Identifier: MIT */
/*
 * log.c: the one place that prints diagnostics. Everything goes to stderr,
 * prefixed with its severity, so stdout stays for results.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ripcord/buf.h"
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

/*
 * Text from outside (a hook's output) ends in its own newline, perhaps
 * CRLF: each of its lines becomes one line of the log, with no blank line
 * after the last and no CR left at a line's end.
 */
static void add_lines(struct rip_buf *line, const char *s, size_t len)
{
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '\r' || s[i + 1] != '\n')
			rip_buf_addch(line, s[i]);
	rip_buf_addch(line, '\n');
}

static const char *const prefix[] = {
	"error: ", "warning: ", "", "debug: ",
};

void rip_log(enum rip_log_level level, const char *fmt, ...)
{
	struct rip_buf msg = RIP_BUF_INIT, line = RIP_BUF_INIT;
	va_list ap;

	if (level > threshold)
		return;
	va_start(ap, fmt);
	rip_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	rip_buf_adds(&line, "ripcord: ");
	rip_buf_adds(&line, prefix[level]);
	add_lines(&line, msg.buf, msg.len);
	/* one write: a message is never split by another process's */
	fwrite(line.buf, 1, line.len, stderr);
	rip_buf_release(&msg);
	rip_buf_release(&line);
}

void rip_log_lines(enum rip_log_level level, const char *head,
	const char *text, size_t len)
{
	struct rip_buf out = RIP_BUF_INIT;

	if (level > threshold)
		return;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	for (size_t at = 0; len && at <= len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;

		rip_buf_adds(&out, "ripcord: ");
		rip_buf_adds(&out, prefix[level]);
		rip_buf_adds(&out, head);
		add_lines(&out, text + at, end - at);
		at = end + 1;
	}
	/* one write: the lines are never split by another process's */
	fwrite(out.buf, 1, out.len, stderr);
	rip_buf_release(&out);
}

double rip_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
