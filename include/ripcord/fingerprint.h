/* SPDX-License-Identifier: MIT */
/*
 * fingerprint.h: the structure of a database schema as a sorted list of
 * (key, value) items, read from the catalogs by a driver (db.h), and the
 * diff of two of them that names every object that differs.
 *
 * Keys name an object ("table orders", "column orders.status", "index
 * orders_status", "foreign key orders(customer_id)", "view v", "trigger t",
 * "sequence s", "function f(integer)", "type mood", "constraint
 * orders.orders_qty_check"); values describe it in a canonical, driver-
 * specific form ("type text, not null, default 'new'"). Two schemas are
 * the same exactly when their item lists are equal.
 */
#ifndef RIPCORD_FINGERPRINT_H
#define RIPCORD_FINGERPRINT_H

#include "ripcord/buf.h"
#include "ripcord/digest.h"

struct rip_fp_item {
	char *key;
	char *value;
};

struct rip_fingerprint {
	struct rip_fp_item *v;
	size_t n;
	size_t alloc;
};

/* Adds an item; value is printf-formatted. Keys must be unique. */
void rip_fp_add(struct rip_fingerprint *fp, const char *key,
	const char *fmt, ...) RIP_PRINTF(3, 4);
/* Sorts by key; call once after the last add. */
void rip_fp_sort(struct rip_fingerprint *fp);
void rip_fp_release(struct rip_fingerprint *fp);

/* "key: value\n" per item, in order: the canonical text. */
void rip_fp_format(struct rip_buf *out, const struct rip_fingerprint *fp);
/* SHA-256 of the canonical text. */
void rip_fp_digest(unsigned char out[RIP_SHA256_LEN],
	const struct rip_fingerprint *fp);

/*
 * Appends one line per difference between sorted a and b to out and
 * returns how many there are (0: the same schema). a_label and b_label
 * name the two sides ("before", "after"):
 *   table audit exists only after
 *   column execution_tasks.ai_model: type text before, type integer after
 */
size_t rip_fp_diff(struct rip_buf *out, const struct rip_fingerprint *a,
	const struct rip_fingerprint *b, const char *a_label,
	const char *b_label);

/*
 * Opens the window in which a timestamp literal in a view or a default
 * counts as a "now" frozen at its creation, which non-strict readers
 * compare as a placeholder (fp_read.h): from now until a fingerprint is
 * read. rip_roundtrip_run opens it as it begins; until a first call no
 * literal counts as frozen (a production schema was made long before).
 */
void rip_fp_window_open(void);

#endif
