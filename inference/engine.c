/* engine.c — eng_load() ties the pieces together: map the file, read it (model.c), refuse what
 * is not an image classifier or has ops no kernel runs (engine_check.c), turn fp16 and
 * dynamic-range weights into float32 constants (engine_fold.c), order the nodes (plan.c), hand
 * XNNPACK the runs it takes (xnnpack.c), let the kernel of each node left to the builtin backend
 * (8-bit or float32 by the node's tensor types, ops_find_for()) check it and prepare its
 * parameters, then place the activations the engine itself touches in one arena (plan.c) — only
 * once every shape has been checked, so a hostile shape never gets memory. The order keeps peak
 * memory low: XNNPACK packs its weights before any builtin packing exists, and the model file's
 * pages are dropped as soon as nothing needs them resident.
 * eng_invoke() is then a plain loop over prepared nodes: no allocation, no checks left to do.
 *
 * Every load error is reported once, in err, prefixed by the model's path (or name). */
#include "inference/engine.h"
#include "inference/engine_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inference/graph.h"
#include "inference/metadata.h"
#include "inference/model.h"
#include "inference/ops/ops.h"
#include "inference/ops/fast/workers.h"
#include "inference/plan.h"
#include "inference/xnnpack.h"
#include "lib/errbuf.h"

/* Activation memory a model may ask for: ENG_ARENA_PER_MODEL_BYTE times its file size, at least
 * ENG_MIN_ARENA_LIMIT, at most ENG_MAX_ARENA_BYTES. Real image classifiers need far less than
 * their weights (MobileNetV2: 1.6 MB of activations for 3.6 MB of weights on the builtin
 * backend; every model in ../shared/models stays under 0.5×), while a hostile shape in a 300 KB file could otherwise
 * claim 1 GiB before anything else noticed. Fuzz builds keep the cap small so that a hostile
 * shape is refused here instead of exhausting the fuzzer's memory limit. */
#define ENG_MIN_ARENA_LIMIT ((size_t)32 << 20)
#define ENG_ARENA_PER_MODEL_BYTE 16
#ifdef CAMCLASS_FUZZ
#define ENG_MAX_ARENA_BYTES ((size_t)64 << 20)
#else
#define ENG_MAX_ARENA_BYTES ((size_t)1 << 30)
#endif

static size_t arena_limit(size_t model_bytes)
{
	size_t limit = ENG_MIN_ARENA_LIMIT;
	if (model_bytes > limit / ENG_ARENA_PER_MODEL_BYTE)
		limit = model_bytes > ENG_MAX_ARENA_BYTES / ENG_ARENA_PER_MODEL_BYTE
				? ENG_MAX_ARENA_BYTES : model_bytes * ENG_ARENA_PER_MODEL_BYTE;
	return limit < ENG_MAX_ARENA_BYTES ? limit : ENG_MAX_ARENA_BYTES;
}

static int check_options(const struct eng_options *opt, const char *name, char *err, size_t errlen)
{
	if (opt->threads < 1)
		return err_setf(err, errlen, -EINVAL, "%s: threads must be at least 1 (got %d)", name, opt->threads);
	switch (opt->backend) {
	case ENG_BACKEND_AUTO:
	case ENG_BACKEND_BUILTIN:
		return 0;
	case ENG_BACKEND_XNNPACK:
		if (!xnnpack_available())
			return err_setf(err, errlen, -ENOTSUP, "%s: backend xnnpack not available in this build", name);
		return 0;
	default:
		return err_setf(err, errlen, -EINVAL, "%s: unknown backend %d", name, (int)opt->backend);
	}
}

/* Drops the model file's pages from our resident set (a read-only private file mapping: a page
 * touched again is read back from the page cache, so only memory accounting changes). Not for
 * eng_load_memory()'s private copy, whose anonymous pages would come back as zeros. */
static void drop_file_pages(struct engine *e)
{
	if (e->map)
		(void)madvise(e->map, e->map_len, MADV_DONTNEED);
}

static int prepare_nodes(struct engine *e, const char *name, char *err, size_t errlen)
{
	char msg[256];
	e->kernels = calloc((size_t)(e->g.nnodes ? e->g.nnodes : 1), sizeof(*e->kernels));
	if (!e->kernels)
		return err_setf(err, errlen, -ENOMEM, "%s: out of memory", name);
	for (int i = 0; i < e->g.nnodes; i++) {
		struct node *n = &e->g.nodes[i];
		const struct op_kernel *k = ops_find_for(&e->g, n);
		if (!k || n->version > k->max_version) /* eng_check_ops() ran: cannot happen */
			return err_setf(err, errlen, -ENOTSUP, "%s: operator %d has no kernel", name, n->index);
		e->kernels[i] = k;
		/* A node XNNPACK runs is never invoked here, and its tensors inside the runtime have
		 * no buffers: preparing it would only pack a second copy of its weights (the delegate
		 * checked the node itself, xnnpack_nodes.c). */
		if (xnnpack_delegate_covers(e->xnn, i))
			continue;
		msg[0] = 0;
		int rc = k->prepare(&e->g, n, msg, sizeof(msg));
		if (rc < 0)
			return err_setf(err, errlen, rc, "%s: operator %d (%s v%d): %s", name, n->index, k->name,
				     n->version, msg[0] ? msg : "prepare failed");
		/* The weights it just packed are not read again: without their file pages the load
		 * peaks at the packed copies plus one layer's weights, not plus all of them
		 * (MobileNetV2: 1.2 MB less peak RSS in the daemon). */
		drop_file_pages(e);
	}
	return 0;
}

/* The builtin kernels' thread pool, when some node runs on them (the kernels size their
 * per-worker scratch at prepare, so it comes first). With XNNPACK the pool is pthreadpool's. */
static int start_workers(struct engine *e, const char *name, char *err, size_t errlen)
{
	bool builtin_nodes = false;
	for (int i = 0; i < e->g.nnodes && !builtin_nodes; i++)
		builtin_nodes = !xnnpack_delegate_covers(e->xnn, i);
	if (e->threads < 2 || !builtin_nodes)
		return 0;
	int rc = workers_create(e->threads, &e->workers);
	if (rc < 0)
		return err_setf(err, errlen, rc, "%s: cannot start %d threads: %s", name, e->threads, strerror(-rc));
	e->g.kernel_ctx = e->workers;
	return 0;
}

/* Activation memory for every tensor the engine itself reads or writes: the tensors XNNPACK
 * keeps inside a runtime live in its workspace only (on MobileNetV2 the arena shrinks from
 * 1.6 MB to the input and the classifier's end). */
static int place_tensors(struct engine *e, size_t model_bytes, const char *name, char *err,
			 size_t errlen)
{
	char msg[256];
	bool *skip = NULL;
	int rc;
	if (e->xnn) {
		skip = calloc((size_t)e->g.ntensors + 1, sizeof(bool));
		if (!skip)
			return err_setf(err, errlen, -ENOMEM, "%s: out of memory", name);
		for (int t = 0; t < e->g.ntensors; t++)
			skip[t] = xnnpack_delegate_tensor_internal(e->xnn, t);
	}
	rc = plan_arena(&e->g, skip, arena_limit(model_bytes), &e->arena, &e->arena_bytes, msg,
			sizeof(msg));
	free(skip);
	if (rc >= 0)
		rc = xnnpack_delegate_bind(e->xnn, &e->g, msg, sizeof(msg));
	if (rc < 0)
		return err_setf(err, errlen, rc, "%s: %s", name, msg);
	return 0;
}

static int load_graph(struct engine *e, const uint8_t *buf, size_t len, const char *name,
		      const char *probe_name, char *err, size_t errlen)
{
	char msg[256];
	int rc = model_read(buf, len, &e->g, msg, sizeof(msg));
	if (rc < 0)
		return err_setf(err, errlen, rc, "%s: %s", name, msg);
	e->have_graph = true;
	e->file = buf;
	e->file_len = len;
	md_read(buf, len, &e->meta);
	rc = eng_check_classifier(&e->g, name, err, errlen);
	if (rc < 0)
		return rc;
	e->input = e->g.inputs[0];
	e->output = e->g.outputs[0];
	rc = eng_fold_constants(e, name, err, errlen);
	if (rc >= 0)
		rc = eng_check_ops(&e->g, name, err, errlen);
	if (rc >= 0 && probe_name)
		rc = eng_probe_attach(e, probe_name, name, err, errlen);
	if (rc < 0)
		return rc;
	rc = plan_order(&e->g, msg, sizeof(msg));
	if (rc < 0)
		return err_setf(err, errlen, rc, "%s: %s", name, msg);
	/* The delegate comes first, before any activation memory exists and before the builtin
	 * kernels pack anything: the nodes it takes need neither (peak RSS on MobileNetV2: see
	 * README "Inference backends"). It read every weight it took to pack its own copy, so the
	 * file's pages go right away, before the arena and the builtin kernels add theirs. */
	if (e->want_xnnpack) {
		rc = xnnpack_delegate_create(&e->g, e->threads, &e->xnn, msg, sizeof(msg));
		if (rc < 0)
			return err_setf(err, errlen, rc, "%s: %s", name, msg);
		drop_file_pages(e);
	}
	/* The kernels check every node's shapes (prepare) before the arena is sized from them: a
	 * hostile output shape is refused before it costs memory or time (issue #13: a 333 KB
	 * mutant claimed 757 MB and 13 s). prepare() reads only shapes and constant tensors, never
	 * activation buffers, so it does not need the arena. */
	rc = start_workers(e, name, err, errlen);
	if (rc >= 0)
		rc = prepare_nodes(e, name, err, errlen);
	if (rc >= 0)
		rc = place_tensors(e, len, name, err, errlen);
	return rc;
}

static int load_common(struct engine *e, const uint8_t *buf, size_t len, const char *name,
		       const struct eng_options *opt, struct engine **ret_engine, char *err, size_t errlen)
{
	static const struct eng_options defaults = { .backend = ENG_BACKEND_AUTO, .threads = 1 };
	if (!opt)
		opt = &defaults;
	int rc = check_options(opt, name, err, errlen);
	e->threads = opt->threads;
	e->probe = -1;
	/* AUTO takes XNNPACK when it is built in (issue 6: the fastest path by default); its
	 * outputs equal TFLite+XNNPACK's, a few LSB from the reference kernels. BUILTIN is the
	 * bit-exact choice. */
	e->want_xnnpack = opt->backend == ENG_BACKEND_XNNPACK ||
			  (opt->backend == ENG_BACKEND_AUTO && xnnpack_available());
	if (rc >= 0)
		rc = load_graph(e, buf, len, name, opt->probe_tensor, err, errlen);
	if (rc < 0) {
		eng_free(e);
		return rc;
	}
	/* prepare() read every weight once to pack it; most are not read again (the fast kernels use
	 * their packed copies), so their file pages can go too. Pages still used come back from the
	 * page cache on first touch. */
	drop_file_pages(e);
	e->backend = e->xnn ? ENG_BACKEND_XNNPACK : ENG_BACKEND_BUILTIN;
	e->threads = opt->threads;
	*ret_engine = e;
	return 0;
}

int eng_load(const char *path, const struct eng_options *opt, struct engine **ret_engine, char *err,
	     size_t errlen)
{
	struct stat st;
	struct engine *e;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_setf(err, errlen, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		int rc = -errno;
		close(fd);
		return err_setf(err, errlen, rc, "%s: cannot stat: %s", path, strerror(-rc));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_setf(err, errlen, -EINVAL, "%s: not a regular file", path);
	}
	if (st.st_size < 8 || (uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return err_setf(err, errlen, -EBADMSG, "%s: %lld bytes is not a TFLite model size", path,
			     (long long)st.st_size);
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		close(fd);
		return err_setf(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	e->map_len = (size_t)st.st_size;
	e->map = mmap(NULL, e->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (e->map == MAP_FAILED) {
		int rc = -errno;
		e->map = NULL;
		free(e);
		return err_setf(err, errlen, rc, "%s: cannot map: %s", path, strerror(-rc));
	}
	return load_common(e, e->map, e->map_len, path, opt, ret_engine, err, errlen);
}

int eng_load_memory(const void *buf, size_t len, const char *name, const struct eng_options *opt,
		    struct engine **ret_engine, char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return err_setf(err, errlen, -ENOMEM, "%s: out of memory", name);
	/* malloc's alignment (>= 16) keeps the file's aligned buffers aligned, as mmap would */
	e->copy = malloc(len ? len : 1);
	if (!e->copy) {
		free(e);
		return err_setf(err, errlen, -ENOMEM, "%s: out of memory for %zu bytes", name, len);
	}
	if (len)
		memcpy(e->copy, buf, len);
	return load_common(e, e->copy, len, name, opt, ret_engine, err, errlen);
}

void eng_free(struct engine *e)
{
	if (!e)
		return;
	xnnpack_delegate_free(e->xnn);
	workers_destroy(e->workers);
	if (e->have_graph)
		model_free_graph(&e->g);
	free(e->kernels);
	free(e->arena);
	if (e->map)
		munmap(e->map, e->map_len);
	free(e->copy);
	free(e);
}

int eng_invoke(struct engine *e)
{
	for (int i = 0; i < e->g.nnodes;) {
		int next = i + 1;
		int rc = xnnpack_delegate_run(e->xnn, &e->g, i, &next);
		if (rc < 0)
			return rc;
		if (rc == 0)
			e->kernels[i]->invoke(&e->g, &e->g.nodes[i]);
		i = next;
	}
	/* the next job is the next frame: let the builtin pool sleep instead of polling */
	workers_idle(e->workers);
	return 0;
}
