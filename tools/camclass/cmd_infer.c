/* placeholder until the inference engine lands (issue 3) */
#include <stdio.h>
#include "tools/camclass/commands.h"
static int not_yet(const char *what) { fprintf(stderr, "camclass: %s is not built yet\n", what); return 1; }
int cmd_infer(int argc, char **argv) { (void)argc; (void)argv; return not_yet("infer"); }
int cmd_bench(int argc, char **argv) { (void)argc; (void)argv; return not_yet("bench"); }
int cmd_model_info(int argc, char **argv) { (void)argc; (void)argv; return not_yet("model-info"); }
