/* fbb.h — a small FlatBuffer builder: the writing twin of fbs.h (reading).
 *
 * Debian 12 packages no C flatbuffers library, and the only files we write are TFLite models and
 * their metadata, so this is the minimum the format needs, built the way the reference builder
 * builds: back to front, children before parents. Every object (string, vector, table) is
 * written once and named by a struct fbb_ref (its distance from the end of the buffer); a parent
 * refers to children already written, so every uoffset points forward, as the format requires.
 * Scalars are stored little-endian byte by byte; each object is aligned to its own alignment
 * and the finished buffer's length is a multiple of the largest alignment used, so an object
 * aligned in the buffer stays aligned in a file or a malloc'd copy (vectors of weights ask for
 * 16 bytes, as the TFLite converter gives its buffers).
 * Tables: fbb_table_start(), then fbb_add_*() per field (any order; a field equal to its
 * default is left out, as the reference builder does unless forced), then fbb_table_end().
 * No vtable sharing: a few bytes more per table, nothing else changes for a reader.
 *
 * Memory: the builder owns its buffer until fbb_finish() hands it over (free() it).
 * Errors: the first failure (out of memory, size over FBB_MAX_BYTES, misuse) is sticky: later
 * calls do nothing and fbb_finish() returns it (-ENOMEM, -EFBIG, -EINVAL).
 * Threads: one builder per thread. */
#ifndef CAMCLASS_INFERENCE_FBB_H
#define CAMCLASS_INFERENCE_FBB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FBB_MAX_BYTES ((size_t)1 << 31) /* uoffsets are 32-bit; keep well inside */
#define FBB_MAX_FIELDS 16               /* per table: the TFLite tables we write have fewer */

struct fbb_ref {
	uint32_t off;             /* distance from the buffer's end; 0 = none (absent) */
};

struct fbb_field {
	int id;
	int size;                 /* 1, 4 or 8 bytes */
	bool is_ref;
	uint64_t bits;            /* scalar value, or the ref's off */
};

struct fbb {
	uint8_t *buf;             /* data lives in buf[cap - used, cap) */
	size_t cap, used;
	size_t max_align;
	int err;
	bool in_table;
	int nfields;
	struct fbb_field fields[FBB_MAX_FIELDS];
};

void fbb_init(struct fbb *b);
void fbb_free(struct fbb *b);      /* after a failure, or instead of finishing */

struct fbb_ref fbb_string(struct fbb *b, const char *s, size_t len);
/* n elements of elem_size bytes (1, 2, 4 or 8) each, copied as they are in memory
 * (little-endian hosts only: see the check in fbb.c); align >= elem_size, a power of two. */
struct fbb_ref fbb_vector(struct fbb *b, const void *data, size_t n, size_t elem_size, size_t align);
struct fbb_ref fbb_vector_i32(struct fbb *b, const int32_t *v, size_t n);
/* A vector of references to tables or strings already written. */
struct fbb_ref fbb_vector_refs(struct fbb *b, const struct fbb_ref *refs, size_t n);

void fbb_table_start(struct fbb *b);
void fbb_add_u8(struct fbb *b, int id, uint8_t v, uint8_t def);
void fbb_add_i8(struct fbb *b, int id, int8_t v, int8_t def);
void fbb_add_bool(struct fbb *b, int id, bool v, bool def);
void fbb_add_i32(struct fbb *b, int id, int32_t v, int32_t def);
void fbb_add_u32(struct fbb *b, int id, uint32_t v, uint32_t def);
void fbb_add_i64(struct fbb *b, int id, int64_t v, int64_t def);
void fbb_add_f32(struct fbb *b, int id, float v, float def);
void fbb_add_ref(struct fbb *b, int id, struct fbb_ref r); /* left out when r.off == 0 */
struct fbb_ref fbb_table_end(struct fbb *b);

/* Writes the root offset and the 4-byte file identifier (ident may be NULL), then hands the
 * buffer over: *ret_buf (malloc'd, the caller frees it), *ret_len. 0 or the sticky error. */
int fbb_finish(struct fbb *b, struct fbb_ref root, const char *ident, uint8_t **ret_buf,
	       size_t *ret_len);

#endif
