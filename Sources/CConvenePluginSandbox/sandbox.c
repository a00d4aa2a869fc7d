#define _GNU_SOURCE
#include "convene_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The headers of an older system may lack what later ABIs added: their values are fixed. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SCOPE_SIGNAL (1ULL << 1)

/* The ruleset's attributes as of ABI 6 (a kernel takes a longer struct whose extra fields are 0). */
struct ruleset_attributes {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

int convene_sandbox_abi(void) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

static const uint64_t read_rights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
static const uint64_t file_only_rights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE
    | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV;

/* Adds `path` with `rights` (those that apply to it: a file takes only a file's). */
static int add_rule(int ruleset, const char *path, uint64_t rights, uint64_t handled) {
    int parent = open(path, O_PATH | O_CLOEXEC);
    if (parent < 0) return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    struct stat status;
    if (fstat(parent, &status) != 0) {
        int saved = errno;
        close(parent);
        errno = saved;
        return -1;
    }
    if (!S_ISDIR(status.st_mode)) rights &= file_only_rights;
    struct landlock_path_beneath_attr rule = { .allowed_access = rights & handled, .parent_fd = parent };
    long added = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    int saved = errno;
    close(parent);
    errno = saved;
    return added == 0 ? 0 : -1;
}

int convene_sandbox_restrict(const char *const *readable, size_t readable_count,
                             const char *const *writable, size_t writable_count, const char **what) {
    int abi = convene_sandbox_abi();
    if (abi < 1) {
        *what = "Landlock";
        errno = EOPNOTSUPP;
        return -1;
    }
    struct ruleset_attributes attributes = {0};
    attributes.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE
        | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE
        | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG
        | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK
        | LANDLOCK_ACCESS_FS_MAKE_SYM;
    if (abi >= 2) attributes.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) attributes.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5) attributes.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    if (abi >= 6) attributes.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
    /* Only as much of the struct as the kernel knows (ABI 4 added the network field, 6 scopes). */
    size_t size = abi >= 6 ? sizeof attributes : abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attributes, size, 0);
    if (ruleset < 0) {
        *what = "landlock_create_ruleset";
        return -1;
    }
    uint64_t handled = attributes.handled_access_fs;
    for (size_t index = 0; index < readable_count; index++) {
        if (add_rule(ruleset, readable[index], read_rights, handled) != 0) {
            *what = readable[index];
            goto failed;
        }
    }
    for (size_t index = 0; index < writable_count; index++) {
        if (add_rule(ruleset, writable[index], file_only_rights, handled) != 0) {
            *what = writable[index];
            goto failed;
        }
    }
    /* Required to restrict oneself without privileges; no exec gains any either. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        *what = "PR_SET_NO_NEW_PRIVS";
        goto failed;
    }
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
        *what = "landlock_restrict_self";
        goto failed;
    }
    close(ruleset);
    return abi;
failed:;
    int saved = errno;
    close(ruleset);
    errno = saved;
    return -1;
}
