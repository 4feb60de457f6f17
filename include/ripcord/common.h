/* SPDX-License-Identifier: MIT */
/*
 * common.h: attributes shared by every public header of libripcord.
 */
#ifndef RIPCORD_COMMON_H
#define RIPCORD_COMMON_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define RIP_MUST_CHECK __attribute__((warn_unused_result))
#define RIP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define RIP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
