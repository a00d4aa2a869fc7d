/*
 * Fixture: records every domain event it is delivered ("*"), in storage, in delivery order.
 *   test.Recorder/Seen  answers one line per event: "SEQUENCE KIND SUBJECT"
 * An event whose description contains "recorder: hang" keeps its delivery waiting 3 s.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "convene_plugin_util.h"
#include "convene/consultation/v1/consultation.pb-c.h"

static void on_event(void *state, convene_call *call, const char *kind, const uint8_t *payload, size_t length) {
    (void)state;
    Convene__Consultation__V1__OperationEvent *event = convene__consultation__v1__operation_event__unpack(NULL, length, payload);
    if (!event) return;
    if (strstr(event->description, "recorder: hang")) {
        struct timespec pause = { 3, 0 };
        nanosleep(&pause, NULL);
    }
    char key[64], line[400];
    snprintf(key, sizeof key, "seen/%020llu", (unsigned long long)next_number(call, "seen"));
    int used = snprintf(line, sizeof line, "%lld %s %s", (long long)event->sequence, kind, event->subject_id);
    api->storage_put(call, (const uint8_t *)key, strlen(key), (const uint8_t *)line, (size_t)used);
    convene__consultation__v1__operation_event__free_unpacked(event, NULL);
}

typedef struct {
    char text[60000];
    size_t used;
} lines;

static void collect(const uint8_t *value, size_t length, void *context) {
    lines *all = context;
    if (all->used + length + 1 >= sizeof all->text) return;
    memcpy(all->text + all->used, value, length);
    all->used += length;
    all->text[all->used++] = '\n';
}

CONVENE_METHOD_HOOK(seen) {
    (void)state; (void)method; (void)request; (void)length;
    static __thread lines all;
    all.used = 0;
    scan(call, "seen/", collect, &all);
    api->set_response(call, (const uint8_t *)all.text, all.used);
    return CONVENE_OK;
}

static const convene_method methods[] = { { "Seen", CONVENE_UNARY, "bytes", "bytes", seen } };
static const char *const events[] = { "*" };

static convene_plugin_descriptor descriptor = {
    .abi_major = CONVENE_ABI_MAJOR, .abi_minor = CONVENE_ABI_MINOR, .size = sizeof(convene_plugin_descriptor),
    .name = "recorder", .version = "1.0.0", .service = "test.Recorder",
    .methods = methods, .method_count = 1, .events = events, .event_count = 1, .on_event = on_event,
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
