/*
 * Starting a plugin runner process: a socket pair whose one end becomes the child's fd 3,
 * every other descriptor closed in the child, default signal handling, no blocked signals.
 */
#ifndef CONVENE_SPAWN_H
#define CONVENE_SPAWN_H

#include <sys/types.h>

/* Starts `path` with `argv` and `envp` (NULL-terminated), its standard streams on /dev/null. Returns the
 * child's pid and sets *socket to the server's end of the pair (close-on-exec); -1 with
 * errno on failure. */
pid_t convene_spawn_runner(const char *path, char *const argv[], char *const envp[], int *socket);

#endif
