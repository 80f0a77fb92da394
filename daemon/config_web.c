/* config_web.c — the [web] section: read by camclass-web, checked by the daemon's loader like
 * every other section (config_internal.h), so `camclassd --check-config` and camclass-web
 * agree on what a valid file is. The auth choice belongs to no module below the daemon, so its
 * name table lives here (yes/no is config_mqtt.c's cfg_yes_no_choices). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/config_internal.h"
#include "lib/macros.h"

static const char *const auth_names[] = { [CONFIG_WEB_AUTH_NONE] = "none",
					  [CONFIG_WEB_AUTH_TOKEN] = "token",
					  [CONFIG_WEB_AUTH_HTPASSWD] = "htpasswd" };

static int name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

static int auth_from_name(const char *name) { return name_index(auth_names, ARRAY_SIZE(auth_names), name); }
static const char *auth_name(int v) { return config_web_auth_name((enum config_web_auth)v); }

const struct choice_set cfg_web_auth_choices = { auth_from_name, auth_name,
						 CONFIG_WEB_AUTH_HTPASSWD + 1 };

const char *config_web_auth_name(enum config_web_auth a)
{
	return (unsigned)a < ARRAY_SIZE(auth_names) ? auth_names[a] : "?";
}

int config_parse_listen(const char *text, struct sockaddr_storage *ret, unsigned *ret_len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *host_start = text, *host_end;

	if (text[0] == '[') {
		host_end = strchr(text, ']');
		if (!host_end || host_end[1] != ':')
			return -EINVAL;
		host_start = text + 1;
		colon = host_end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		host_end = colon;
	}
	size_t host_len = (size_t)(host_end - host_start);
	const char *digits = colon + 1;
	size_t n_digits = strspn(digits, "0123456789");
	if (host_len == 0 || host_len >= sizeof(host) || n_digits == 0 || n_digits > 5 ||
	    digits[n_digits] != 0)
		return -EINVAL;
	long port = strtol(digits, NULL, 10);
	if (port > 65535)
		return -EINVAL;
	memcpy(host, host_start, host_len);
	host[host_len] = 0;
	struct sockaddr_storage sa = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
	if (text[0] != '[' && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*ret_len = sizeof(*in4);
	} else if (text[0] == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	*ret = sa;
	return 0;
}

void cfg_check_web(struct parse_ctx *ctx, int listen_line, int auth_line)
{
	const struct config *c = ctx->cfg;
	struct sockaddr_storage sa;
	unsigned sa_len;
	if (config_parse_listen(c->web.listen, &sa, &sa_len) < 0)
		cfg_set_error(ctx, listen_line, "web", "listen",
			      "'%s' is not ADDRESS:PORT (numeric IPv4 or [IPv6] address, port 0..65535)",
			      c->web.listen);
	if (c->web.auth != CONFIG_WEB_AUTH_NONE && !*c->web.auth_file)
		cfg_set_error(ctx, auth_line, "web", "auth", "auth = %s needs [web] auth_file = PATH",
			      config_web_auth_name(c->web.auth));
}
