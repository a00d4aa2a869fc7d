#define _GNU_SOURCE
#include "convene_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

pid_t convene_spawn_runner(const char *path, char *const argv[], char *const envp[], int *server_end) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    /* dup2 onto 3 clears close-on-exec (unless the end already is 3: move it first). */
    int child_end = pair[1];
    if (child_end == 3) {
        child_end = fcntl(pair[1], F_DUPFD_CLOEXEC, 4);
        close(pair[1]);
        if (child_end < 0) {
            close(pair[0]);
            return -1;
        }
    }
    posix_spawn_file_actions_adddup2(&actions, child_end, 3);
    /* In a process group of its own, a runner reading the terminal would be stopped (SIGTTIN).
     * Its output goes nowhere: the server's log is not the plugin's to write or truncate (a
     * plugin logs through the host, paced and named). */
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 4);
    sigset_t defaults, none;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGHUP);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setsigmask(&attributes, &none);
    /* A process group of its own, which the server ends whole: processes a plugin forks end
     * with their runner, and are not left behind holding memory. */
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    pid_t pid;
    int failed = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(child_end);
    if (failed != 0) {
        close(pair[0]);
        errno = failed;
        return -1;
    }
    *server_end = pair[0];
    return pid;
}
