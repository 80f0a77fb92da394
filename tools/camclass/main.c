/* camclass — the client of camclassd and the offline model tool, in one binary.
 *
 * Offline: infer, bench, classify, model-info (no daemon needed).
 * Client:  [--socket PATH] status | latest | watch | classify | snapshot | ping.
 * "classify" with --model is the offline image classifier; without it, it asks the daemon. */
#include <stdio.h>
#include <string.h>

#include "ipc/wire.h"
#include "lib/log.h"
#include "tools/camclass/commands.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: camclass [--socket PATH] COMMAND [ARGS]\n"
		"\n"
		"client of camclassd (socket default " WIRE_DEFAULT_SOCKET "):\n"
		"  status | latest | ping | classify\n"
		"  watch [--top-k K] [--threshold T] [--on-change] [--once] [--json]\n"
		"  snapshot -o FILE\n"
		"  teach LABEL [--count N] | samples | forget LABEL [--id ID] | train   (docs/teach.md)\n"
		"\n"
		"offline model tools:\n"
		"  infer --model M --input IN.bin --output OUT.bin [--backend B] [--threads N]\n"
		"  bench --model M [--backend B] [--threads N] [--iters K] [--warmup W]\n"
		"        [--per-op] [--image FILE.jpg [--format mjpeg|yuyv|nv12]]\n"
		"  classify --model M --labels L [--top-k K] [--json] IMAGE...\n"
		"  model-info --model M\n"
		"  retrain --base BASE --data DIR --out NEW.tflite [--labels-out L] [--val-split F]\n"
		"          [--epochs N] [--l2 X] [--augment N] [--threads N] [--backend B]\n"
		"          [--embedding TENSOR] [--seed S] [--json]   (see docs/teach.md)\n");
}

static int has_arg(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *socket_path = WIRE_DEFAULT_SOCKET;
	int i = 1;

	log_init();
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			socket_path = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			socket_path = argv[i] + 9;
			i++;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "camclass: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	argc -= i;
	argv += i;

	if (strcmp(argv[0], "infer") == 0)
		return cmd_infer(argc, argv);
	if (strcmp(argv[0], "bench") == 0)
		return cmd_bench(argc, argv);
	if (strcmp(argv[0], "model-info") == 0)
		return cmd_model_info(argc, argv);
	if (strcmp(argv[0], "retrain") == 0)
		return cmd_retrain(argc, argv);
	if (strcmp(argv[0], "classify") == 0 && has_arg(argc, argv, "--model"))
		return cmd_classify(argc, argv);
	if (strcmp(argv[0], "teach") == 0 || strcmp(argv[0], "samples") == 0 || strcmp(argv[0], "forget") == 0 ||
	    strcmp(argv[0], "train") == 0)
		return cmd_teach_client(socket_path, argc, argv);
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return 0;
	}
	return cmd_client(socket_path, argc, argv);
}
