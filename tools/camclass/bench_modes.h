/* bench_modes.h — the two extra measurements of `camclass bench` (bench_modes.c):
 *   --per-op        each operator's share of an inference (eng_invoke_profiled);
 *   --image FILE [--format mjpeg|yuyv|nv12]   (a JPEG; yuyv/nv12 also take a BMP)
 *                   the daemon's whole frame path per frame — decode, preprocess, inference —
 *                   with each stage's wall and CPU time (CPU of every thread of the process, so
 *                   a pool's polling counts), as issue #18's CPU-per-frame yardstick.
 * Single-threaded tool code; prints to stdout; errors to stderr, returning 1 (as commands do). */
#ifndef CAMCLASS_TOOLS_BENCH_MODES_H
#define CAMCLASS_TOOLS_BENCH_MODES_H

#include <stdbool.h>

#include "inference/engine.h"

struct bench_modes {
	bool per_op;
	const char *image;      /* NULL: the engine alone on a pseudo-random input */
	const char *format;     /* "mjpeg" (default), "yuyv" or "nv12": how the frame arrives */
};

/* Takes the options above out of argv (shifting the rest down, *argc updated) so the common
 * parser sees only its own. -EINVAL (message printed) for a missing value or unknown format. */
int bench_modes_take(int *argc, char **argv, struct bench_modes *ret);

/* iters profiled inferences on e's current input; prints one line per step, slowest first, and
 * a `per_op_total_ms=` line. 0 or 1. */
int bench_per_op(struct engine *e, int iters);

/* warmup + iters frames of m->image through decode, preprocess and e (crop center, resize area:
 * the daemon's defaults); prints min and median per stage and a `frame format=F decode_cpu_ms=
 * preprocess_cpu_ms= inference_cpu_ms= cpu_ms= frame_share=` line (CPU medians; frame_share =
 * (decode + preprocess) / inference). 0 or 1. */
int bench_frame(struct engine *e, const struct bench_modes *m, int iters, int warmup);

#endif
