/* fbs.h — bounds-checked reading of a FlatBuffer held in memory (the TFLite model format).
 *
 * No flatbuffers library is packaged for C, and a model file is outside data: every offset,
 * vtable, vector length and string is checked against the buffer before it is touched, with
 * 64-bit arithmetic so that no sum can wrap (also on 32-bit boards). Scalars are read byte by
 * byte as little-endian, so no alignment is assumed anywhere.
 *
 * Errors: functions return 0 or -EBADMSG and leave a static reason in fb->why ("vector runs
 * past the end of the file"); the caller adds where (which table, which field). Absent fields
 * are not errors: scalars take the given default, tables/vectors/strings report present=false.
 * Not thread-safe per struct fbs (fb->why); different buffers are independent. */
#ifndef CAMCLASS_INFERENCE_FBS_H
#define CAMCLASS_INFERENCE_FBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fbs {
	const uint8_t *buf;
	size_t len;
	const char *why;          /* reason for the last failure */
	size_t why_pos;           /* buffer offset where it was detected */
};

struct fbs_table {
	struct fbs *fb;
	size_t pos;               /* table start (its soffset to the vtable) */
	size_t vt_pos;
	size_t vt_len;            /* vtable bytes */
	size_t tbl_len;           /* inline table bytes, as declared by the vtable */
};

struct fbs_vec {
	struct fbs *fb;
	bool present;
	size_t pos;               /* first element */
	uint32_t n;
	size_t elem_size;
};

/* The root table (uoffset at byte 0). Also checks the 4-byte file identifier if ident != NULL. */
int fbs_root(struct fbs *fb, const char *ident, struct fbs_table *ret);

int fbs_u8(const struct fbs_table *t, int id, uint8_t def, uint8_t *ret);
int fbs_i8(const struct fbs_table *t, int id, int8_t def, int8_t *ret);
int fbs_i32(const struct fbs_table *t, int id, int32_t def, int32_t *ret);
int fbs_u32(const struct fbs_table *t, int id, uint32_t def, uint32_t *ret);
int fbs_u64(const struct fbs_table *t, int id, uint64_t def, uint64_t *ret);
int fbs_f32(const struct fbs_table *t, int id, float def, float *ret);
int fbs_bool(const struct fbs_table *t, int id, bool def, bool *ret);

/* Sub-table; *ret_present = false (and ret untouched) when the field is absent. */
int fbs_table(const struct fbs_table *t, int id, struct fbs_table *ret, bool *ret_present);
/* Vector of elem_size-byte scalars or of uoffsets (elem_size 4); absent → present=false, n=0. */
int fbs_vector(const struct fbs_table *t, int id, size_t elem_size, struct fbs_vec *ret);
/* String: pointer into the buffer (NUL-terminated there, checked) or NULL when absent. */
int fbs_string(const struct fbs_table *t, int id, const char **ret_str, size_t *ret_len);

/* Element i (< v->n, checked by the caller) of a vector. */
int fbs_vec_table(const struct fbs_vec *v, uint32_t i, struct fbs_table *ret);
int32_t fbs_vec_i32(const struct fbs_vec *v, uint32_t i);
int64_t fbs_vec_i64(const struct fbs_vec *v, uint32_t i);
float fbs_vec_f32(const struct fbs_vec *v, uint32_t i);
const uint8_t *fbs_vec_data(const struct fbs_vec *v);

#endif
