/* retrain_fit.c — softmax regression for a new classifier head. See retrain.h.
 *
 * Why full batch and not SGD: a few hundred embeddings fit in cache, the problem is convex, and
 * a full-batch method reaches the same optimum a reference solver (scikit-learn's
 * LogisticRegression) reaches, without learning-rate tuning, with no randomness to seed, and
 * in a second on a Pi for the sizes teaching produces. Nesterov's accelerated gradient with a
 * backtracking step (the step halves until the sufficient-decrease test holds) and a restart
 * when the objective goes up is ~60 lines and robust on any scale of features. It stops early
 * when the objective moved less than a millionth over 20 steps (deterministic too).
 * Features are centred per feature and divided by one common scale (the root of the mean
 * per-feature variance), so l2 means the same on any base, and the scaling is folded back into
 * the weights and bias at the end, so the head applies to the raw dequantized embedding the
 * model computes. One scale for all, not one per feature: dividing a near-constant feature by
 * its tiny deviation would give it a huge weight after folding, and one huge weight ruins the
 * per-tensor int8 quantization of all the others. The objective:
 *   J = Σ c_i·CE_i / Σ c_i + l2/2·||W_scaled||²,  c_i = n / (classes · n_{y_i})  (class-balanced)
 * which is scikit-learn's LogisticRegression(C = 1/(n·l2), class_weight="balanced") on the
 * scaled features, up to a constant factor. */
#include "inference/retrain.h"
#include "lib/errbuf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIT_PROGRESS_EVERY 25
#define FIT_MAX_BACKTRACK 60
#define FIT_CONVERGED_WINDOW 20    /* steps between convergence checks */
#define FIT_CONVERGED_REL 1e-6     /* relative decrease over a window that counts as converged */

struct problem {
	const float *z;           /* n × d standardised features */
	const int *y;
	const double *c;          /* per-sample weight / Σ weights */
	size_t n;
	int k, d;
	double l2;
	float *logits;            /* k scratch */
};

/* theta = [W (k×d), b (k)]. Returns J; fills grad (same layout) when grad != NULL. */
static double objective(const struct problem *p, const float *theta, float *grad)
{
	const int k = p->k, d = p->d;
	const float *w = theta, *b = theta + (size_t)k * d;
	double loss = 0;
	if (grad)
		memset(grad, 0, ((size_t)k * d + k) * sizeof(float));
	for (size_t i = 0; i < p->n; i++) {
		const float *zi = p->z + i * (size_t)d;
		float m = -INFINITY;
		for (int c = 0; c < k; c++) {
			const float *wc = w + (size_t)c * d;
			float acc = b[c];
			for (int j = 0; j < d; j++)
				acc += wc[j] * zi[j];
			p->logits[c] = acc;
			m = fmaxf(m, acc);
		}
		double sum = 0;
		for (int c = 0; c < k; c++)
			sum += exp((double)(p->logits[c] - m));
		loss += p->c[i] * ((double)m + log(sum) - (double)p->logits[p->y[i]]);
		if (!grad)
			continue;
		for (int c = 0; c < k; c++) {
			double prob = exp((double)(p->logits[c] - m)) / sum;
			float g = (float)(p->c[i] * (prob - (c == p->y[i])));
			float *gc = grad + (size_t)c * d;
			for (int j = 0; j < d; j++)
				gc[j] += g * zi[j];
			grad[(size_t)k * d + c] += g;
		}
	}
	double reg = 0;
	for (size_t j = 0; j < (size_t)k * d; j++) {
		reg += (double)w[j] * w[j];
		if (grad)
			grad[j] += (float)(p->l2 * w[j]);
	}
	return loss + 0.5 * p->l2 * reg;
}

static double sq_norm(const float *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)v[i] * v[i];
	return s;
}

/* Accelerated gradient descent from theta = 0; the solution is left in theta. */
static double solve(const struct problem *p, float *theta, const struct rt_fit_options *opt, float *work)
{
	const size_t np = (size_t)p->k * p->d + p->k;
	float *yv = work, *g = work + np, *next = work + 2 * np;
	double lip = 1.0, t = 1.0, f_theta = objective(p, theta, NULL), f_window = f_theta;
	memcpy(yv, theta, np * sizeof(float));
	for (int it = 1; it <= opt->iterations; it++) {
		double f_y = objective(p, yv, g), gn = sq_norm(g, np), f_next = f_y;
		if (gn < 1e-14)
			break;
		for (int bt = 0; bt < FIT_MAX_BACKTRACK; bt++) {
			for (size_t j = 0; j < np; j++)
				next[j] = yv[j] - (float)(g[j] / lip);
			f_next = objective(p, next, NULL);
			if (f_next <= f_y - 0.5 * gn / lip)
				break;
			lip *= 2;
		}
		if (f_next > f_theta) { /* restart: momentum overshot */
			t = 1.0;
			memcpy(yv, theta, np * sizeof(float));
			lip *= 2;
			continue;
		}
		double t_next = (1 + sqrt(1 + 4 * t * t)) / 2, mom = (t - 1) / t_next;
		for (size_t j = 0; j < np; j++) {
			yv[j] = next[j] + (float)(mom * (next[j] - theta[j]));
			theta[j] = next[j];
		}
		t = t_next;
		if (it % FIT_CONVERGED_WINDOW == 0) {
			/* converged: the objective barely moved over the last window of steps */
			if (f_window - f_next <= FIT_CONVERGED_REL * (f_next > 1 ? f_next : 1)) {
				f_theta = f_next;
				if (opt->progress)
					opt->progress(it, f_theta, opt->ctx);
				break;
			}
			f_window = f_next;
		}
		f_theta = f_next;
		lip *= 0.9; /* let the step grow again where the function is flatter */
		if (opt->progress && (it % FIT_PROGRESS_EVERY == 0 || it == opt->iterations))
			opt->progress(it, f_theta, opt->ctx);
	}
	return f_theta;
}

static int check_inputs(const float *x, const int *y, size_t n, int classes, int depth,
			const struct rt_fit_options *opt, size_t *count, char *err, size_t errlen)
{
	if (classes < 2 || classes > RT_MAX_CLASSES || depth < 1 || depth > 32768 || n < 2)
		return err_setf(err, errlen, -EINVAL, "fit: %zu samples of %d features in %d classes: need >= 2 samples, "
			     "2..%d classes", n, depth, classes, RT_MAX_CLASSES);
	if (!(opt->l2 >= 0) || !isfinite(opt->l2) || opt->iterations < 1)
		return err_setf(err, errlen, -EINVAL, "fit: l2 %g / iterations %d out of range", opt->l2, opt->iterations);
	for (size_t i = 0; i < n; i++) {
		if (y[i] < 0 || y[i] >= classes)
			return err_setf(err, errlen, -EINVAL, "fit: sample %zu has class %d of %d", i, y[i], classes);
		count[y[i]]++;
	}
	for (size_t i = 0; i < n * (size_t)depth; i++)
		if (!isfinite(x[i]))
			return err_setf(err, errlen, -EINVAL, "fit: feature %zu of sample %zu is not finite", i % depth,
				     i / depth);
	for (int c = 0; c < classes; c++)
		if (count[c] == 0)
			return err_setf(err, errlen, -EINVAL, "fit: class %d has no training sample", c);
	return 0;
}

int rt_fit(const float *x, const int *y, size_t n, int classes, int depth,
	   const struct rt_fit_options *opt, struct rt_head *ret_head, char *err, size_t errlen)
{
	const size_t np = (size_t)classes * depth + classes;
	size_t *count = calloc((size_t)classes + 1, sizeof(size_t));
	float *mean = calloc((size_t)depth, sizeof(float)), *inv_sd = calloc((size_t)depth, sizeof(float));
	float *z = NULL, *theta = NULL, *work = NULL, *logits = NULL;
	double *c = NULL;
	struct rt_head h = { .classes = classes, .depth = depth };
	int r = 0;
	if (!count || !mean || !inv_sd) {
		r = err_setf(err, errlen, -ENOMEM, "fit: out of memory");
		goto out;
	}
	r = check_inputs(x, y, n, classes, depth, opt, count, err, errlen);
	if (r < 0)
		goto out;
	z = malloc(n * (size_t)depth * sizeof(float));
	c = malloc(n * sizeof(double));
	theta = calloc(np, sizeof(float));
	work = malloc(3 * np * sizeof(float));
	logits = malloc((size_t)classes * sizeof(float));
	h.weights = malloc((size_t)classes * depth * sizeof(float));
	h.bias = malloc((size_t)classes * sizeof(float));
	if (!z || !c || !theta || !work || !logits || !h.weights || !h.bias) {
		r = err_setf(err, errlen, -ENOMEM, "fit: out of memory for %zu samples of %d features", n, depth);
		goto out;
	}
	double var_sum = 0;
	for (int j = 0; j < depth; j++) {
		double s = 0, s2 = 0;
		for (size_t i = 0; i < n; i++)
			s += x[i * depth + j];
		double m = s / (double)n;
		for (size_t i = 0; i < n; i++)
			s2 += (x[i * depth + j] - m) * (x[i * depth + j] - m);
		mean[j] = (float)m;
		var_sum += s2 / (double)n;
	}
	double sd = sqrt(var_sum / depth);
	for (int j = 0; j < depth; j++)
		inv_sd[j] = sd > 1e-9 ? (float)(1.0 / sd) : 1.0f;
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < depth; j++)
			z[i * depth + j] = (x[i * depth + j] - mean[j]) * inv_sd[j];
	for (size_t i = 0; i < n; i++) /* c_i / Σ c = 1 / (classes · n_{y_i}) */
		c[i] = 1.0 / ((double)classes * (double)count[y[i]]);
	struct problem p = { .z = z, .y = y, .c = c, .n = n, .k = classes, .d = depth, .l2 = opt->l2,
			     .logits = logits };
	h.loss = solve(&p, theta, opt, work);
	for (int k = 0; k < classes; k++) {
		double bias = theta[(size_t)classes * depth + k];
		for (int j = 0; j < depth; j++) {
			float wz = theta[(size_t)k * depth + j];
			h.weights[(size_t)k * depth + j] = wz * inv_sd[j];
			bias -= (double)wz * inv_sd[j] * mean[j];
		}
		h.bias[k] = (float)bias;
	}
	h.logit_min = INFINITY;
	h.logit_max = -INFINITY;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < classes; k++) {
			float l = h.bias[k];
			for (int j = 0; j < depth; j++)
				l += h.weights[(size_t)k * depth + j] * x[i * depth + j];
			h.logit_min = fminf(h.logit_min, l);
			h.logit_max = fmaxf(h.logit_max, l);
		}
	*ret_head = h;
	h.weights = h.bias = NULL;
out:
	free(h.weights);
	free(h.bias);
	free(count);
	free(mean);
	free(inv_sd);
	free(z);
	free(c);
	free(theta);
	free(work);
	free(logits);
	return r;
}

int rt_head_predict(const struct rt_head *h, const float *x)
{
	int best = 0;
	float best_l = -INFINITY;
	for (int k = 0; k < h->classes; k++) {
		float l = h->bias[k];
		for (int j = 0; j < h->depth; j++)
			l += h->weights[(size_t)k * h->depth + j] * x[j];
		if (l > best_l) {
			best_l = l;
			best = k;
		}
	}
	return best;
}

void rt_head_free(struct rt_head *h)
{
	free(h->weights);
	free(h->bias);
	memset(h, 0, sizeof(*h));
}
