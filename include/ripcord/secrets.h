/* SPDX-License-Identifier: MIT */
/*
 * secrets.h: recognising files that must not ship in an artifact.
 */
#ifndef RIPCORD_SECRETS_H
#define RIPCORD_SECRETS_H

#include "ripcord/common.h"

/*
 * Returns NULL when path and data look harmless, else a short reason
 * ("a PEM private key", "an .env file", "an AWS access key id").
 */
const char *rip_secret_reason(const char *path, const void *data,
	size_t len);

#endif
