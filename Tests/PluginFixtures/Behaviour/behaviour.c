/*
 * Fixture: a plugin whose methods misbehave on purpose, to test the host.
 *   test.Behaviour/Echo    answers its request, and counts calls in storage
 *   test.Behaviour/Fail    returns INTERNAL with a message
 *   test.Behaviour/Hang    sleeps for as many milliseconds as its request's first 4 bytes say
 *   test.Behaviour/Silent  returns OK without a response (asked "L": after a response over the host's limit)
 *   test.Behaviour/Count   answers the stored call count (8 bytes), after an aborted write
 *   test.Behaviour/Caller  answers "PARTY roles=R": the caller and the role numbers it holds
 *   test.Behaviour/Storage what the storage functions answer, by the request's first byte and
 *                          the 4-byte count N after it:
 *     'm'  "get=G next=X": storage_get of a missing key, storage_next of an empty prefix
 *     'p'  writes keys "k000000".. (N of them), answers "puts=OK-COUNT" (committed)
 *     'd'  deletes those N keys, answers "next=X": storage_next after them under "k" (committed)
 *     'w'  writes N distinct tiny keys, answers "accepted=A" (nothing committed: ABORTED)
 *     'r'  reads N distinct missing keys, answers "absent=A failed=F" (ABORTED)
 *     'c'  counts the keys under "c/" by listing them, waits N microseconds, then adds the
 *          key "c/<count>"; answers "count=C" (committed)
 *     'i'  N rounds: writes "i<round>", deletes the previous round's key every third round,
 *          then counts the keys under "i" by listing them; "last=L sum=S" (ABORTED)
 *     'n'  writes N keys under "n", then lists them from the first; "listed=L" (ABORTED)
 *   test.Behaviour/Recurse calls itself through call_service, as its caller, with the 4-byte
 *                          depth less one; at depth 0 it sleeps 20 s
 * Requests and responses are raw bytes here (the host does not decode them).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "convene_plugin.h"

static const convene_host_api *api;
static convene_host *host;

static uint64_t stored_count(convene_call *call) {
    const uint8_t *value;
    size_t length;
    uint64_t count = 0;
    if (api->storage_get(call, (const uint8_t *)"count", 5, &value, &length) == 1 && length == 8) memcpy(&count, value, 8);
    return count;
}

static int32_t echo(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method;
    uint64_t count = stored_count(call) + 1;
    api->storage_put(call, (const uint8_t *)"count", 5, (const uint8_t *)&count, 8);
    api->set_response(call, request, length);
    return CONVENE_OK;
}

static int32_t failing(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method; (void)request; (void)length;
    /* A write that must not be committed, since the call fails. */
    uint64_t bogus = 1000000;
    api->storage_put(call, (const uint8_t *)"count", 5, (const uint8_t *)&bogus, 8);
    api->set_error(call, "the behaviour fixture failed on purpose");
    return CONVENE_INTERNAL;
}

static int32_t hang(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method;
    uint32_t milliseconds = 0;
    if (length >= 4) memcpy(&milliseconds, request, 4);
    struct timespec pause = { milliseconds / 1000, (long)(milliseconds % 1000) * 1000000L };
    while (nanosleep(&pause, &pause) == -1 && errno == EINTR) {}  /* the whole time, signals or not */
    uint64_t bogus = 2000000;
    api->storage_put(call, (const uint8_t *)"count", 5, (const uint8_t *)&bogus, 8);
    api->set_response(call, request, length);
    return CONVENE_OK;
}

static int32_t silent(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method;
    /* Asked with "L": a response over the host's 64 MiB limit (refused before a byte is read);
     * "N": one of (size_t)-1 bytes; "E": an error message, "G": a log line, of 70,000 bytes. */
    if (length >= 1 && request[0] == 'L') api->set_response(call, request, (size_t)65 << 20);
    if (length >= 1 && request[0] == 'N') api->set_response(call, request, (size_t)-1);
    if (length >= 1 && (request[0] == 'E' || request[0] == 'G')) {
        static char text[70001];
        memset(text, 'x', sizeof text - 1);
        text[sizeof text - 1] = 0;
        if (request[0] == 'G') {
            api->log(host, CONVENE_LOG_INFO, text);
        } else {
            api->set_error(call, text);
            return CONVENE_INTERNAL;
        }
    }
    return CONVENE_OK;
}

static int32_t count(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method; (void)request; (void)length;
    uint64_t value = stored_count(call);
    api->set_response(call, (const uint8_t *)&value, 8);
    return CONVENE_OK;
}

static int32_t caller(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method; (void)request; (void)length;
    char text[200];
    int used = snprintf(text, sizeof text, "%s roles=", api->caller(call));
    for (int32_t role = 1; role <= 4 && used < (int)sizeof text - 1; role++) {
        if (api->caller_has_role(call, role)) text[used++] = (char)('0' + role);
    }
    api->set_response(call, (const uint8_t *)text, (size_t)used);
    return CONVENE_OK;
}

static int32_t storage(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method;
    if (length < 1) return CONVENE_INVALID_ARGUMENT;
    uint32_t n = 0;
    if (length >= 5) memcpy(&n, request + 1, 4);
    char text[200], key[32];
    const uint8_t *value;
    size_t value_length;
    int used = 0, accepted = 0, absent = 0, failed = 0;
    switch (request[0]) {
    case 'm': {
        int32_t got = api->storage_get(call, (const uint8_t *)"missing", 7, &value, &value_length);
        int32_t next = api->storage_next(call, (const uint8_t *)"nothing-here/", 13, NULL, 0, &value, &value_length);
        used = snprintf(text, sizeof text, "get=%d next=%d", got, next);
        break;
    }
    case 'p':
    case 'd':
        for (uint32_t i = 0; i < n; i++) {
            int k = snprintf(key, sizeof key, "k%06u", i);
            int32_t rc = request[0] == 'p' ? api->storage_put(call, (const uint8_t *)key, (size_t)k, (const uint8_t *)"v", 1)
                                           : api->storage_delete(call, (const uint8_t *)key, (size_t)k);
            if (rc == 0) accepted++;
        }
        if (request[0] == 'p') {
            used = snprintf(text, sizeof text, "puts=%d", accepted);
        } else {
            int32_t next = api->storage_next(call, (const uint8_t *)"k", 1, NULL, 0, &value, &value_length);
            used = snprintf(text, sizeof text, "next=%d deleted=%d", next, accepted);
        }
        break;
    case 'c': {
        uint8_t last[64];
        size_t last_length = 0;
        int count = 0;
        while (api->storage_next(call, (const uint8_t *)"c/", 2, count ? last : NULL, last_length, &value, &value_length) == 1
               && value_length <= sizeof last) {
            memcpy(last, value, value_length);
            last_length = value_length;
            count++;
        }
        if (n > 0) usleep(n);
        int k = snprintf(key, sizeof key, "c/%06d", count);
        if (api->storage_put(call, (const uint8_t *)key, (size_t)k, (const uint8_t *)"v", 1) != 0) return CONVENE_INTERNAL;
        used = snprintf(text, sizeof text, "count=%d", count);
        break;
    }
    case 'i':
    case 'n': {
        int last = 0, sum = 0;
        for (uint32_t i = 0; i < n; i++) {
            int k = snprintf(key, sizeof key, "%c%06u", request[0], i);
            if (api->storage_put(call, (const uint8_t *)key, (size_t)k, (const uint8_t *)"v", 1) != 0) return CONVENE_INTERNAL;
            if (request[0] == 'i' && i % 3 == 2) {
                k = snprintf(key, sizeof key, "i%06u", i - 1);
                if (api->storage_delete(call, (const uint8_t *)key, (size_t)k) != 0) return CONVENE_INTERNAL;
            }
            if (request[0] == 'n' && i + 1 < n) continue;
            uint8_t cursor[32];
            size_t cursor_length = 0;
            last = 0;
            while (api->storage_next(call, request, 1, last ? cursor : NULL, cursor_length, &value, &value_length) == 1
                   && value_length <= sizeof cursor) {
                memcpy(cursor, value, value_length);
                cursor_length = value_length;
                last++;
            }
            sum += last;
        }
        snprintf(text, sizeof text, request[0] == 'i' ? "last=%d sum=%d" : "listed=%d", last, sum);
        api->set_error(call, text);
        return CONVENE_ABORTED;
    }
    case 'w':
    case 'r':
        for (uint32_t i = 0; i < n; i++) {
            int k = snprintf(key, sizeof key, "t%u", i);
            if (request[0] == 'w') {
                if (api->storage_put(call, (const uint8_t *)key, (size_t)k, (const uint8_t *)"", 0) == 0) accepted++;
            } else {
                int32_t rc = api->storage_get(call, (const uint8_t *)key, (size_t)k, &value, &value_length);
                if (rc == 0) absent++; else if (rc < 0) failed++;
            }
        }
        if (request[0] == 'w') {
            snprintf(text, sizeof text, "accepted=%d", accepted);
        } else {
            snprintf(text, sizeof text, "absent=%d failed=%d", absent, failed);
        }
        api->set_error(call, text);
        return CONVENE_ABORTED;
    default:
        return CONVENE_INVALID_ARGUMENT;
    }
    api->set_response(call, (const uint8_t *)text, (size_t)used);
    return CONVENE_OK;
}

static int32_t recurse(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method;
    uint32_t depth = 0;
    if (length >= 4) memcpy(&depth, request, 4);
    if (depth == 0) {
        struct timespec pause = { 20, 0 };
        while (nanosleep(&pause, &pause) == -1 && errno == EINTR) {}
        api->set_response(call, request, length);
        return CONVENE_OK;
    }
    depth -= 1;
    const uint8_t *response;
    size_t response_length;
    int32_t status = api->call_service(call, "/test.Behaviour/Recurse", (const uint8_t *)&depth, 4, 0, &response, &response_length);
    if (status != CONVENE_OK) {
        api->set_error(call, "the nested call failed");
        return status < 0 ? CONVENE_INTERNAL : status;
    }
    api->set_response(call, response, response_length);
    return CONVENE_OK;
}

static const convene_method methods[] = {
    { "Echo", CONVENE_UNARY, "bytes", "bytes", echo },
    { "Fail", CONVENE_UNARY, "bytes", "bytes", failing },
    { "Hang", CONVENE_UNARY, "bytes", "bytes", hang },
    { "Silent", CONVENE_UNARY, "bytes", "bytes", silent },
    { "Count", CONVENE_UNARY, "bytes", "bytes", count },
    { "Caller", CONVENE_UNARY, "bytes", "bytes", caller },
    { "Storage", CONVENE_UNARY, "bytes", "bytes", storage },
    { "Recurse", CONVENE_UNARY, "bytes", "bytes", recurse },
};

static convene_plugin_descriptor descriptor = {
    .abi_major = CONVENE_ABI_MAJOR, .abi_minor = CONVENE_ABI_MINOR, .size = sizeof(convene_plugin_descriptor),
    .name = "behaviour", .version = "1.0.0", .service = "test.Behaviour",
    .methods = methods, .method_count = sizeof methods / sizeof methods[0],
};

__attribute__((visibility("default")))
int32_t convene_plugin_entry(const convene_host_api *host_api, convene_host *host_handle,
                             const convene_plugin_descriptor **out, const char **error) {
    (void)error;
    api = host_api;
    host = host_handle;
    *out = &descriptor;
    return CONVENE_OK;
}
