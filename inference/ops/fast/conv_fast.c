/* conv_fast.c — the fast CONV_2D path (conv_fast.h): the same accumulators as conv.c's reference
 * loops computed as one GEMM (gemm.h): weights minus their zero point packed as int16 at
 * prepare, tiles of CONV_TILE output pixels gathered (im2col; for 1×1 stride-1 convolutions just
 * a widening copy) minus the input zero point into a per-worker int16 scratch, then the
 * reference's bias add and requantization per value, a whole tile at a time (requant_tile.h).
 * Padding contributes 0, exactly as the reference skips it. Output pixels (or, on layers with few
 * pixels, channel blocks) are split across the workers of g->kernel_ctx (workers_run_shared);
 * each worker owns its scratch, allocated at prepare.
 * On arm64 CPUs with the dot-product instructions, and x86-64 CPUs with AVX-512 VNNI, the GEMM
 * is an 8-bit one instead (gemm.h and gemm_dotprod.c; gemm8.h): weights packed as bytes, the
 * im2col copies bytes and fills the padding with the input zero point (1×1 stride-1 layers read
 * the input in place), and the zero points are corrected exactly per row and per channel.
 * A tile's GEMM and requantization run CONV_CHUNK_BLOCKS channel blocks at a time, into an
 * accumulator scratch of 32 × 64 int32 (8 KiB): whole-width accumulators (32 × 144 int32 =
 * 18 KiB on MobileNetV2's 56×56×144 layers, 48 KiB at 384 channels) shared the 32 KiB L1 with
 * the tile's input, weights and output, and on two threads one worker ran up to 1.75× slower per
 * pixel than the other depending on where its scratch fell (56×56×144: 1.52× instead of 1.97× of
 * 1 thread; 28×28×192: 1.51× instead of 1.92×; same speed on 1 thread). */
#include <stdbool.h>
#include <string.h>

#include "inference/ops/fast/conv_fast.h"
#include "inference/ops/fast/conv_im2col.h"
#include "inference/ops/fast/gemm.h"
#include "inference/ops/fast/gemm8.h"
#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/ops/fast/requant.h"
#include "inference/ops/fast/requant_tile.h"
#include "inference/ops/fast/workers.h"

#define CONV_TILE 32 /* output pixels per GEMM tile (a multiple of GEMM_MR) */
/* Below this many output pixels per worker, workers split the channels instead. */
#define CONV_SPLIT_MIN_PIXELS 64
/* Channel blocks (GEMM_NR channels each) per GEMM call and accumulator chunk of a tile. */
#define CONV_CHUNK_BLOCKS 4

struct conv_fast {
	int k, k_pairs, nblocks, nworkers;
	gemm_s16_fn gemm;
	requant_row_fn requant;
	requant_tile_fn requant_tile; /* NULL: row by row with requant */
	gemm_widen_fn widen;
	int16_t *b;             /* packed weights (gemm_pack_b) */
	int16_t *a;             /* nworkers × CONV_TILE × 2*k_pairs activation scratch */
	int32_t *c;             /* nworkers × CONV_TILE × chunk_blocks*GEMM_NR accumulators */
	/* The 8-bit dot path (dot != NULL) uses these instead of gemm, widen, b and a. */
	gemm_dot_fn dot;
	gemm_dot_rowsum_fn rowsum;
	int k_quads;
	int32_t row_coef;       /* row_corr = row_coef * sum x (0: row_corr stays 0) */
	uint8_t a_flip;         /* 0x80: im2col flips the top bit of x (conv_dot_select) */
	uint8_t *b8;            /* packed weights (gemm_dot_pack_b) */
	uint8_t *a8;            /* nworkers × CONV_TILE × 4*k_quads bytes of x */
	int32_t *col_corr;      /* nblocks*GEMM_NR: -x_zp * sum (w - w_zp) */
	int32_t *row_corr;      /* nworkers × CONV_TILE */
};

static size_t align64(size_t v)
{
	return (v + 63) & ~(size_t)63;
}

/* Channel blocks in one accumulator chunk of a layer with nblocks blocks. */
static size_t chunk_blocks(size_t nblocks)
{
	return nblocks < CONV_CHUNK_BLOCKS ? nblocks : CONV_CHUNK_BLOCKS;
}

/* Bytes of the fast-path block following the params (0 when the fast path is off); dot: the
 * layout of the 8-bit dot path. */
static size_t layout_bytes(int out_ch, int k, int nworkers, bool dot)
{
	if (!ops_fast_kernels())
		return 0;
	const size_t k_pairs = ((size_t)k + 1) / 2, nblocks = ((size_t)out_ch + GEMM_NR - 1) / GEMM_NR;
	const size_t k_quads = ((size_t)k + 3) / 4;
	const size_t acc =
		align64((size_t)nworkers * CONV_TILE * chunk_blocks(nblocks) * GEMM_NR * sizeof(int32_t));
	if (dot)
		return align64(sizeof(struct conv_fast)) + align64(gemm_dot_packed_bytes(out_ch, k)) +
		       align64((size_t)nworkers * CONV_TILE * k_quads * 4) + acc +
		       align64(nblocks * GEMM_NR * sizeof(int32_t)) +
		       align64((size_t)nworkers * CONV_TILE * sizeof(int32_t)) + 64;
	return align64(sizeof(struct conv_fast)) + align64(gemm_packed_bytes(out_ch, k)) +
	       align64((size_t)nworkers * CONV_TILE * k_pairs * 2 * sizeof(int16_t)) + acc + 64;
}

/* The 8-bit GEMM of this CPU, if any, and how it is fed. */
struct conv_dot {
	gemm_dot_fn dot;        /* NULL: the int16 GEMM */
	gemm_dot_rowsum_fn rowsum;
	int32_t row_coef;
	void (*pack)(uint8_t *dst, int32_t *ret_col_corr, const uint8_t *w, int is_signed,
		     int32_t x_zp, int32_t w_zp, int out_ch, int k);
	uint8_t a_flip;
};

/* int8 weights as they are (signed bytes), col_corr for x + 128 (conv_dot_select). */
static void pack_int8_for_flipped_x(uint8_t *dst, int32_t *ret_col_corr, const uint8_t *w,
				    int is_signed, int32_t x_zp, int32_t w_zp, int out_ch, int k)
{
	(void)is_signed;
	(void)w_zp;
	gemm_dot_pack_b(dst, ret_col_corr, w, 1, x_zp + 128, 0, out_ch, k);
}

/* flip_ok: every tile of the layer goes through conv_im2col.c's byte rows (never read in place). Then an
 * int8 layer on gemm8.h's GEMM skips the per-pixel row sums: im2col stores x + 128 (the byte with
 * its top bit flipped, unsigned), the weights stay signed, and gemm8's uint8 kernel (A unsigned,
 * B signed) sums (x + 128) * w = x * w + 128 * w; the reference's sum of (x - x_zp) * w is that
 * plus col_corr = -(x_zp + 128) * sum w, a per-channel term (x_zp + 128 <= 255 keeps gemm.c's
 * bound on col_corr; |(x + 128) * w| <= 255 * 128 as in gemm8.h). Padded taps hold x_zp + 128 and
 * add (x_zp + 128) * w, which col_corr takes away again, as the reference skips them; the K tail
 * meets zero weights. */
static void conv_dot_select(bool is_signed, int32_t w_zp, bool flip_ok, struct conv_dot *ret)
{
	if ((ret->dot = gemm_dot_select(is_signed, &ret->rowsum))) {
		ret->row_coef = -w_zp; /* gemm.h: row_corr = -w_zp * sum x */
		ret->pack = gemm_dot_pack_b;
	} else if (is_signed && flip_ok && (ret->dot = gemm8_select(false, &ret->rowsum))) {
		ret->row_coef = 0;
		ret->pack = pack_int8_for_flipped_x;
		ret->a_flip = 0x80;
	} else if ((ret->dot = gemm8_select(is_signed, &ret->rowsum))) {
		ret->row_coef = gemm8_row_coef(is_signed, w_zp);
		ret->pack = gemm8_pack_b;
	}
}

/* Lays out the fast-path block in mem (conv_fast_bytes, zeroed) and packs the weights. */
static struct conv_fast *layout_init(void *mem, const struct tensor *in,
				     const struct tensor *filter, int out_ch, int k, int nworkers,
				     const struct conv_dot *d)
{
	const bool is_signed = in->type == TT_INT8;
	uint8_t *at = (uint8_t *)align64((size_t)mem);
	struct conv_fast *f = (struct conv_fast *)at;
	f->k = k;
	f->k_pairs = (k + 1) / 2;
	f->k_quads = (k + 3) / 4;
	f->nblocks = (out_ch + GEMM_NR - 1) / GEMM_NR;
	f->nworkers = nworkers;
	f->requant = requant_select();
	f->requant_tile = requant_tile_select();
	at += align64(sizeof(*f));
	if (d->dot) {
		f->dot = d->dot;
		f->rowsum = d->rowsum;
		f->row_coef = d->row_coef;
		f->a_flip = d->a_flip;
		f->b8 = at;
		at += align64(gemm_dot_packed_bytes(out_ch, k));
		f->a8 = at;
		at += align64((size_t)nworkers * CONV_TILE * f->k_quads * 4);
		f->c = (int32_t *)at;
		at += align64((size_t)nworkers * CONV_TILE * chunk_blocks((size_t)f->nblocks) * GEMM_NR *
			      sizeof(int32_t));
		f->col_corr = (int32_t *)at;
		at += align64((size_t)f->nblocks * GEMM_NR * sizeof(int32_t));
		f->row_corr = (int32_t *)at;
		d->pack(f->b8, f->col_corr, filter->data, is_signed, in->zero_point,
			is_signed ? 0 : filter->zero_point, out_ch, k);
		return f;
	}
	f->gemm = gemm_select();
	f->widen = gemm_widen_select();
	f->b = (int16_t *)at;
	at += align64(gemm_packed_bytes(out_ch, k));
	f->a = (int16_t *)at;
	at += align64((size_t)nworkers * CONV_TILE * f->k_pairs * 2 * sizeof(int16_t));
	f->c = (int32_t *)at;
	gemm_pack_b(f->b, filter->data, is_signed, is_signed ? 0 : filter->zero_point, out_ch, k);
	return f;
}

/* The 8-bit path where the CPU has one and K keeps its sums in int32 (gemm_dotprod.c, gemm8.h; as
 * conv.c's CONV_MAX_TERMS is the same bound, every filter its prepare accepts qualifies). */
static void conv_fast_dot(const struct tensor *in, const struct tensor *filter, int k,
			  bool flip_ok, struct conv_dot *ret)
{
	*ret = (struct conv_dot){ 0 };
	if (ops_fast_kernels() && k <= GEMM_DOT_MAX_K)
		conv_dot_select(in->type == TT_INT8, in->type == TT_INT8 ? 0 : filter->zero_point,
				flip_ok, ret);
}

size_t conv_fast_bytes(const struct tensor *in, const struct tensor *filter, int out_ch, int k,
		       int nworkers)
{
	struct conv_dot d; /* the layout is the same with or without the flip */
	conv_fast_dot(in, filter, k, false, &d);
	return layout_bytes(out_ch, k, nworkers, d.dot != NULL);
}

struct conv_fast *conv_fast_init(void *mem, const struct tensor *in, const struct tensor *filter,
				 int out_ch, int k, int nworkers, const struct node *n)
{
	const int kh = filter->dims[1], kw = filter->dims[2];
	const bool in_place = kh == 1 && kw == 1 && n->opt.conv.stride_h == 1 &&
			      n->opt.conv.stride_w == 1 && (k + 3) / 4 * 4 == in->dims[3];
	struct conv_dot d;
	conv_fast_dot(in, filter, k, !in_place && n->opt.conv.dilation_w == 1 && kh <= CONV_IM2COL_MAX_KH,
		      &d);
	return layout_init(mem, in, filter, out_ch, k, nworkers, &d);
}

struct conv_job {
	const struct graph *g;
	const struct node *n;
	bool split_pixels;      /* units are output pixels, else channel blocks */
};

/* Units [u0, u1) of the job: output pixels (all channels) or channel blocks (all pixels). */
static void conv_fast_range(void *arg, int worker, int u0, int u1)
{
	const struct conv_job *job = arg;
	const struct graph *g = job->g;
	const struct node *n = job->n;
	const struct conv_params *p = n->params;
	const struct conv_fast *f = p->fast;
	const struct tensor *bias = n->ninputs > 2 && n->inputs[2] >= 0 ? &g->tensors[n->inputs[2]] : NULL;
	const struct tensor *out = &g->tensors[n->outputs[0]];
	const bool is_signed = out->type == TT_INT8;
	const int out_ch = out->dims[3];
	const int npix = out->dims[0] * out->dims[1] * out->dims[2];
	const size_t lda = f->dot ? (size_t)f->k_quads * 4 : (size_t)f->k_pairs * 2;
	const size_t chunk_ch = chunk_blocks((size_t)f->nblocks) * GEMM_NR;
	int16_t *a = f->dot ? NULL : f->a + (size_t)worker * CONV_TILE * lda;
	uint8_t *a8 = f->dot ? f->a8 + (size_t)worker * CONV_TILE * lda : NULL;
	int32_t *row_corr = f->dot ? f->row_corr + (size_t)worker * CONV_TILE : NULL;
	int32_t *c = f->c + (size_t)worker * CONV_TILE * chunk_ch;
	const struct tensor *in = &g->tensors[n->inputs[0]], *filter = &g->tensors[n->inputs[1]];
	const int in_ch = in->dims[3];
	const bool in_place = f->dot && filter->dims[1] == 1 && filter->dims[2] == 1 &&
			      n->opt.conv.stride_h == 1 && n->opt.conv.stride_w == 1 && p->q.pad_h == 0 &&
			      p->q.pad_w == 0 && lda == (size_t)in_ch;
	const struct requant rq = requant_of(&p->q, bias ? (const int32_t *)bias->data : NULL);
	const struct conv_im2col ic = {
		.in = in, .kh = filter->dims[1], .kw = filter->dims[2],
		.stride_h = n->opt.conv.stride_h, .stride_w = n->opt.conv.stride_w,
		.dil_h = n->opt.conv.dilation_h, .dil_w = n->opt.conv.dilation_w,
		.pad_h = p->q.pad_h, .pad_w = p->q.pad_w, .out_h = out->dims[1], .out_w = out->dims[2],
		.k = f->k, .lda = lda, .bytes = f->dot != NULL, .flip = f->a_flip,
		.x_off = p->q.input_offset, .widen = f->widen,
	};
	int p0 = 0, p1 = npix, nb0 = 0, nb1 = f->nblocks;
	if (job->split_pixels) {
		p0 = u0;
		p1 = u1;
	} else {
		nb0 = u0;
		nb1 = u1;
	}
	for (int pix0 = p0; pix0 < p1; pix0 += CONV_TILE) {
		const int rows = p1 - pix0 < CONV_TILE ? p1 - pix0 : CONV_TILE;
		const int rows_padded = (rows + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
		/* The 8-bit GEMM reads whole rows of a 1×1 stride-1 layer's input in place. */
		const uint8_t *a_tile = a8;
		if (in_place && rows == rows_padded)
			a_tile = in->data + (size_t)pix0 * in_ch;
		else
			conv_im2col(&ic, pix0, rows, rows_padded, f->dot ? (void *)a8 : (void *)a);
		/* row_coef * sum x per pixel, shared by all channels; |.| <= 255 * 255 * K < 2^31 */
		if (f->dot && f->row_coef) {
			f->rowsum(rows_padded, (int)lda, a_tile, lda, is_signed, row_corr);
			for (int r = 0; r < rows_padded; r++)
				row_corr[r] *= f->row_coef;
		}
		for (int nc0 = nb0; nc0 < nb1; nc0 += CONV_CHUNK_BLOCKS) {
			const int nc1 = nb1 - nc0 < CONV_CHUNK_BLOCKS ? nb1 : nc0 + CONV_CHUNK_BLOCKS;
			const size_t ldc = (size_t)(nc1 - nc0) * GEMM_NR;
			if (f->dot)
				f->dot(rows_padded, f->k_quads, a_tile, lda,
				       f->b8 + (size_t)nc0 * f->k_quads * GEMM_NR * 4, nc1 - nc0, row_corr,
				       f->col_corr + (size_t)nc0 * GEMM_NR, c, ldc);
			else
				f->gemm(rows_padded, f->k_pairs, a, lda,
					f->b + (size_t)nc0 * f->k_pairs * GEMM_NR * 2, nc1 - nc0, c, ldc);
			const int ch0 = nc0 * GEMM_NR, ch1 = nc1 * GEMM_NR < out_ch ? nc1 * GEMM_NR : out_ch;
			struct requant sub = rq;
			if (sub.bias)
				sub.bias += ch0;
			sub.multiplier += ch0;
			sub.shift += ch0;
			requant_tile_run(f->requant_tile, f->requant, &sub, c, ldc, rows, ch1 - ch0,
					 is_signed, out->data + (size_t)pix0 * out_ch + ch0, (size_t)out_ch);
		}
	}
}

void conv_fast_invoke(struct graph *g, const struct node *n)
{
	const struct conv_params *p = n->params;
	const struct tensor *out = &g->tensors[n->outputs[0]];
	const int npix = out->dims[0] * out->dims[1] * out->dims[2];
	const int nworkers = workers_count(g->kernel_ctx);
	/* Many pixels: the units are output pixels, in whole tiles (the shares start as equal
	 * contiguous ranges: each worker's output is mostly the range the next op's worker
	 * reads). Few (the 7×7 layers, the classifier's single one): channel blocks, each
	 * over all pixels. */
	struct conv_job job = {
		.g = g, .n = n,
		.split_pixels = npix >= CONV_SPLIT_MIN_PIXELS * nworkers || p->fast->nblocks < nworkers,
	};
	/* A channel piece gathers (and row-sums) all its pixels again: about two pieces per
	 * worker keep that repeat small and still leave pieces to take over. */
	const int block_grain = p->fast->nblocks / (2 * nworkers);
	workers_run_shared(g->kernel_ctx, conv_fast_range, &job,
			   job.split_pixels ? npix : p->fast->nblocks,
			   job.split_pixels ? CONV_TILE : (block_grain > 1 ? block_grain : 1),
			   (long long)tensor_num_elements(out) * p->fast->k);
}
