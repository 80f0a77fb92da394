/* dwrow.c — the row path of narrow DEPTHWISE_CONV_2D layers (dwrow.h): layout and packing at
 * prepare, phase rows and the row loop at run time. The arithmetic is dwpair.h's kernel and
 * requant_tile.h's output stage; this file only arranges their inputs. */
#include "inference/ops/fast/dwrow.h"

#include <string.h>

#include "inference/ops/fast/dwconv.h"
#include "inference/ops/fast/dwpair.h"
#include "inference/ops/fast/requant_tile.h"

struct dwrow {
	struct dwrow_geom g;
	int taps, lanes, lanes16;   /* lanes = out_w * ch; lanes16 rounded up to a dwpair block */
	int wblocks;                /* dwpair blocks in the weight pattern: max(16, ch) / 16 */
	int rq_lanes;               /* lanes per requantization row: lcm(ch, DWROW_RQ_LANES) */
	int phase_px;               /* pixels in one phase row */
	size_t row_bytes;           /* bytes of one phase row, a multiple of 64 */
	int nslots;                 /* cached input rows per worker: the filter's height span */
	size_t worker_bytes;        /* one worker's scratch */
	int nworkers;
	int pad_h, pad_w;
	int32_t x_off;              /* -input zero point */
	uint8_t zp_byte;            /* the stored byte of the input zero point */
	dwpair_pixel_fn pair;
	requant_tile_fn requant_tile;
	requant_row_fn requant;
	struct requant rq;          /* over rq_lanes lanes in the period-ch pattern */
	int16_t *wp;                /* dwpair_pack_tiled over wblocks * 16 lanes */
	int32_t *init;              /* wblocks * 16 */
	uint8_t *zp_row;            /* row_bytes of the zero point: an input row outside the input */
	uint8_t *scratch;           /* nworkers × worker_bytes */
};

static size_t line64(size_t bytes)
{
	return (bytes + 63) & ~(size_t)63;
}

static int pattern_lanes(int ch)
{
	return ch < DWPAIR_BLOCK ? DWPAIR_BLOCK : ch;
}

static int rq_lanes_of(int ch)
{
	return ch < DWROW_RQ_LANES ? DWROW_RQ_LANES : ch % DWROW_RQ_LANES ? 2 * ch : ch;
}

/* Sizes that depend on the shape only; false when the layer does not qualify. */
static bool dwrow_shape(const struct dwrow_geom *geo, int *ret_lanes16, int *ret_phase_px,
			size_t *ret_row_bytes, int *ret_nslots, size_t *ret_worker_bytes)
{
	const int ch = geo->ch, taps = geo->kh * geo->kw;
	/* Wider layers only at stride 1 and 4+ pixels a row: there the per-pixel kernel's setup
	 * weighs more than the row copies (callgrind, VWW and MobileNetV1: 32-128 channels at stride
	 * 2 took 7-20 % more instructions by rows, at stride 1 9-43 % fewer). */
	const bool wide_ok = ch % DWPAIR_BLOCK == 0 &&
			     (ch == DWPAIR_BLOCK || (geo->stride_w == 1 && geo->out_w >= 4));
	if (!dwpair_select() || (ch != 1 && ch != 2 && ch != 4 && ch != 8 && !wide_ok) ||
	    ch > DWROW_MAX_CH || taps > DW_FAST_MAX_TAPS ||
	    geo->out_w <= 0 || geo->out_w > DWROW_MAX_LANES / ch || geo->in_ch <= 0 || ch % geo->in_ch)
		return false;
	const int lanes16 = (geo->out_w * ch + DWPAIR_BLOCK - 1) / DWPAIR_BLOCK * DWPAIR_BLOCK;
	/* a tap starts (kx*dil)/stride pixels into its phase row and reads lanes16 bytes on */
	const int phase_px = lanes16 / ch + (geo->kw - 1) * geo->dil_w / geo->stride_w;
	const size_t row_bytes = line64((size_t)phase_px * ch);
	const int nslots = (geo->kh - 1) * geo->dil_h + 1;
	*ret_lanes16 = lanes16;
	*ret_phase_px = phase_px;
	*ret_row_bytes = row_bytes;
	*ret_nslots = nslots;
	/* tags, accumulators, then nslots × stride_w phase rows */
	*ret_worker_bytes = line64((size_t)nslots * sizeof(int)) + line64((size_t)lanes16 * sizeof(int32_t)) +
			    (size_t)nslots * geo->stride_w * row_bytes;
	return true;
}

size_t dwrow_bytes(const struct dwrow_geom *geo, int nworkers)
{
	int lanes16, phase_px, nslots;
	size_t row_bytes, worker_bytes;
	if (!dwrow_shape(geo, &lanes16, &phase_px, &row_bytes, &nslots, &worker_bytes))
		return 0;
	const int taps = geo->kh * geo->kw, pl = pattern_lanes(geo->ch), rl = rq_lanes_of(geo->ch);
	return 64 + line64(sizeof(struct dwrow)) + line64(dwpair_packed_elems(taps, pl) * sizeof(int16_t)) +
	       line64((size_t)pl * sizeof(int32_t)) + 3 * line64((size_t)rl * sizeof(int32_t)) + row_bytes +
	       (size_t)nworkers * worker_bytes;
}

struct dwrow *dwrow_init(void *mem, const struct dwrow_geom *geo, int nworkers,
			 const int32_t *w32, const struct ku_conv_stage *q, const int32_t *bias)
{
	struct dwrow *r = (struct dwrow *)line64((size_t)mem);
	int lanes16, phase_px, nslots;
	size_t row_bytes, worker_bytes;
	dwrow_shape(geo, &lanes16, &phase_px, &row_bytes, &nslots, &worker_bytes);
	r->g = *geo;
	r->taps = geo->kh * geo->kw;
	r->lanes = geo->out_w * geo->ch;
	r->lanes16 = lanes16;
	r->phase_px = phase_px;
	r->row_bytes = row_bytes;
	r->nslots = nslots;
	r->worker_bytes = worker_bytes;
	r->pad_h = q->pad_h;
	r->pad_w = q->pad_w;
	r->x_off = q->input_offset;
	r->zp_byte = (uint8_t)-q->input_offset;
	r->pair = dwpair_select();
	r->requant_tile = requant_tile_select();
	r->requant = requant_select();
	const int pl = pattern_lanes(geo->ch), rl = rq_lanes_of(geo->ch);
	r->wblocks = pl / DWPAIR_BLOCK;
	r->rq_lanes = rl;
	uint8_t *at = (uint8_t *)r + line64(sizeof(*r));
	r->wp = (int16_t *)at;
	at += line64(dwpair_packed_elems(r->taps, pl) * sizeof(int16_t));
	r->init = (int32_t *)at;
	at += line64((size_t)pl * sizeof(int32_t));
	int32_t *mult = (int32_t *)at, *bias_rep = mult + line64((size_t)rl * sizeof(int32_t)) / 4;
	int *shift = (int *)(bias_rep + line64((size_t)rl * sizeof(int32_t)) / 4);
	at += 3 * line64((size_t)rl * sizeof(int32_t));
	for (int l = 0; l < rl; l++) {
		const int c = l % geo->ch;
		mult[l] = q->multiplier[c];
		shift[l] = q->shift[c];
		bias_rep[l] = bias ? bias[c] : 0;
	}
	r->rq = (struct requant){
		.bias = bias ? bias_rep : NULL, .multiplier = mult, .shift = shift,
		.output_offset = q->output_offset, .act_min = q->act_min, .act_max = q->act_max,
	};
	r->zp_row = at;
	at += row_bytes;
	r->scratch = at;
	r->nworkers = nworkers;
	dwpair_pack_tiled(r->wp, r->init, w32, r->taps, geo->ch, pl, q->input_offset);
	memset(r->zp_row, r->zp_byte, row_bytes);
	return r;
}

/* Phase rows of input row xrow (in_w pixels of in_ch bytes) into dst (stride_w rows of
 * row_bytes): padded pixel p = ix + pad_w goes to row p % stride_w, pixel p / stride_w; pixels
 * outside the input are zero-point bytes; each input byte is repeated dm times. */
static void dwrow_phase(const struct dwrow *r, const uint8_t *xrow, uint8_t *dst)
{
	const int s = r->g.stride_w, ch = r->g.ch, in_ch = r->g.in_ch, in_w = r->g.in_w;
	const int dm = ch / in_ch;
	for (int ph = 0; ph < s; ph++) {
		uint8_t *d = dst + (size_t)ph * r->row_bytes;
		for (int q = 0; q < r->phase_px; q++, d += ch) {
			const int ix = ph + s * q - r->pad_w;
			if (ix < 0 || ix >= in_w) {
				memset(d, r->zp_byte, (size_t)ch);
				continue;
			}
			const uint8_t *x = xrow + (size_t)ix * in_ch;
			if (dm == 1 && s == 1) { /* the rest of the input row at once */
				const int n = in_w - ix < r->phase_px - q ? in_w - ix : r->phase_px - q;
				memcpy(d, x, (size_t)n * ch);
				q += n - 1;
				d += (size_t)(n - 1) * ch;
			} else if (dm == 1 && ch == 8) {
				memcpy(d, x, 8);
			} else if (dm == 1 && ch % 16 == 0) {
				for (int j = 0; j < ch; j += 16)
					memcpy(d + j, x + j, 16);
			} else if (dm == 1) {
				memcpy(d, x, (size_t)ch);
			} else if (in_ch == 1 && ch == 8) {
				const uint64_t v = 0x0101010101010101ull * x[0];
				memcpy(d, &v, 8);
			} else {
				for (int ic = 0; ic < in_ch; ic++)
					memset(d + (size_t)ic * dm, x[ic], (size_t)dm);
			}
		}
	}
}

void dwrow_begin(const struct dwrow *r)
{
	for (int w = 0; w < r->nworkers; w++) {
		int *tag = (int *)(void *)(r->scratch + (size_t)w * r->worker_bytes);
		for (int i = 0; i < r->nslots; i++)
			tag[i] = -1;
	}
}

void dwrow_run(const struct dwrow *r, int worker, int row0, int row1, const uint8_t *in,
	       uint8_t *out, bool is_signed)
{
	const struct dwrow_geom *g = &r->g;
	uint8_t *ws = r->scratch + (size_t)worker * r->worker_bytes;
	int *tag = (int *)(void *)ws; /* batch * in_h + iy of the row in each slot, -1: none */
	int32_t *acc = (int32_t *)(void *)(ws + line64((size_t)r->nslots * sizeof(int)));
	uint8_t *slots = ws + line64((size_t)r->nslots * sizeof(int)) +
			 line64((size_t)r->lanes16 * sizeof(int32_t));
	const size_t slot_bytes = (size_t)g->stride_w * r->row_bytes;
	const uint8_t *xs[DW_FAST_MAX_TAPS];
	for (int row = row0; row < row1; row++) {
		const int b = row / g->out_h, oy = row % g->out_h;
		const int iy0 = oy * g->stride_h - r->pad_h;
		for (int ky = 0; ky < g->kh; ky++) {
			const int iy = iy0 + ky * g->dil_h;
			const uint8_t *phases = r->zp_row; /* every phase of a padding row is the zp row */
			size_t phase_step = 0;
			if (iy >= 0 && iy < g->in_h) {
				const int slot = iy % r->nslots, key = b * g->in_h + iy;
				uint8_t *s = slots + (size_t)slot * slot_bytes;
				if (tag[slot] != key) {
					dwrow_phase(r, in + ((size_t)b * g->in_h + iy) * g->in_w * g->in_ch, s);
					tag[slot] = key;
				}
				phases = s;
				phase_step = r->row_bytes;
			}
			for (int kx = 0; kx < g->kw; kx++) {
				const int o = kx * g->dil_w;
				xs[ky * g->kw + kx] = phases + (size_t)(o % g->stride_w) * phase_step +
						      (size_t)(o / g->stride_w) * g->ch;
			}
		}
		r->pair(acc, xs, r->taps, r->lanes16, is_signed, r->wp, r->init, r->wblocks, NULL, r->x_off);
		uint8_t *o = out + (size_t)row * r->lanes;
		const int rl = r->rq_lanes, full = r->lanes / rl, rest = r->lanes % rl;
		requant_tile_run(r->requant_tile, r->requant, &r->rq, acc, (size_t)rl, full, rl, is_signed,
				 o, (size_t)rl);
		if (rest) /* starts at a pixel boundary: the pattern's lane 0 is channel 0 */
			requant_tile_run(r->requant_tile, r->requant, &r->rq, acc + (size_t)full * rl, 0, 1,
					 rest, is_signed, o + (size_t)full * rl, 0);
	}
}
