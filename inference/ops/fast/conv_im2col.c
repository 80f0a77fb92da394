/* conv_im2col.c — the gather of the fast CONV_2D path (conv_fast.c): rows of A, the receptive
 * field of each output pixel of a tile, as int16 minus the input zero point (the int16 GEMM) or as
 * bytes (the 8-bit GEMMs), split from conv_fast.c so the GEMM driver and the gather each stay one
 * file. conv_im2col.h states the layout. */
#include "inference/ops/fast/conv_im2col.h"

#include <string.h>

typedef uint8_t conv_v16 __attribute__((vector_size(16)));

/* 16 (or 8, 4) bytes, their top bits flipped when flip is 0x80 (a constant where inlined). */
static inline __attribute__((always_inline)) void copy16(uint8_t *d, const uint8_t *s, uint8_t flip)
{
	conv_v16 v, m;
	memcpy(&v, s, 16);
	memset(&m, flip, sizeof(m));
	v ^= m;
	memcpy(d, &v, 16);
}

static inline __attribute__((always_inline)) void copy8(uint8_t *d, const uint8_t *s, uint8_t flip)
{
	uint64_t v;
	memcpy(&v, s, 8);
	v ^= 0x0101010101010101ull * flip;
	memcpy(d, &v, 8);
}

static inline __attribute__((always_inline)) void copy4(uint8_t *d, const uint8_t *s, uint8_t flip)
{
	uint32_t v;
	memcpy(&v, s, 4);
	v ^= 0x01010101u * flip;
	memcpy(d, &v, 4);
}

/* memcpy for the short runs of im2col (a 3×3 filter over 3 channels copies 9 bytes at a time,
 * over 16 channels 48, over 32 channels 96), XOR flip on every byte: 16-byte steps and a last
 * overlapping one (or two overlapping 8- or 4-byte copies), which the compiler turns into plain
 * loads and stores, where a call to memcpy cost more than the copy. Reads and writes exactly
 * [0, n). */
static inline __attribute__((always_inline)) void copy_run(uint8_t *dst, const uint8_t *src,
							  size_t n, uint8_t flip)
{
	if (n >= 16) {
		size_t i = 0;
		for (; i + 16 < n; i += 16)
			copy16(dst + i, src + i, flip);
		copy16(dst + n - 16, src + n - 16, flip);
	} else if (n >= 8 && n < 16) {
		copy8(dst, src, flip);
		copy8(dst + n - 8, src + n - 8, flip);
	} else if (n >= 4 && n < 8) {
		copy4(dst, src, flip);
		copy4(dst + n - 4, src + n - 4, flip);
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i] ^ flip;
	}
}

/* The im2col for dil_w = 1: the kh input rows are found once per output row of the tile, not per
 * pixel, and a pixel whose window lies inside the input in x copies (or widens) one run of
 * kw * in_ch values per filter row. On VWW's and MobileNetV1's first layer (3 input channels,
 * K = 27) the per-pixel address arithmetic of the generic loop was ~60 % of the layer. bytes and
 * flip are constants where it is inlined. */
static inline __attribute__((always_inline)) void im2col_rows(const struct conv_im2col *c, int pix0,
								    int rows, bool bytes, uint8_t flip,
								    uint8_t *a)
{
	const struct tensor *in = c->in;
	const bool is_signed = in->type == TT_INT8;
	const int in_h = in->dims[1], in_w = in->dims[2], in_ch = in->dims[3];
	const int kh = c->kh, kw = c->kw, stride_h = c->stride_h, stride_w = c->stride_w;
	const int dil_h = c->dil_h, out_h = c->out_h, out_w = c->out_w, k = c->k;
	const int pad_h = c->pad_h, pad_w = c->pad_w;
	const int32_t x_off = c->x_off;
	const gemm_widen_fn widen = c->widen;
	const size_t esize = bytes ? 1 : sizeof(int16_t), row_bytes = c->lda * esize;
	const size_t span = (size_t)kw * in_ch;
	const uint8_t zp = (uint8_t)-x_off ^ flip; /* the stored byte, either type */
	const uint8_t *src[CONV_IM2COL_MAX_KH];
	int b = pix0 / (out_h * out_w), oy = pix0 / out_w % out_h, ox = pix0 % out_w;
	for (int r = 0; r < rows;) {
		const int in_y0 = oy * stride_h - pad_h;
		for (int ky = 0; ky < kh; ky++) {
			const int iy = in_y0 + ky * dil_h;
			src[ky] = iy >= 0 && iy < in_h ? in->data + ((size_t)b * in_h + iy) * in_w * in_ch : NULL;
		}
		const int end = r + (out_w - ox < rows - r ? out_w - ox : rows - r);
		for (; r < end; r++, ox++) {
			uint8_t *row = a + (size_t)r * row_bytes, *dst = row;
			const int in_x0 = ox * stride_w - pad_w;
			if (in_x0 >= 0 && in_x0 + kw <= in_w) {
				const size_t off = (size_t)in_x0 * in_ch;
				for (int ky = 0; ky < kh; ky++, dst += span * esize) {
					if (src[ky] && bytes)
						copy_run(dst, src[ky] + off, span, flip);
					else if (src[ky])
						widen((int16_t *)(void *)dst, src[ky] + off, (int)span, is_signed, -x_off);
					else
						memset(dst, bytes ? zp : 0, span * esize);
				}
			} else {
				for (int ky = 0; ky < kh; ky++)
					for (int kx = 0; kx < kw; kx++, dst += (size_t)in_ch * esize) {
						const int ix = in_x0 + kx;
						if (!src[ky] || ix < 0 || ix >= in_w)
							memset(dst, bytes ? zp : 0, (size_t)in_ch * esize);
						else if (bytes)
							copy_run(dst, src[ky] + (size_t)ix * in_ch, (size_t)in_ch, flip);
						else
							widen((int16_t *)(void *)dst, src[ky] + (size_t)ix * in_ch, in_ch,
							      is_signed, -x_off);
					}
			}
			for (size_t i = (size_t)k * esize; i < row_bytes; i++) /* the K tail: a few bytes */
				row[i] = 0;
		}
		if (ox == out_w) {
			ox = 0;
			if (++oy == out_h) {
				oy = 0;
				b++;
			}
		}
	}
}

/* Rows of A for output pixels [pix0, pix0 + rows): the receptive field of each; rows past `rows`
 * up to `rows_padded` and the K tail are 0. int16 path: x minus the input zero point, 0 in the
 * padding. Dot path (bytes): x itself, the input zero point in the padding (so x - x_zp = 0 there,
 * as the reference skips it, and the row sums see the same bytes the dot products do). */
void conv_im2col(const struct conv_im2col *c, int pix0, int rows, int rows_padded, void *a)
{
	const struct tensor *in = c->in;
	const int kh = c->kh, kw = c->kw, stride_h = c->stride_h, stride_w = c->stride_w;
	const int dil_h = c->dil_h, dil_w = c->dil_w, out_h = c->out_h, out_w = c->out_w;
	const int pad_h = c->pad_h, pad_w = c->pad_w, k = c->k;
	const bool bytes = c->bytes;
	const size_t lda = c->lda;
	const gemm_widen_fn widen = c->widen; /* locals: the stores into a may alias c */
	const bool is_signed = in->type == TT_INT8;
	const int in_h = in->dims[1], in_w = in->dims[2], in_ch = in->dims[3];
	const size_t esize = bytes ? 1 : sizeof(int16_t), tap_bytes = (size_t)in_ch * esize;
	const int32_t x_off = c->x_off;
	const uint8_t x_zp_byte = (uint8_t)-x_off; /* the stored byte of the zero point, either type */
	/* 1×1, stride 1, no padding, K a whole number of pairs (most of MobileNetV2's layers): the
	 * tile's rows are consecutive input pixels, one contiguous run in both the input and A. */
	if (kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0 &&
	    lda == (size_t)in_ch) {
		const uint8_t *x = in->data + (size_t)pix0 * in_ch;
		if (bytes)
			memcpy(a, x, (size_t)rows * in_ch);
		else
			widen(a, x, rows * in_ch, is_signed, -x_off);
		memset((uint8_t *)a + (size_t)rows * lda * esize, 0, (size_t)(rows_padded - rows) * lda * esize);
		return;
	}
	if (dil_w == 1 && kh <= CONV_IM2COL_MAX_KH) {
		if (!bytes) /* three copies, each with constant bytes and flip */
			im2col_rows(c, pix0, rows, false, 0, (uint8_t *)a);
		else if (c->flip)
			im2col_rows(c, pix0, rows, true, 0x80, (uint8_t *)a);
		else
			im2col_rows(c, pix0, rows, true, 0, (uint8_t *)a);
		memset((uint8_t *)a + (size_t)rows * lda * esize, 0, (size_t)(rows_padded - rows) * lda * esize);
		return;
	}
	int b = pix0 / (out_h * out_w), oy = pix0 / out_w % out_h, ox = pix0 % out_w;
	for (int r = 0; r < rows_padded; r++) {
		uint8_t *row = (uint8_t *)a + (size_t)r * lda * esize;
		if (r >= rows) {
			memset(row, 0, lda * esize);
			continue;
		}
		if (r > 0 && ++ox == out_w) { /* stepped along instead of divided out per pixel */
			ox = 0;
			if (++oy == out_h) {
				oy = 0;
				b++;
			}
		}
		const int in_y0 = oy * stride_h - pad_h, in_x0 = ox * stride_w - pad_w;
		uint8_t *dst = row;
		for (int ky = 0; ky < kh; ky++) {
			const int iy = in_y0 + ky * dil_h;
			/* the filter row inside the input: its kw taps are one contiguous run */
			if (dil_w == 1 && iy >= 0 && iy < in_h && in_x0 >= 0 && in_x0 + kw <= in_w) {
				const size_t base = (((size_t)b * in_h + iy) * in_w + in_x0) * in_ch;
				const int span = kw * in_ch;
				if (bytes)
					copy_run(dst, in->data + base, (size_t)span, 0);
				else
					widen((int16_t *)(void *)dst, in->data + base, span, is_signed, -x_off);
				dst += (size_t)span * esize;
				continue;
			}
			for (int kx = 0; kx < kw; kx++, dst += tap_bytes) {
				const int ix = in_x0 + kx * dil_w;
				if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
					memset(dst, bytes ? x_zp_byte : 0, tap_bytes);
					continue;
				}
				const size_t base = (((size_t)b * in_h + iy) * in_w + ix) * in_ch;
				if (bytes)
					copy_run(dst, in->data + base, tap_bytes, 0);
				else
					widen((int16_t *)(void *)dst, in->data + base, in_ch, is_signed, -x_off);
			}
		}
		for (size_t i = (size_t)k * esize; i < lda * esize; i++) /* the K tail: a few bytes */
			row[i] = 0;
	}
}

