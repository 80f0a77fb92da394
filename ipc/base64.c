/* base64.c — RFC 4648 base64 for snapshot frames (server encodes, clients decode; wire.h).
 *
 * jansson has no binary type, so JPEG bytes travel as a base64 string. Decoding is strict
 * (alphabet, padding, length multiple of 4) because its input comes from the socket. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "ipc/wire.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *wire_base64_encode(const uint8_t *data, size_t len, size_t *ret_len)
{
	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	size_t out_len = (len + 2) / 3 * 4;
	char *out = malloc(out_len + 1), *p = out;
	if (!out)
		return NULL;
	size_t i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
		*p++ = alphabet[v >> 18 & 63];
		*p++ = alphabet[v >> 12 & 63];
		*p++ = alphabet[v >> 6 & 63];
		*p++ = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);
		*p++ = alphabet[v >> 18 & 63];
		*p++ = alphabet[v >> 12 & 63];
		*p++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		*p++ = '=';
	}
	*p = 0;
	*ret_len = out_len;
	return out;
}

static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int wire_base64_decode(const char *text, size_t len, uint8_t **ret_data, size_t *ret_len)
{
	if (len % 4 != 0)
		return -EINVAL;
	size_t pad = 0;
	if (len >= 4 && text[len - 1] == '=')
		pad = text[len - 2] == '=' ? 2 : 1;
	uint8_t *out = malloc(len / 4 * 3 + 1), *p = out;
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		int s[4];
		bool last = i + 4 == len;
		for (int k = 0; k < 4; k++) {
			bool is_pad = last && k >= 4 - (int)pad;
			s[k] = is_pad ? 0 : sextet(text[i + k]);
			if (s[k] < 0)
				goto bad;
		}
		uint32_t v = (uint32_t)s[0] << 18 | (uint32_t)s[1] << 12 | (uint32_t)s[2] << 6 |
			     (uint32_t)s[3];
		*p++ = (uint8_t)(v >> 16);
		if (!last || pad < 2)
			*p++ = (uint8_t)(v >> 8);
		if (!last || pad < 1)
			*p++ = (uint8_t)v;
	}
	*ret_data = out;
	*ret_len = (size_t)(p - out);
	return 0;
bad:
	free(out);
	return -EINVAL;
}
