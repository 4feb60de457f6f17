/* SPDX-License-Identifier: MIT */
/*
 * archive_internal.h: what the two files that call libarchive (artifact.c
 * reads and writes, extract.c streams onto disk) must do the same way.
 */
#ifndef RIPCORD_ARCHIVE_INTERNAL_H
#define RIPCORD_ARCHIVE_INTERNAL_H

#include <locale.h>

/* Uncompressed bytes allowed per compressed byte, above a floor. */
#define RIP_MAX_RATIO 500u
#define RIP_RATIO_FLOOR (64u << 20)

/*
 * Names in pax headers are UTF-8 and libarchive converts them through the
 * locale's charset: calls that handle names run between these two, under
 * a thread-local C.UTF-8, never touching the process's locale.
 */
locale_t rip_utf8_enter(void);
void rip_utf8_leave(locale_t old);

#endif
