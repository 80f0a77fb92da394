/* fbb.c — see fbb.h. The buffer grows downwards: new bytes go in front of the old ones, so a
 * reference (distance from the end) stays valid while the buffer is reallocated. prep() is the
 * one place that aligns: it pads so that, once the next `extra` bytes are written, the write
 * position is a multiple of `align` counted from the end — which is a multiple counted from the
 * start as well, because fbb_finish() pads the front to the largest alignment used.
 * Sizes are checked against FBB_MAX_BYTES before any arithmetic that could wrap. */
#include "inference/fbb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "fbb.c copies vectors as they are in memory: little-endian hosts only"
#endif

void fbb_init(struct fbb *b)
{
	memset(b, 0, sizeof(*b));
	b->max_align = 4;
}

void fbb_free(struct fbb *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

static bool fail(struct fbb *b, int err)
{
	if (!b->err)
		b->err = err;
	return false;
}

static bool reserve(struct fbb *b, size_t n)
{
	if (b->err)
		return false;
	if (n > FBB_MAX_BYTES || b->used > FBB_MAX_BYTES - n)
		return fail(b, -EFBIG);
	if (b->cap - b->used >= n)
		return true;
	size_t ncap = b->cap ? b->cap : 1024;
	while (ncap - b->used < n)
		ncap *= 2; /* ncap stays below 2^33: used + n <= 2^31 */
	uint8_t *nb = malloc(ncap);
	if (!nb)
		return fail(b, -ENOMEM);
	if (b->used)
		memcpy(nb + ncap - b->used, b->buf + b->cap - b->used, b->used);
	free(b->buf);
	b->buf = nb;
	b->cap = ncap;
	return true;
}

static void push(struct fbb *b, const void *data, size_t n)
{
	if (n == 0 || !reserve(b, n))
		return;
	b->used += n;
	memcpy(b->buf + b->cap - b->used, data, n);
}

static void push_zeros(struct fbb *b, size_t n)
{
	if (n == 0 || !reserve(b, n))
		return;
	b->used += n;
	memset(b->buf + b->cap - b->used, 0, n);
}

static void prep(struct fbb *b, size_t align, size_t extra)
{
	if (b->err)
		return;
	if (extra > FBB_MAX_BYTES) {
		fail(b, -EFBIG);
		return;
	}
	if (align > b->max_align)
		b->max_align = align;
	push_zeros(b, (size_t)(-(b->used + extra)) & (align - 1));
}

static void push_le(struct fbb *b, uint64_t v, int size)
{
	uint8_t bytes[8];
	for (int i = 0; i < size; i++)
		bytes[i] = (uint8_t)(v >> (8 * i));
	push(b, bytes, (size_t)size);
}

static struct fbb_ref here(const struct fbb *b)
{
	return (struct fbb_ref){ b->err ? 0 : (uint32_t)b->used };
}

struct fbb_ref fbb_string(struct fbb *b, const char *s, size_t len)
{
	if (b->in_table)
		fail(b, -EINVAL);
	prep(b, 4, len + 1);
	push_zeros(b, 1);
	push(b, s, len);
	push_le(b, len, 4);
	return here(b);
}

struct fbb_ref fbb_vector(struct fbb *b, const void *data, size_t n, size_t elem_size, size_t align)
{
	if (b->in_table || align < elem_size || (align & (align - 1)) || elem_size == 0 || elem_size > 8 ||
	    n > FBB_MAX_BYTES / elem_size)
		fail(b, -EINVAL);
	if (b->err)
		return here(b);
	size_t bytes = n * elem_size;
	prep(b, 4, bytes);
	prep(b, align, bytes);
	push(b, data, bytes);
	push_le(b, n, 4);
	return here(b);
}

struct fbb_ref fbb_vector_i32(struct fbb *b, const int32_t *v, size_t n)
{
	return fbb_vector(b, v, n, 4, 4);
}

struct fbb_ref fbb_vector_refs(struct fbb *b, const struct fbb_ref *refs, size_t n)
{
	if (b->in_table || n > FBB_MAX_BYTES / 4)
		fail(b, -EINVAL);
	prep(b, 4, n * 4);
	for (size_t i = n; i-- > 0 && !b->err;) {
		if (refs[i].off == 0 || refs[i].off > b->used)
			fail(b, -EINVAL);
		else
			push_le(b, (uint32_t)(b->used + 4 - refs[i].off), 4);
	}
	push_le(b, n, 4);
	return here(b);
}

void fbb_table_start(struct fbb *b)
{
	if (b->in_table)
		fail(b, -EINVAL);
	b->in_table = true;
	b->nfields = 0;
}

static void add(struct fbb *b, int id, int size, bool is_ref, uint64_t bits)
{
	if (!b->in_table || id < 0 || id > 255 || b->nfields == FBB_MAX_FIELDS) {
		fail(b, -EINVAL);
		return;
	}
	b->fields[b->nfields++] = (struct fbb_field){ .id = id, .size = size, .is_ref = is_ref, .bits = bits };
}

void fbb_add_u8(struct fbb *b, int id, uint8_t v, uint8_t def)
{
	if (v != def)
		add(b, id, 1, false, v);
}

void fbb_add_i8(struct fbb *b, int id, int8_t v, int8_t def)
{
	if (v != def)
		add(b, id, 1, false, (uint8_t)v);
}

void fbb_add_bool(struct fbb *b, int id, bool v, bool def)
{
	if (v != def)
		add(b, id, 1, false, v ? 1 : 0);
}

void fbb_add_i32(struct fbb *b, int id, int32_t v, int32_t def)
{
	if (v != def)
		add(b, id, 4, false, (uint32_t)v);
}

void fbb_add_u32(struct fbb *b, int id, uint32_t v, uint32_t def)
{
	if (v != def)
		add(b, id, 4, false, v);
}

void fbb_add_i64(struct fbb *b, int id, int64_t v, int64_t def)
{
	if (v != def)
		add(b, id, 8, false, (uint64_t)v);
}

void fbb_add_f32(struct fbb *b, int id, float v, float def)
{
	uint32_t bits, defbits;
	memcpy(&bits, &v, 4);
	memcpy(&defbits, &def, 4);
	if (bits != defbits)
		add(b, id, 4, false, bits);
}

void fbb_add_ref(struct fbb *b, int id, struct fbb_ref r)
{
	if (r.off != 0)
		add(b, id, 4, true, r.off);
}

struct fbb_ref fbb_table_end(struct fbb *b)
{
	uint32_t field_off[FBB_MAX_FIELDS];
	int max_id = -1;
	if (!b->in_table)
		fail(b, -EINVAL);
	b->in_table = false;
	if (b->err)
		return here(b);
	size_t start = b->used;
	/* largest fields first in writing order: they end up last in memory, and every field is
	 * aligned to its size by prep() anyway, so this only saves padding */
	for (int size = 8; size >= 1; size /= 2)
		for (int i = 0; i < b->nfields; i++) {
			struct fbb_field *f = &b->fields[i];
			if (f->size != size)
				continue;
			prep(b, (size_t)size, 0);
			if (f->is_ref) {
				if (f->bits == 0 || f->bits > b->used)
					fail(b, -EINVAL);
				push_le(b, b->used + 4 - f->bits, 4);
			} else {
				push_le(b, f->bits, size);
			}
			field_off[i] = (uint32_t)b->used;
			if (f->id > max_id)
				max_id = f->id;
		}
	prep(b, 4, 0);
	push_zeros(b, 4); /* soffset to the vtable, patched below */
	if (b->err)
		return here(b);
	size_t table_off = b->used;
	size_t tbl_len = table_off - start;
	size_t nslots = (size_t)(max_id + 1);
	if (tbl_len > 0xffff || 4 + 2 * nslots > 0xffff)
		fail(b, -EFBIG);
	for (size_t id = nslots; id-- > 0 && !b->err;) {
		uint32_t entry = 0;
		for (int i = 0; i < b->nfields; i++)
			if ((size_t)b->fields[i].id == id) {
				if (entry)
					fail(b, -EINVAL); /* the same field twice */
				entry = (uint32_t)(table_off - field_off[i]);
			}
		push_le(b, entry, 2);
	}
	push_le(b, tbl_len, 2);
	push_le(b, 4 + 2 * nslots, 2);
	if (b->err)
		return here(b);
	uint32_t soff = (uint32_t)(b->used - table_off);
	uint8_t *p = b->buf + b->cap - table_off;
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(soff >> (8 * i));
	return (struct fbb_ref){ (uint32_t)table_off };
}

int fbb_finish(struct fbb *b, struct fbb_ref root, const char *ident, uint8_t **ret_buf,
	       size_t *ret_len)
{
	if (b->in_table || root.off == 0)
		fail(b, -EINVAL);
	prep(b, b->max_align, ident ? 8 : 4);
	if (ident)
		push(b, ident, 4);
	prep(b, 4, 4);
	if (!b->err && root.off > b->used)
		fail(b, -EINVAL);
	if (!b->err)
		push_le(b, b->used + 4 - root.off, 4);
	int err = b->err;
	if (!err) {
		uint8_t *out = malloc(b->used);
		if (!out) {
			err = -ENOMEM;
		} else {
			memcpy(out, b->buf + b->cap - b->used, b->used);
			*ret_buf = out;
			*ret_len = b->used;
		}
	}
	fbb_free(b);
	return err;
}
