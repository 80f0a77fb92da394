/* xnnpack.h — the XNNPACK backend: runs the parts of a prepared graph that XNNPACK supports as
 * XNNPACK subgraphs, and leaves the rest to the built-in kernels (the way TFLite's XNNPACK
 * delegate partitions a model). Internal to inference/: the engine uses it, users never do.
 *
 * The graph is cut, in execution order, into segments: maximal runs of supported nodes (CONV_2D,
 * DEPTHWISE_CONV_2D, ADD, spatial MEAN as global average pooling, RESHAPE, FULLY_CONNECTED with
 * per-tensor weights; fused activations; int8 activations with per-tensor or per-channel
 * weights, uint8 per-tensor) become one XNNPACK runtime each; every other node (SOFTMAX,
 * QUANTIZE, per-channel FULLY_CONNECTED, AVERAGE_POOL_2D — see xnnpack.c) stays a builtin node. A run of supported nodes that XNNPACK refuses at runtime creation falls back to the
 * builtin kernels as a whole (logged at debug level), so a model that loads also runs.
 *
 * Memory: the partitions' boundary tensors are bound to the graph's own buffers (the arena and
 * the engine's input/output), the tensors inside a partition live in XNNPACK's workspace only
 * (xnnpack_delegate_tensor_internal(): the engine gives them no arena memory). Everything is
 * allocated by xnnpack_delegate_create() and xnnpack_delegate_bind(); xnnpack_delegate_run()
 * allocates nothing. Weights are packed by XNNPACK at create time (the model's memory must
 * still outlive the delegate; so must the graph's quantization arrays). If the engine moves
 * tensor buffers after bind, run() notices and rebinds them.
 *
 * Threads: `threads` > 1 gives the delegate its own pthreadpool of that many threads (the caller
 * runs in it). One delegate per engine; used by one thread at a time.
 *
 * Without CAMCLASS_HAVE_XNNPACK (make XNNPACK=0) the functions still exist:
 * xnnpack_delegate_create() fails with -ENOTSUP and a message, the rest do nothing. */
#ifndef CAMCLASS_INFERENCE_XNNPACK_H
#define CAMCLASS_INFERENCE_XNNPACK_H

#include <stdbool.h>
#include <stddef.h>

#include "inference/graph.h"

struct xnnpack_delegate;

/* True when this build has the XNNPACK backend. */
bool xnnpack_available(void);

/* Partitions g (nodes already in execution order, plan_order()) and creates one XNNPACK runtime
 * per supported run of nodes. Activation buffers need not exist yet: the boundary tensors are
 * bound now if they have buffers, else by xnnpack_delegate_bind(). threads >= 1.
 * Returns 0, -ENOTSUP (not built in), -ENOMEM, or -EINVAL (threads < 1); err says what. A model
 * of which nothing is supported still gets a delegate (with no runtimes): every node then runs
 * on the builtin kernels. */
int xnnpack_delegate_create(struct graph *g, int threads, struct xnnpack_delegate **ret_delegate,
			    char *err, size_t errlen);

/* Call for each node index `node` of the execution order, in order. Returns 1 when an XNNPACK
 * segment starts at `node`: it ran it, and *ret_next_node is the first node after it. Returns 0
 * when `node` is a builtin node: the caller runs it with its kernel. Returns -EIO when XNNPACK
 * failed; xnnpack_delegate_error() then says where and why (nothing is logged here: the caller
 * decides). A NULL delegate returns 0. */
int xnnpack_delegate_run(struct xnnpack_delegate *d, struct graph *g, int node, int *ret_next_node);

/* The message of the last failed xnnpack_delegate_run(), or NULL if none failed. */
const char *xnnpack_delegate_error(const struct xnnpack_delegate *d);

/* Binds every runtime's boundary tensors to their buffers in g (call once buffers are placed;
 * XNNPACK sets up its operators here, not during the first run). 0, or -EINVAL with err set
 * when a boundary tensor has no buffer or XNNPACK refuses. A NULL delegate returns 0. */
int xnnpack_delegate_bind(struct xnnpack_delegate *d, const struct graph *g, char *err, size_t errlen);

/* True when tensor `tensor` is produced and consumed only inside one XNNPACK runtime, so it
 * needs no buffer of the graph's own. False for a NULL delegate or without XNNPACK. */
bool xnnpack_delegate_tensor_internal(const struct xnnpack_delegate *d, int tensor);

/* Threads of the delegate's pool asleep right now (xnnpack_pool.c); 0 without a pool. For tests
 * and diagnostics: after each run they go to sleep until the next frame. */
int xnnpack_delegate_pool_parked(const struct xnnpack_delegate *d);

/* True when node `node` (execution index) runs inside an XNNPACK runtime: its builtin kernel is
 * never invoked, so its prepared parameters are not needed after load. False without XNNPACK. */
bool xnnpack_delegate_covers(const struct xnnpack_delegate *d, int node);

/* Nodes handed to XNNPACK and the number of XNNPACK runtimes (for model-info and logs). */
void xnnpack_delegate_stats(const struct xnnpack_delegate *d, int *ret_delegated_nodes,
			    int *ret_runtimes);

void xnnpack_delegate_free(struct xnnpack_delegate *d);

#endif
