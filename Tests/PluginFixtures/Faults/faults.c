/*
 * Fixture: a plugin with a fault per method, to show what the host makes of each.
 *   test.faults.Faults/Reflect    answers its request bytes as its Reply (valid or not)
 *   test.faults.Faults/BadStatus  returns the int32 in its first 4 request bytes (77 without)
 *   test.faults.Faults/Keep       keeps its call handle past its hook
 *   test.faults.Faults/UseKept    uses the handle Keep kept; answers what the host said
 *   test.faults.Faults/Crash      dereferences NULL (with a 4-byte N: after forking a child that lives N ms on)
 *   test.faults.Faults/Abort      calls abort()
 *   test.faults.Faults/Leak       allocates (and touches) as many MiB as its first request byte says, never freed
 *   test.faults.Faults/Hang       sleeps as many milliseconds as its first 4 request bytes say
 *   test.faults.Faults/Stall      (in a runner process only) stops its whole process (SIGSTOP): it reads nothing more
 *   test.faults.Faults/Forge      (in a runner process only) writes its request bytes to the runner's connection
 *                                 (fd 3), as a plugin that forges the runner's messages would
 *   test.faults.Faults/SlowUnload makes on_unload sleep as many milliseconds as its first 4 request bytes say
 *   test.faults.Faults/Escape     (in a runner process only) tries what a hostile library would: reads the file its
 *                                 request names, creates one beside it, opens the server's memory and environment,
 *                                 signals the server (signal 0: nothing is sent), sets the file's mode (to the mode it
 *                                 has), opens a unix socket, a TCP socket, a netlink socket, an io_uring, a datagram socket pair and a
 *                                 System V message queue, reads the server's file limit, leaves its process group (in
 *                                 a child), locks /etc/passwd; answers what came of each
 *                                 ("read=EACCES create=..."), its
 *                                 effective capabilities, whether it sees CONVENE_TEST_SECRET and CONVENE_PLUGIN_TEST,
 *                                 and where its standard error goes
 * With CONVENE_PLUGIN_FAULTS_HANG_AT_ENTRY set in its environment, the entry point sleeps for a minute.
 * Its descriptor set describes Reply, so the host checks what Reflect answers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "convene_plugin.h"
#include "faults_descriptor_set.h"

static const convene_host_api *api;
static convene_call *kept;

static void answer_text(convene_call *call, const char *text) {
    /* A Reply with field 1 (text), at most 500 bytes of it: a length of one or two bytes. */
    uint8_t buffer[504];
    size_t length = strlen(text) < 500 ? strlen(text) : 500, header = 2;
    buffer[0] = 0x0A;
    if (length < 0x80) {
        buffer[1] = (uint8_t)length;
    } else {
        buffer[1] = (uint8_t)(length | 0x80);
        buffer[2] = (uint8_t)(length >> 7);
        header = 3;
    }
    memcpy(buffer + header, text, length);
    api->set_response(call, buffer, length + header);
}

static void sleep_ms(uint32_t milliseconds) {
    struct timespec pause = { milliseconds / 1000, (long)(milliseconds % 1000) * 1000000L };
    while (nanosleep(&pause, &pause) == -1 && errno == EINTR) {}  /* the whole time, signals or not */
}

/* A request is a test.faults.Raw: its field 1 (bytes) is what a hook reads. The host checks
 * that a request is a valid Raw before the hook runs, so anything else (no field 1) is empty. */
static void unwrap(const uint8_t **request, size_t *length) {
    const uint8_t *bytes = *request;
    size_t size = *length, data = 0, at = 1;
    *length = 0;
    if (size < 2 || bytes[0] != 0x0A) return;
    for (unsigned shift = 0; at < size && shift < 35; shift += 7) {
        data |= (size_t)(bytes[at] & 0x7F) << shift;
        if ((bytes[at++] & 0x80) == 0) {
            if (data <= size - at) {
                *request = bytes + at;
                *length = data;
            }
            return;
        }
    }
}

static uint32_t first_u32(const uint8_t *request, size_t length, uint32_t otherwise) {
    uint32_t value = otherwise;
    if (length >= 4) memcpy(&value, request, 4);
    return value;
}

static int32_t reflect(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method;
    api->set_response(call, request, length);
    return CONVENE_OK;
}

static int32_t bad_status(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method;
    api->set_error(call, "a status the plugin made up");
    return (int32_t)first_u32(request, length, 77);
}

static int32_t keep(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method; (void)request; (void)length;
    kept = call;
    answer_text(call, "kept");
    return CONVENE_OK;
}

static int32_t use_kept(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method; (void)request; (void)length;
    char text[200];
    const uint8_t *value;
    size_t value_length;
    int32_t put = api->storage_put(kept, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1);
    int32_t get = api->storage_get(kept, (const uint8_t *)"k", 1, &value, &value_length);
    const char *caller = api->caller(kept);
    api->set_response(kept, (const uint8_t *)"x", 1);
    snprintf(text, sizeof text, "put=%d get=%d caller=%s", put, get, caller ? caller : "null");
    answer_text(call, text);
    return CONVENE_OK;
}

static int32_t crash(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method; (void)call;
    /* With a 4-byte count N: first forks a child that outlives the crash by N ms, holding
     * whatever the process had open (its connection to the server, when isolated). */
    uint32_t hold = first_u32(request, length, 0);
    if (hold > 0 && fork() == 0) {
        sleep_ms(hold);
        _exit(0);
    }
    volatile int *nowhere = NULL;
    *nowhere = 1;
    return CONVENE_OK;
}

static int32_t aborting(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method; (void)call; (void)request; (void)length;
    abort();
}

static int32_t leak(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method;
    size_t mebibytes = length >= 1 ? request[0] : 64;
    char *block = malloc(mebibytes << 20);
    if (!block) {
        api->set_error(call, "out of memory");
        return CONVENE_RESOURCE_EXHAUSTED;
    }
    memset(block, 0x5A, mebibytes << 20);
    answer_text(call, "leaked");
    return CONVENE_OK;
}

static int32_t hang(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method;
    sleep_ms(first_u32(request, length, 1000));
    answer_text(call, "awake");
    return CONVENE_OK;
}

/* Whether this process is a runner (convene-plugin-runner; its name cut at 15 bytes). */
static int in_runner(void) {
    char name[32] = {0};
    FILE *comm = fopen("/proc/self/comm", "r");
    if (!comm) return 0;
    int found = fgets(name, sizeof name, comm) != NULL && strncmp(name, "convene-plugin-", 15) == 0;
    fclose(comm);
    return found;
}

static int32_t stall(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method; (void)request; (void)length;
    if (!in_runner()) {
        api->set_error(call, "Stall stops a runner process only");
        return CONVENE_FAILED_PRECONDITION;
    }
    raise(SIGSTOP);
    answer_text(call, "continued");
    return CONVENE_OK;
}

static int32_t forge(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method;
    if (!in_runner()) {
        api->set_error(call, "Forge writes to a runner's connection only");
        return CONVENE_FAILED_PRECONDITION;
    }
    size_t offset = 0;
    while (offset < length) {
        ssize_t written = write(3, request + offset, length - offset);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) break;
        offset += (size_t)written;
    }
    answer_text(call, "forged");
    return CONVENE_OK;
}

/* "ok", or the error's name. */
static const char *outcome(int failed) {
    if (!failed) return "ok";
    switch (errno) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ENOSYS: return "ENOSYS";
    default: return "failed";
    }
}

static int32_t escape(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method;
    if (!in_runner()) {
        api->set_error(call, "Escape tries its way out of a runner process only");
        return CONVENE_FAILED_PRECONDITION;
    }
    char path[160] = {0}, beside[180], memory[64], environ_path[64], text[400];
    memcpy(path, request, length < sizeof path - 1 ? length : sizeof path - 1);
    int descriptor = open(path, O_RDONLY | O_CLOEXEC);
    const char *read = outcome(descriptor < 0);
    if (descriptor >= 0) close(descriptor);
    snprintf(beside, sizeof beside, "%s.escape", path);
    descriptor = open(beside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const char *create = outcome(descriptor < 0);
    if (descriptor >= 0) {
        close(descriptor);
        unlink(beside);
    }
    snprintf(memory, sizeof memory, "/proc/%d/mem", (int)getppid());
    descriptor = open(memory, O_RDONLY | O_CLOEXEC);
    const char *mem = outcome(descriptor < 0);
    if (descriptor >= 0) close(descriptor);
    const char *signal = outcome(kill(getppid(), 0) != 0);
    snprintf(environ_path, sizeof environ_path, "/proc/%d/environ", (int)getppid());
    descriptor = open(environ_path, O_RDONLY | O_CLOEXEC);
    const char *environment = outcome(descriptor < 0);
    if (descriptor >= 0) close(descriptor);
    struct stat status;
    const char *mode = stat(path, &status) != 0 ? "nofile" : outcome(chmod(path, status.st_mode & 07777) != 0);
    descriptor = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const char *unix_socket = outcome(descriptor < 0);
    if (descriptor >= 0) close(descriptor);
    descriptor = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const char *tcp = outcome(descriptor < 0);
    if (descriptor >= 0) close(descriptor);
    descriptor = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
    const char *netlink = outcome(descriptor < 0);
    if (descriptor >= 0) close(descriptor);
    /* A datagram socket pair (it could be sent to any datagram socket on disk), and System V IPC. */
    int pair[2];
    const char *datagrams = outcome(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) != 0);
    if (strcmp(datagrams, "ok") == 0) {
        close(pair[0]);
        close(pair[1]);
    }
    int queue = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    const char *ipc = outcome(queue < 0);
    if (queue >= 0) msgctl(queue, IPC_RMID, NULL);
    /* The server's limits (read only: nothing is changed either way), leaving the process
     * group (in a child, which ends at once), a lock on a file it may read. */
    struct rlimit limit;
    const char *limits = outcome(prlimit(getppid(), RLIMIT_NOFILE, NULL, &limit) != 0);
    const char *session = "failed";
    pid_t child = fork();
    if (child == 0) _exit(setsid() >= 0 ? 0 : errno == EPERM ? 1 : 2);
    int child_status = 0;
    if (child > 0 && waitpid(child, &child_status, 0) == child && WIFEXITED(child_status)) {
        session = WEXITSTATUS(child_status) == 0 ? "ok" : WEXITSTATUS(child_status) == 1 ? "EPERM" : "failed";
    }
    descriptor = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    const char *lock = descriptor < 0 ? "noread" : outcome(flock(descriptor, LOCK_SH | LOCK_NB) != 0);
    if (descriptor >= 0) close(descriptor);
    uint8_t ring_parameters[120] = {0};  /* struct io_uring_params, zeroed */
    descriptor = (int)syscall(SYS_io_uring_setup, 1, ring_parameters);
    const char *ring = outcome(descriptor < 0);
    if (descriptor >= 0) close(descriptor);
    char capabilities[32] = "unknown", line[128];
    FILE *self = fopen("/proc/self/status", "r");
    while (self && fgets(line, sizeof line, self)) {
        if (strncmp(line, "CapEff:", 7) == 0) sscanf(line + 7, "%31s", capabilities);
    }
    if (self) fclose(self);
    char output[64] = "unknown";
    ssize_t linked = readlink("/proc/self/fd/2", output, sizeof output - 1);
    if (linked > 0) output[linked] = 0;
    const char *secret = getenv("CONVENE_TEST_SECRET") ? "seen" : "unset";
    const char *named = getenv("CONVENE_PLUGIN_TEST") ? getenv("CONVENE_PLUGIN_TEST") : "unset";
    snprintf(text, sizeof text, "read=%s create=%s memory=%s signal=%s environ=%s chmod=%s unix=%s tcp=%s netlink=%s uring=%s dgram=%s ipc=%s prlimit=%s setsid=%s flock=%s caps=%s secret=%s plugin=%.20s stderr=%.40s",
             read, create, mem, signal, environment, mode, unix_socket, tcp, netlink, ring, datagrams, ipc, limits, session, lock, capabilities, secret, named, output);
    answer_text(call, text);
    return CONVENE_OK;
}

static uint32_t unload_pause;

static int32_t slow_unload(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    unwrap(&request, &length);
    (void)state; (void)method;
    unload_pause = first_u32(request, length, 60000);
    answer_text(call, "set");
    return CONVENE_OK;
}

static void on_unload(void *state) {
    (void)state;
    if (unload_pause) sleep_ms(unload_pause);
}

#define METHOD(name, hook) { name, CONVENE_UNARY, "test.faults.Raw", "test.faults.Reply", hook }

static const convene_method methods[] = {
    METHOD("Reflect", reflect), METHOD("BadStatus", bad_status), METHOD("Keep", keep), METHOD("UseKept", use_kept),
    METHOD("Crash", crash), METHOD("Abort", aborting), METHOD("Leak", leak), METHOD("Hang", hang),
    METHOD("Stall", stall), METHOD("Forge", forge), METHOD("SlowUnload", slow_unload), METHOD("Escape", escape),
};

static convene_plugin_descriptor descriptor = {
    .abi_major = CONVENE_ABI_MAJOR, .abi_minor = CONVENE_ABI_MINOR, .size = sizeof(convene_plugin_descriptor),
    .name = "faults", .version = "1.0.0", .service = "test.faults.Faults",
    .methods = methods, .method_count = sizeof methods / sizeof methods[0],
    .descriptor_set = faults_descriptor_set, .descriptor_set_len = sizeof faults_descriptor_set,
    .on_unload = on_unload,
};

__attribute__((visibility("default")))
int32_t convene_plugin_entry(const convene_host_api *host_api, convene_host *host,
                             const convene_plugin_descriptor **out, const char **error) {
    (void)host; (void)error;
    if (getenv("CONVENE_PLUGIN_FAULTS_HANG_AT_ENTRY")) sleep_ms(60000);
    api = host_api;
    *out = &descriptor;
    return CONVENE_OK;
}
