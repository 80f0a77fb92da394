/* test_ops_requant.c — the tile output stage (inference/ops/fast/requant_tile*.c) against the portable
 * row stage (requant_row_portable, which the conv and depthwise reference loops share, value for
 * value): accumulators at both int32 extremes and in between, multipliers across [2^30, 2^31)
 * and 0, right shifts up to 31, tiles with and without left shifts (the kernel takes a separate
 * branch when a block has none), with and without bias, offsets and clamps of both types, channel
 * counts that leave every block and tail size, several rows with strides wider than the row. On a
 * CPU without a tile kernel, requant_tile_run() goes row by row through requant_select()'s kernel
 * and is checked the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "inference/ops/fast/gemm.h"
#include "inference/ops/fast/requant.h"
#include "inference/ops/fast/requant_tile.h"
#include "tests/testutil.h"

enum { MAX_CH = 83, MAX_ROWS = 5, LD_ACC = MAX_CH + 3, LD_OUT = MAX_CH + 5 };

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint32_t rnd(void)
{
	return tu_rand(&rng_state);
}

static int rnd_in(int lo, int hi) /* inclusive */
{
	return tu_rand_in(&rng_state, lo, hi);
}

static int32_t rnd_acc(void)
{
	switch (rnd() % 6) {
	case 0: return INT32_MIN + (int32_t)(rnd() % 3);
	case 1: return INT32_MAX - (int32_t)(rnd() % 3);
	case 2: return (int32_t)rnd_in(-3, 3);
	default: return (int32_t)(rnd() ^ (rnd() << 16));
	}
}

/* One tile of random values through `tile` (or row by row when NULL) against the portable rows. */
static void check_tiles(requant_tile_fn tile, requant_row_fn row, int iters)
{
	static int32_t acc[MAX_ROWS * LD_ACC], bias[MAX_CH], mult[MAX_CH];
	static int shift[MAX_CH];
	static uint8_t got[MAX_ROWS * LD_OUT], want[MAX_ROWS * LD_OUT];
	for (int it = 0; it < iters; it++) {
		const bool left_shifts = rnd() & 1;
		for (int i = 0; i < MAX_ROWS * LD_ACC; i++)
			acc[i] = rnd_acc();
		for (int c = 0; c < MAX_CH; c++) {
			bias[c] = rnd() % 4 ? (int32_t)(rnd() ^ (rnd() << 16)) >> (rnd() % 20) : INT32_MAX;
			mult[c] = rnd() % 50 ? (int32_t)((1u << 30) + (rnd() ^ (rnd() << 15)) % (1u << 30)) : 0;
			shift[c] = left_shifts && rnd() % 8 == 0 ? rnd_in(1, 8) : -rnd_in(0, 31);
		}
		const bool is_signed = rnd() & 1;
		const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
		const struct requant rq = {
			.bias = rnd() % 5 ? bias : NULL, .multiplier = mult, .shift = shift,
			.output_offset = rnd_in(lo, hi), .act_min = lo + rnd_in(0, 10),
			.act_max = hi - rnd_in(0, 10),
		};
		const int n = rnd_in(1, MAX_CH), rows = rnd_in(1, MAX_ROWS);
		memset(got, 0xa5, sizeof(got));
		memset(want, 0xa5, sizeof(want));
		for (int r = 0; r < rows; r++)
			requant_row_portable(&rq, acc + r * LD_ACC, n, is_signed, want + r * LD_OUT);
		requant_tile_run(tile, row, &rq, acc, LD_ACC, rows, n, is_signed, got, LD_OUT);
		/* the bytes between rows (past n) must be left alone as well */
		for (int i = 0; i < rows * LD_OUT; i++)
			if (got[i] != want[i])
				fail_msg("iteration %d (%s, %d rows x %d channels%s): byte %d is %u, portable %u",
					 it, is_signed ? "int8" : "uint8", rows, n,
					 left_shifts ? ", left shifts" : "", i, got[i], want[i]);
	}
}

static void tile_stage_equals_portable_rows(void **state)
{
	(void)state;
	const requant_tile_fn tile = requant_tile_select();
	printf("requant tile kernel: %s\n", tile ? "SIMD" : "none (row by row)");
	check_tiles(tile, requant_select(), 6000);
}

static void row_by_row_fallback_equals_portable_rows(void **state)
{
	(void)state;
	check_tiles(NULL, requant_select(), 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tile_stage_equals_portable_rows),
		cmocka_unit_test(row_by_row_fallback_equals_portable_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
