/* SPDX-License-Identifier: MIT */
/*
 * test_sign.c: Ed25519 key generation, signing and verification, and the
 * ways a signature can be wrong.
 */
#include "helpers.h"

#include <sys/stat.h>

#include "ripcord/fsutil.h"
#include "ripcord/sign.h"

static void test_keygen(void **state)
{
	struct rip_err err = { 0 };
	struct rip_buf text = RIP_BUF_INIT;
	struct stat st;
	char prefix[600];

	snprintf(prefix, sizeof(prefix), "%s", tpath(state, "k"));
	assert_int_equal(rip_sign_keygen(prefix, &err), 0);
	assert_int_equal(stat(tpath(state, "k.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(tpath(state, "k.pub"), &st), 0);
	assert_int_equal(rip_read_file(&text, tpath(state, "k.key"), 4096,
		&err), 0);
	assert_non_null(strstr(text.buf, "-----BEGIN PRIVATE KEY-----"));
	rip_buf_reset(&text);
	assert_int_equal(rip_read_file(&text, tpath(state, "k.pub"), 4096,
		&err), 0);
	assert_non_null(strstr(text.buf, "-----BEGIN PUBLIC KEY-----"));
	rip_buf_release(&text);

	/* never overwrites a key */
	assert_int_equal(rip_sign_keygen(prefix, &err), RIP_EEXISTS);
	assert_err_contains(&err, "refusing to overwrite");
}

static void test_sign_verify(void **state)
{
	struct rip_err err = { 0 };
	struct rip_buf sig = RIP_BUF_INIT;
	unsigned char digest[RIP_SHA256_LEN], other[RIP_SHA256_LEN];
	char a[600], b[600], akey[640], apub[640], bpub[640];

	snprintf(a, sizeof(a), "%s", tpath(state, "a"));
	snprintf(b, sizeof(b), "%s", tpath(state, "b"));
	snprintf(akey, sizeof(akey), "%s.key", a);
	snprintf(apub, sizeof(apub), "%s.pub", a);
	snprintf(bpub, sizeof(bpub), "%s.pub", b);
	assert_int_equal(rip_sign_keygen(a, &err), 0);
	assert_int_equal(rip_sign_keygen(b, &err), 0);
	rip_sha256(digest, "artifact", 8);
	rip_sha256(other, "artifacT", 8);

	assert_int_equal(rip_sign_digest(&sig, akey, digest, &err), 0);
	assert_int_equal(sig.len, 89); /* 88 base64 + newline */
	assert_int_equal(rip_sign_verify(apub, digest, sig.buf, sig.len, &err),
		0);
	/* another digest, another key, a flipped signature byte */
	assert_int_equal(rip_sign_verify(apub, other, sig.buf, sig.len, &err),
		RIP_ESECURITY);
	assert_err_contains(&err, "signature does not match");
	assert_int_equal(rip_sign_verify(bpub, digest, sig.buf, sig.len, &err),
		RIP_ESECURITY);
	sig.buf[10] = sig.buf[10] == 'A' ? 'B' : 'A';
	assert_int_equal(rip_sign_verify(apub, digest, sig.buf, sig.len, &err),
		RIP_ESECURITY);
	/* garbage and truncated signatures */
	assert_int_equal(rip_sign_verify(apub, digest, "abc", 3, &err),
		RIP_ESECURITY);
	assert_err_contains(&err, "not 64 bytes of base64");
	assert_int_equal(rip_sign_verify(apub, digest, sig.buf, 40, &err),
		RIP_ESECURITY);
	/* a private key where a public one belongs, and a missing key */
	assert_int_equal(rip_sign_verify(akey, digest, sig.buf, sig.len, &err),
		RIP_ECONFIG);
	assert_int_equal(rip_sign_verify(tpath(state, "none.pub"), digest,
		sig.buf, sig.len, &err), RIP_ENOTFOUND);
	rip_buf_release(&sig);
}

static void test_wrong_key_type(void **state)
{
	struct rip_err err = { 0 };
	struct rip_buf sig = RIP_BUF_INIT;
	unsigned char digest[RIP_SHA256_LEN] = { 0 };

	write_text(tpath(state, "junk.key"), "not a key\n");
	assert_int_equal(rip_sign_digest(&sig, tpath(state, "junk.key"), digest,
		&err), RIP_ECONFIG);
	assert_err_contains(&err, "cannot read a PEM private key");
	rip_buf_release(&sig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keygen, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_sign_verify, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_type, tmpdir_setup,
			tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
