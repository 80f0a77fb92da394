/* fbs.c — see fbs.h. Every access goes through span_ok(), which checks [pos, pos+size) against
 * the buffer in 64-bit arithmetic; nothing is dereferenced before that check. The checks follow
 * the FlatBuffers verifier's rules (vtable inside the buffer, even and at least 4 bytes, fields
 * inside the table's declared size, vectors and strings inside the buffer, strings terminated)
 * but without alignment rules, since every read here is bytewise. */
#include "inference/fbs.h"

#include <errno.h>
#include <string.h>

static int fail(struct fbs *fb, size_t pos, const char *why)
{
	fb->why = why;
	fb->why_pos = pos;
	return -EBADMSG;
}

static bool span_ok(const struct fbs *fb, uint64_t pos, uint64_t size)
{
	return pos <= fb->len && size <= fb->len - pos;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int table_at(struct fbs *fb, uint64_t pos, struct fbs_table *ret)
{
	if (!span_ok(fb, pos, 4))
		return fail(fb, (size_t)pos, "table starts past the end of the file");
	int32_t soff = (int32_t)rd32(fb->buf + pos);
	int64_t vt = (int64_t)pos - (int64_t)soff;
	if (vt < 0 || !span_ok(fb, (uint64_t)vt, 4))
		return fail(fb, (size_t)pos, "vtable outside the file");
	uint16_t vt_len = rd16(fb->buf + vt), tbl_len = rd16(fb->buf + vt + 2);
	if (vt_len < 4 || (vt_len & 1) || !span_ok(fb, (uint64_t)vt, vt_len))
		return fail(fb, (size_t)vt, "malformed vtable");
	if (tbl_len < 4 || !span_ok(fb, pos, tbl_len))
		return fail(fb, (size_t)pos, "table runs past the end of the file");
	ret->fb = fb;
	ret->pos = (size_t)pos;
	ret->vt_pos = (size_t)vt;
	ret->vt_len = vt_len;
	ret->tbl_len = tbl_len;
	return 0;
}

int fbs_root(struct fbs *fb, const char *ident, struct fbs_table *ret)
{
	fb->why = NULL;
	if (fb->len < 8)
		return fail(fb, 0, "file too short to be a FlatBuffer");
	if (ident && memcmp(fb->buf + 4, ident, 4) != 0)
		return fail(fb, 4, "wrong file identifier");
	return table_at(fb, rd32(fb->buf), ret);
}

/* Position of field id holding size bytes, or 0 when absent (a field never sits at offset 0:
 * that is the table's soffset). */
static int field_pos(const struct fbs_table *t, int id, size_t size, size_t *ret_pos)
{
	size_t slot = 4 + 2 * (size_t)id;
	*ret_pos = 0;
	if (id < 0 || slot + 2 > t->vt_len)
		return 0;
	uint16_t off = rd16(t->fb->buf + t->vt_pos + slot);
	if (off == 0)
		return 0;
	if (off < 4 || (size_t)off + size > t->tbl_len)
		return fail(t->fb, t->pos, "field outside its table");
	*ret_pos = t->pos + off;
	return 0;
}

#define SCALAR_GETTER(fname, type, size, expr)                                      \
	int fname(const struct fbs_table *t, int id, type def, type *ret)           \
	{                                                                           \
		size_t p;                                                           \
		int r = field_pos(t, id, size, &p);                                 \
		if (r < 0)                                                          \
			return r;                                                   \
		if (p == 0) {                                                       \
			*ret = def;                                                 \
			return 0;                                                   \
		}                                                                   \
		const uint8_t *b = t->fb->buf + p;                                  \
		*ret = (expr);                                                      \
		return 0;                                                           \
	}

SCALAR_GETTER(fbs_u8, uint8_t, 1, b[0])
SCALAR_GETTER(fbs_i8, int8_t, 1, (int8_t)b[0])
SCALAR_GETTER(fbs_bool, bool, 1, b[0] != 0)
SCALAR_GETTER(fbs_i32, int32_t, 4, (int32_t)rd32(b))
SCALAR_GETTER(fbs_u32, uint32_t, 4, rd32(b))
SCALAR_GETTER(fbs_u64, uint64_t, 8, rd64(b))

int fbs_f32(const struct fbs_table *t, int id, float def, float *ret)
{
	uint32_t bits, defbits;
	memcpy(&defbits, &def, 4);
	int r = fbs_u32(t, id, defbits, &bits);
	if (r < 0)
		return r;
	memcpy(ret, &bits, 4);
	return 0;
}

/* Follows the uoffset stored at pos; returns the target position. */
static int follow(struct fbs *fb, size_t pos, uint64_t *ret_target)
{
	uint64_t target = (uint64_t)pos + rd32(fb->buf + pos);
	if (target >= fb->len)
		return fail(fb, pos, "offset points past the end of the file");
	*ret_target = target;
	return 0;
}

int fbs_table(const struct fbs_table *t, int id, struct fbs_table *ret, bool *ret_present)
{
	size_t p;
	uint64_t target;
	int r = field_pos(t, id, 4, &p);
	if (r < 0)
		return r;
	if (p == 0) {
		*ret_present = false;
		return 0;
	}
	r = follow(t->fb, p, &target);
	if (r < 0)
		return r;
	r = table_at(t->fb, target, ret);
	if (r < 0)
		return r;
	*ret_present = true;
	return 0;
}

static int vector_at(struct fbs *fb, size_t slot, size_t elem_size, struct fbs_vec *ret)
{
	uint64_t target;
	int r = follow(fb, slot, &target);
	if (r < 0)
		return r;
	if (!span_ok(fb, target, 4))
		return fail(fb, (size_t)target, "vector length past the end of the file");
	uint32_t n = rd32(fb->buf + target);
	/* n < 2^32 and elem_size <= 8: the product fits in 64 bits */
	if (!span_ok(fb, target + 4, (uint64_t)n * elem_size))
		return fail(fb, (size_t)target, "vector runs past the end of the file");
	ret->fb = fb;
	ret->present = true;
	ret->pos = (size_t)target + 4;
	ret->n = n;
	ret->elem_size = elem_size;
	return 0;
}

int fbs_vector(const struct fbs_table *t, int id, size_t elem_size, struct fbs_vec *ret)
{
	size_t p;
	int r = field_pos(t, id, 4, &p);
	if (r < 0)
		return r;
	if (p == 0) {
		*ret = (struct fbs_vec){ .fb = t->fb, .elem_size = elem_size };
		return 0;
	}
	return vector_at(t->fb, p, elem_size, ret);
}

int fbs_string(const struct fbs_table *t, int id, const char **ret_str, size_t *ret_len)
{
	size_t p;
	struct fbs_vec v;
	int r = field_pos(t, id, 4, &p);
	if (r < 0)
		return r;
	if (p == 0) {
		*ret_str = NULL;
		*ret_len = 0;
		return 0;
	}
	r = vector_at(t->fb, p, 1, &v);
	if (r < 0)
		return r;
	if (!span_ok(t->fb, v.pos, (uint64_t)v.n + 1) || t->fb->buf[v.pos + v.n] != 0)
		return fail(t->fb, v.pos, "string not terminated");
	*ret_str = (const char *)t->fb->buf + v.pos;
	*ret_len = v.n;
	return 0;
}

int fbs_vec_table(const struct fbs_vec *v, uint32_t i, struct fbs_table *ret)
{
	uint64_t target;
	int r = follow(v->fb, v->pos + (size_t)i * 4, &target);
	if (r < 0)
		return r;
	return table_at(v->fb, target, ret);
}

int32_t fbs_vec_i32(const struct fbs_vec *v, uint32_t i)
{
	return (int32_t)rd32(v->fb->buf + v->pos + (size_t)i * 4);
}

int64_t fbs_vec_i64(const struct fbs_vec *v, uint32_t i)
{
	return (int64_t)rd64(v->fb->buf + v->pos + (size_t)i * 8);
}

float fbs_vec_f32(const struct fbs_vec *v, uint32_t i)
{
	uint32_t bits = rd32(v->fb->buf + v->pos + (size_t)i * 4);
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

const uint8_t *fbs_vec_data(const struct fbs_vec *v)
{
	return v->fb->buf + v->pos;
}
