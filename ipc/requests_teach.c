/* requests_teach.c — the live-teaching requests (teach, samples, forget, train): handed to the
 * daemon's teach hook, whose reply fields go out under "type": <the command>. Kept out of
 * requests.c so the teaching protocol is in one place; the work and every bound are the
 * daemon's (daemon/teach_requests.c). */
#include <errno.h>

#include "ipc/protocol.h"
#include "ipc/server_internal.h"

static const char *error_code(int r)
{
	switch (-r) {
	case EINVAL: return "bad_request";
	case EBUSY: return "busy";
	case ENOSPC: return "limit";
	case ENODATA: return "no_samples";
	case ENOENT: return "not_found";
	default: return "unavailable";
	}
}

void srv_teach_request(struct server *srv, struct client *c, const struct proto_request *q)
{
	const char *cmd = proto_cmd_name(q->cmd);
	char err[256] = "teaching is not configured (no [teach] section)";
	json_t *fields = NULL, *msg;
	int r = srv->hooks.teach ? srv->hooks.teach(srv->hooks.teach_userdata, cmd, q->args, &fields, err, sizeof(err))
				 : -ENOTSUP;
	if (r < 0) {
		msg = proto_error_msg(error_code(r), err, q->id);
	} else {
		msg = proto_reply(cmd, q->id);
		if (msg && json_object_update(msg, fields) < 0) {
			json_decref(msg);
			msg = NULL;
		}
		json_decref(fields);
	}
	if (msg)
		srv_enqueue(srv, c, msg, false);
	json_decref(msg);
}
