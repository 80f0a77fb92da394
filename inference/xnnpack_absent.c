/* xnnpack_absent.c — the XNNPACK backend's functions in a build without XNNPACK (make XNNPACK=0,
 * or no libxnnpack-dev): the engine calls them unconditionally, so a build without the library
 * needs no #ifdef anywhere else. Creating a delegate fails with a message naming the build
 * option; with no delegate, every other function says "nothing delegated". The real ones are in
 * xnnpack.c (see xnnpack.h for the contract). */
#include "inference/xnnpack.h"

#include <errno.h>
#include <stdio.h>

#ifndef CAMCLASS_HAVE_XNNPACK

bool xnnpack_available(void)
{
	return false;
}

int xnnpack_delegate_create(struct graph *g, int threads, struct xnnpack_delegate **ret_delegate,
			    char *err, size_t errlen)
{
	(void)g;
	(void)threads;
	(void)ret_delegate;
	snprintf(err, errlen, "backend xnnpack is not built in (this build has XNNPACK=0)");
	return -ENOTSUP;
}

int xnnpack_delegate_run(struct xnnpack_delegate *d, struct graph *g, int node, int *ret_next_node)
{
	(void)d;
	(void)g;
	(void)node;
	(void)ret_next_node;
	return 0;
}

int xnnpack_delegate_pool_parked(const struct xnnpack_delegate *d)
{
	(void)d;
	return 0;
}

const char *xnnpack_delegate_error(const struct xnnpack_delegate *d)
{
	(void)d;
	return NULL;
}

int xnnpack_delegate_bind(struct xnnpack_delegate *d, const struct graph *g, char *err, size_t errlen)
{
	(void)d;
	(void)g;
	(void)err;
	(void)errlen;
	return 0;
}

bool xnnpack_delegate_tensor_internal(const struct xnnpack_delegate *d, int tensor)
{
	(void)d;
	(void)tensor;
	return false;
}

bool xnnpack_delegate_covers(const struct xnnpack_delegate *d, int node)
{
	(void)d;
	(void)node;
	return false;
}

void xnnpack_delegate_stats(const struct xnnpack_delegate *d, int *ret_delegated_nodes,
			    int *ret_runtimes)
{
	(void)d;
	*ret_delegated_nodes = 0;
	*ret_runtimes = 0;
}

void xnnpack_delegate_free(struct xnnpack_delegate *d)
{
	(void)d;
}

#endif /* !CAMCLASS_HAVE_XNNPACK */
