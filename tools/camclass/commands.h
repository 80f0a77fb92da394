/* commands.h — the subcommands of the camclass tool, one file each (tools/camclass/cmd_*.c).
 * main.c dispatches argv[1]; every command gets argc/argv starting at its own name and returns
 * the process exit status: 0 ok, 1 error from the daemon or the input, 2 cannot connect (client
 * commands) or usage error. */
#ifndef CAMCLASS_TOOLS_COMMANDS_H
#define CAMCLASS_TOOLS_COMMANDS_H

/* offline (inference engine) */
int cmd_infer(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_model_info(int argc, char **argv);
int cmd_retrain(int argc, char **argv);

/* client of the daemon (ipc) — socket path from --socket before the command, or the default */
int cmd_client(const char *socket_path, int argc, char **argv);
/* live teaching: teach, samples, forget, train (cmd_teach.c) */
int cmd_teach_client(const char *socket_path, int argc, char **argv);

#endif
