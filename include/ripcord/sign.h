/* SPDX-License-Identifier: MIT */
/*
 * sign.h: Ed25519 keys and detached signatures over an artifact digest.
 *
 * The signed message is the 32 raw bytes of the artifact's SHA-256, so the
 * stock openssl CLI verifies it:
 *   openssl dgst -sha256 -binary A.tar.zst > A.digest
 *   base64 -d A.tar.zst.sig > A.sig.bin
 *   openssl pkeyutl -verify -pubin -inkey release.pub -rawin \
 *       -in A.digest -sigfile A.sig.bin
 */
#ifndef RIPCORD_SIGN_H
#define RIPCORD_SIGN_H

#include "ripcord/buf.h"
#include "ripcord/digest.h"

#define RIP_ED25519_SIG_LEN 64

/*
 * Makes a key pair: prefix.key (PKCS#8 PEM, mode 0600) and prefix.pub (SPKI
 * PEM). Refuses (RIP_EEXISTS) when either exists; never leaves one alone.
 */
RIP_MUST_CHECK int rip_sign_keygen(const char *prefix, struct rip_err *err);

/* Signs digest with the private key in key_path; out gets base64 + "\n". */
RIP_MUST_CHECK int rip_sign_digest(struct rip_buf *out, const char *key_path,
	const unsigned char digest[RIP_SHA256_LEN], struct rip_err *err);

/*
 * Checks sig_b64 (base64 text as written by rip_sign_digest) over digest
 * with the public key in pub_path. A bad signature is RIP_ESECURITY.
 */
RIP_MUST_CHECK int rip_sign_verify(const char *pub_path,
	const unsigned char digest[RIP_SHA256_LEN], const char *sig_b64,
	size_t sig_len, struct rip_err *err);

#endif
