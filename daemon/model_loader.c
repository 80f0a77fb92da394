/* model_loader.c — pl_model_load() on a thread; see model_loader.h for the contract.
 *
 * The thread owns a copy of the config struct (whose strings it owns) and writes its result
 * into the loader, then signals an eventfd; the main loop joins it from ml_finish(). There is
 * no cancellation: a load ends by itself (the engine bounds a hostile model's cost before it
 * allocates), and a daemon asked to stop meanwhile waits for it in ml_finish(). */
#include "daemon/model_loader.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"

struct model_loader {
	pthread_t thread;
	int done_fd;
	struct config cfg;
	struct classifier *model;
	int result;
	char err[CONFIG_ERR_MAX];
};

static void *load_main(void *arg)
{
	struct model_loader *ml = arg;
	uint64_t one = 1;
	ml->result = pl_model_load(&ml->cfg, &ml->model, ml->err, sizeof(ml->err));
	if (write(ml->done_fd, &one, sizeof(one)) != sizeof(one))
		log_warning("model loader: cannot signal the main loop: %m");
	return NULL;
}

int ml_start(struct config *cfg, struct model_loader **ret_loader)
{
	struct model_loader *ml = calloc(1, sizeof(*ml));
	if (!ml)
		return log_errno(LOG_ERR, ENOMEM, "reload: cannot start the model loader");
	ml->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ml->done_fd < 0) {
		int r = log_errno(LOG_ERR, errno, "reload: eventfd for the model loader");
		free(ml);
		return r;
	}
	ml->cfg = *cfg;
	int r = pthread_create(&ml->thread, NULL, load_main, ml);
	if (r) {
		close(ml->done_fd);
		free(ml);
		return log_errno(LOG_ERR, r, "reload: cannot start the model loader thread");
	}
	memset(cfg, 0, sizeof(*cfg));   /* moved: the thread owns it now */
	*ret_loader = ml;
	return 0;
}

int ml_fd(const struct model_loader *ml)
{
	return ml->done_fd;
}

int ml_finish(struct model_loader *ml, struct config *ret_cfg, struct classifier **ret_model,
	      char *err, size_t errlen)
{
	pthread_join(ml->thread, NULL);
	int r = ml->result;
	*ret_cfg = ml->cfg;
	*ret_model = r < 0 ? NULL : ml->model;
	if (r < 0)
		snprintf(err, errlen, "%s", ml->err);
	close(ml->done_fd);
	free(ml);
	return r;
}
