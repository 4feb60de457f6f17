/* SPDX-License-Identifier: MIT */
/*
 * sign.c: Ed25519 through OpenSSL libcrypto; the only file that touches its
 * key and signature APIs. Ed25519 is one-shot in OpenSSL (EVP_DigestSign
 * with a NULL md), which is why we sign the artifact's digest, never a
 * stream. OpenSSL's error queue is drained into struct rip_err here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ripcord/fsutil.h"
#include "ripcord/sign.h"
#include "banned.h"

static int ssl_err(struct rip_err *err, int code, const char *what)
{
	char detail[256] = "unknown error";
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	return rip_err_set(err, code, "%s: %s", what, detail);
}

static int pem_out(struct rip_buf *out, EVP_PKEY *key, bool private)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int ok;

	if (!bio)
		return -1;
	ok = private ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
				NULL) :
		       PEM_write_bio_PUBKEY(bio, key);
	len = BIO_get_mem_data(bio, &data);
	if (ok == 1 && len > 0)
		rip_buf_add(out, data, (size_t)len);
	BIO_free(bio);
	return ok == 1 ? 0 : -1;
}

int rip_sign_keygen(const char *prefix, struct rip_err *err)
{
	struct rip_buf priv = RIP_BUF_INIT, pub = RIP_BUF_INIT;
	char *key_path = rip_xasprintf("%s.key", prefix);
	char *pub_path = rip_xasprintf("%s.pub", prefix);
	EVP_PKEY *key = NULL;
	struct rip_atomic a;
	int rc = 0;

	if (rip_path_exists(key_path) || rip_path_exists(pub_path)) {
		rc = rip_err_set(err, RIP_EEXISTS, "'%s' or '%s' already exists; "
			"refusing to overwrite a key (choose another -o PREFIX)",
			key_path, pub_path);
		goto done;
	}
	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!key) {
		rc = ssl_err(err, RIP_EFAIL, "cannot generate an Ed25519 key");
		goto done;
	}
	if (pem_out(&priv, key, true) < 0 || pem_out(&pub, key, false) < 0) {
		rc = ssl_err(err, RIP_EFAIL, "cannot encode the key as PEM");
		goto done;
	}
	if ((rc = rip_atomic_open(&a, key_path, 0600, err)) < 0)
		goto done;
	if ((rc = rip_atomic_write(&a, priv.buf, priv.len, err)) < 0) {
		rip_atomic_abort(&a);
		goto done;
	}
	if ((rc = rip_atomic_commit(&a, true, err)) < 0)
		goto done;
	if ((rc = rip_write_file_atomic(pub_path, pub.buf, pub.len, 0644,
			err)) < 0)
		unlink(key_path);
done:
	EVP_PKEY_free(key);
	/* The private key's PEM must not linger in freed memory. */
	if (priv.alloc)
		OPENSSL_cleanse(priv.buf, priv.alloc);
	rip_buf_release(&priv);
	rip_buf_release(&pub);
	free(key_path);
	free(pub_path);
	return rc;
}

static int load_key(EVP_PKEY **out, const char *path, bool private,
	struct rip_err *err)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *key;

	*out = NULL;
	if (!f)
		return rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND : RIP_EIO,
			"cannot open key '%s'", path);
	key = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL) :
			PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!key)
		return ssl_err(err, RIP_ECONFIG, private ?
			"cannot read a PEM private key" :
			"cannot read a PEM public key");
	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(key);
		return rip_err_set(err, RIP_ECONFIG, "key '%s' is not an Ed25519 "
			"key (make one with 'ripcord keygen')", path);
	}
	*out = key;
	return 0;
}

int rip_sign_digest(struct rip_buf *out, const char *key_path,
	const unsigned char digest[RIP_SHA256_LEN], struct rip_err *err)
{
	unsigned char sig[RIP_ED25519_SIG_LEN];
	unsigned char b64[4 * ((RIP_ED25519_SIG_LEN + 2) / 3) + 1];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *key;
	int rc;

	if ((rc = load_key(&key, key_path, true, err)) < 0)
		return rip_err_prefix(err, "signing key '%s'", key_path);
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &sig_len, digest, RIP_SHA256_LEN) != 1) {
		rc = ssl_err(err, RIP_EFAIL, "cannot sign");
		goto done;
	}
	EVP_EncodeBlock(b64, sig, (int)sig_len);
	rip_buf_adds(out, (const char *)b64);
	rip_buf_addch(out, '\n');
done:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return rc;
}

static int decode_sig(unsigned char sig[RIP_ED25519_SIG_LEN],
	const char *b64, size_t len)
{
	unsigned char raw[128];
	int n;

	while (len && (b64[len - 1] == '\n' || b64[len - 1] == '\r' ||
		       b64[len - 1] == ' '))
		len--;
	/* 64 bytes encode to exactly 88 base64 characters with "==" padding. */
	if (len != 88)
		return -1;
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n != 66) /* DecodeBlock counts the padding as zero bytes */
		return -1;
	memcpy(sig, raw, RIP_ED25519_SIG_LEN);
	return 0;
}

int rip_sign_verify(const char *pub_path,
	const unsigned char digest[RIP_SHA256_LEN], const char *sig_b64,
	size_t sig_len, struct rip_err *err)
{
	unsigned char sig[RIP_ED25519_SIG_LEN];
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *key;
	int rc;

	if ((rc = load_key(&key, pub_path, false, err)) < 0)
		return rip_err_prefix(err, "verify key '%s'", pub_path);
	if (decode_sig(sig, sig_b64, sig_len) < 0) {
		rc = rip_err_set(err, RIP_ESECURITY, "the signature is not 64 "
			"bytes of base64");
		goto done;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1) {
		rc = ssl_err(err, RIP_EFAIL, "cannot set up verification");
		goto done;
	}
	if (EVP_DigestVerify(ctx, sig, sizeof(sig), digest,
			RIP_SHA256_LEN) != 1) {
		ERR_clear_error();
		rc = rip_err_set(err, RIP_ESECURITY, "the signature does not match "
			"the artifact (key '%s')", pub_path);
	}
done:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return rc;
}
