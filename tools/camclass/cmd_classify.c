/* placeholder until capture + preprocessing land (issue 4) */
#include <stdio.h>
#include "tools/camclass/commands.h"
int cmd_classify(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "camclass: classify is not built yet\n"); return 1; }
