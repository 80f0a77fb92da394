/* placeholder until the IPC client lands (issue 5) */
#include <stdio.h>
#include "tools/camclass/commands.h"
int cmd_client(const char *socket_path, int argc, char **argv) { (void)socket_path; (void)argc; fprintf(stderr, "camclass: %s is not built yet\n", argv[0]); return 2; }
