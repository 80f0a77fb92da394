/* retrain_quant.c — the float head as 8-bit FULLY_CONNECTED parameters, the way the TFLite
 * converter quantizes that op (see retrain.h): weights per tensor (symmetric int8 in [-127, 127]
 * on int8 bodies, asymmetric uint8 on uint8 bodies), int32 bias at input scale × weight scale,
 * logits quantized over the range the training set produced plus a margin. */
#include "inference/retrain_internal.h"
#include "lib/errbuf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int32_t clamp_round(double v, int32_t lo, int32_t hi)
{
	if (!(v > lo)) /* also NaN */
		return lo;
	if (v > hi)
		return hi;
	return (int32_t)lround(v);
}

int tflite_quantize_head(const struct rt_head *h, const struct rt_embedding *e, struct tflite_head_q *q, char *err,
			 size_t errlen)
{
	size_t n = (size_t)h->classes * (size_t)h->depth;
	bool s8 = e->type == ENG_INT8;
	q->type = s8 ? TT_INT8 : TT_UINT8;
	q->weights = malloc(n);
	q->bias = malloc((size_t)h->classes * sizeof(int32_t));
	if (!q->weights || !q->bias)
		return err_setf(err, errlen, -ENOMEM, "out of memory");
	float wmin = 0, wmax = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(h->weights[i]))
			return err_setf(err, errlen, -EINVAL, "head weight %zu is not finite", i);
		wmin = fminf(wmin, h->weights[i]);
		wmax = fmaxf(wmax, h->weights[i]);
	}
	if (s8) { /* symmetric, zero point 0, [-127, 127]: TFLite's int8 FULLY_CONNECTED weights */
		float m = fmaxf(-wmin, wmax);
		q->w_scale = m > 0 ? m / 127.0f : 1.0f;
		q->w_zp = 0;
		for (size_t i = 0; i < n; i++)
			q->weights[i] = (uint8_t)(int8_t)clamp_round(h->weights[i] / q->w_scale, -127, 127);
	} else {  /* asymmetric uint8 over a range holding 0, as the TF1 uint8 converter */
		q->w_scale = wmax > wmin ? (wmax - wmin) / 255.0f : 1.0f;
		q->w_zp = clamp_round(-wmin / q->w_scale, 0, 255);
		for (size_t i = 0; i < n; i++)
			q->weights[i] = (uint8_t)clamp_round(h->weights[i] / q->w_scale + q->w_zp, 0, 255);
	}
	double bias_scale = (double)e->scale * (double)q->w_scale;
	for (int k = 0; k < h->classes; k++)
		q->bias[k] = clamp_round(h->bias[k] / bias_scale, -INT32_MAX, INT32_MAX);
	/* Logits over the training range (holding 0) with a tenth more on each side for unseen
	 * images: a saturated logit only matters when two classes saturate together. */
	float lo = fminf(0, h->logit_min), hi = fmaxf(0, h->logit_max), margin = (hi - lo) * 0.1f;
	lo -= margin;
	hi += margin;
	if (!(hi > lo) || !isfinite(lo) || !isfinite(hi))
		return err_setf(err, errlen, -EINVAL, "head logit range [%g, %g] unusable", (double)lo, (double)hi);
	q->out_scale = (hi - lo) / 255.0f;
	q->out_zp = s8 ? clamp_round(-128 - lo / q->out_scale, -128, 127) : clamp_round(-lo / q->out_scale, 0, 255);
	return 0;
}

void tflite_head_q_free(struct tflite_head_q *q)
{
	free(q->weights);
	free(q->bias);
}

