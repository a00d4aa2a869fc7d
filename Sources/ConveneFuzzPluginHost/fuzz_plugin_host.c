/* A host for fuzzing a C plugin's request decoding: see convene_fuzz_plugin.h. */
#include <stdlib.h>
#include <string.h>

#include "convene_fuzz_plugin.h"
#include "convene_plugin.h"

/* The Friends plugin's entry, linked into this program. */
int32_t convene_plugin_entry(const convene_host_api *api, convene_host *host,
                             const convene_plugin_descriptor **out, const char **error);

enum { MAX_ENTRIES = 256 };

struct entry { uint8_t *key; size_t key_len; uint8_t *value; size_t value_len; };

/* One input's state; reset before each. */
static struct {
    struct entry entries[MAX_ENTRIES];
    size_t count;
    uint8_t roles;
    const uint8_t *service_answer;
    size_t service_answer_len;
    uint8_t *response;
    size_t response_len;
    int responded;
} fuzz;

static void reset(void) {
    for (size_t i = 0; i < fuzz.count; i++) { free(fuzz.entries[i].key); free(fuzz.entries[i].value); }
    free(fuzz.response);
    memset(&fuzz, 0, sizeof fuzz);
}

static void host_log(convene_host *host, convene_log_level level, const char *message) {
    (void)host; (void)level;
    if (message == NULL) abort();
    (void)strlen(message); /* must be a NUL-terminated string */
}

static void set_response(convene_call *call, const uint8_t *data, size_t len) {
    (void)call;
    free(fuzz.response);
    fuzz.response = malloc(len ? len : 1);
    if (len) memcpy(fuzz.response, data, len);
    fuzz.response_len = len;
    fuzz.responded = 1;
}

static void set_error(convene_call *call, const char *message) {
    (void)call;
    if (message == NULL) abort();
    (void)strlen(message);
}

static const char *caller(convene_call *call) { (void)call; return "party-7"; }

static int32_t caller_has_role(convene_call *call, int32_t role) {
    (void)call;
    return role >= 1 && role <= 4 && (fuzz.roles >> (role - 1)) & 1;
}

static struct entry *find(const uint8_t *key, size_t key_len) {
    for (size_t i = 0; i < fuzz.count; i++) {
        struct entry *e = &fuzz.entries[i];
        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) return e;
    }
    return NULL;
}

static int32_t storage_get(convene_call *call, const uint8_t *key, size_t key_len, const uint8_t **value, size_t *value_len) {
    (void)call;
    struct entry *e = find(key, key_len);
    if (!e) return 0;
    *value = e->value;
    *value_len = e->value_len;
    return 1;
}

static uint8_t *copy(const uint8_t *bytes, size_t len) {
    uint8_t *out = malloc(len ? len : 1);
    if (len) memcpy(out, bytes, len);
    return out;
}

static int32_t storage_put(convene_call *call, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len) {
    (void)call;
    struct entry *e = find(key, key_len);
    if (!e) {
        if (fuzz.count == MAX_ENTRIES) return -CONVENE_RESOURCE_EXHAUSTED;
        e = &fuzz.entries[fuzz.count++];
        e->key = copy(key, key_len);
        e->key_len = key_len;
    } else {
        free(e->value);
    }
    e->value = copy(value, value_len);
    e->value_len = value_len;
    return 0;
}

static int32_t storage_delete(convene_call *call, const uint8_t *key, size_t key_len) {
    (void)call;
    struct entry *e = find(key, key_len);
    if (!e) return 0;
    free(e->key); free(e->value);
    *e = fuzz.entries[--fuzz.count];
    return 0;
}

static int compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
    return c ? c : (a_len > b_len) - (a_len < b_len);
}

static int32_t storage_next(convene_call *call, const uint8_t *prefix, size_t prefix_len, const uint8_t *after,
                            size_t after_len, const uint8_t **key, size_t *key_len) {
    (void)call;
    struct entry *best = NULL;
    for (size_t i = 0; i < fuzz.count; i++) {
        struct entry *e = &fuzz.entries[i];
        if (e->key_len < prefix_len || memcmp(e->key, prefix, prefix_len) != 0) continue;
        if (after && compare(e->key, e->key_len, after, after_len) <= 0) continue;
        if (!best || compare(e->key, e->key_len, best->key, best->key_len) < 0) best = e;
    }
    if (!best) return 0;
    *key = best->key;
    *key_len = best->key_len;
    return 1;
}

static int32_t emit_event(convene_call *call, const char *operation_id, const char *kind, const char *description) {
    (void)call;
    if (!operation_id || !kind || !description) abort();
    (void)strlen(operation_id); (void)strlen(kind); (void)strlen(description);
    return 0;
}

static int32_t call_service(convene_call *call, const char *method_path, const uint8_t *request, size_t request_len,
                            int32_t as_plugin, const uint8_t **response, size_t *response_len) {
    (void)call; (void)as_plugin;
    if (!method_path || (request_len && !request)) abort();
    (void)strlen(method_path);
    *response = fuzz.service_answer;
    *response_len = fuzz.service_answer_len;
    return CONVENE_OK;
}

/* Visible when it names a meeting or operation, so the code behind the check is fuzzed too. */
static int32_t caller_may_see(convene_call *call, const char *object_id) {
    (void)call;
    if (!object_id) abort();
    return strncmp(object_id, "mtg-", 4) == 0 || strncmp(object_id, "op-", 3) == 0;
}

static int32_t emit_event_about(convene_call *call, const char *subject_id, const char *kind, const char *description) {
    return emit_event(call, subject_id, kind, description);
}

static int32_t emit_event_to(convene_call *call, const char *subject_id, const char *kind, const char *description,
                             int32_t audience, const char *party_id) {
    if (audience == CONVENE_AUDIENCE_PARTY && !party_id) abort();
    if (party_id) (void)strlen(party_id);
    return emit_event(call, subject_id, kind, description);
}

/* Every rule says yes, so the code behind the checks is fuzzed too. */
static int32_t ask_rule(convene_call *call, int32_t question, const char *party_id, const char *object_id,
                        const char **provision, const char **reason) {
    (void)call;
    if (party_id) (void)strlen(party_id);
    if (!object_id) abort();
    if (provision) *provision = "II.B.3(a)";
    if (reason) *reason = "fuzz";
    return question == CONVENE_RULE_OPERATION_ACCESS ? CONVENE_ACCESS_SECRETARIAT : 1;
}

static const convene_host_api api = {
    .abi_major = CONVENE_ABI_MAJOR, .abi_minor = CONVENE_ABI_MINOR, .size = sizeof(convene_host_api),
    .log = host_log, .set_response = set_response, .set_error = set_error, .caller = caller,
    .caller_has_role = caller_has_role, .storage_get = storage_get, .storage_put = storage_put,
    .storage_delete = storage_delete, .storage_next = storage_next, .emit_event = emit_event,
    .call_service = call_service, .caller_may_see = caller_may_see, .emit_event_about = emit_event_about,
    .ask_rule = ask_rule, .emit_event_to = emit_event_to,
};

int32_t convene_fuzz_friends_plugin(const uint8_t *data, size_t size) {
    static const convene_plugin_descriptor *plugin;
    if (!plugin) {
        const char *error = NULL;
        if (convene_plugin_entry(&api, (convene_host *)&api, &plugin, &error) != CONVENE_OK || !plugin) abort();
    }
    if (size < 4) return CONVENE_INVALID_ARGUMENT;
    reset();
    size_t hook = data[0];
    fuzz.roles = data[1];
    size_t length = (size_t)data[2] | (size_t)data[3] << 8;
    if (length > size - 4) length = size - 4;
    /* Copies, so reading past either one is caught by AddressSanitizer. */
    uint8_t *request = copy(data + 4, length);
    uint8_t *answer = copy(data + 4 + length, size - 4 - length);
    fuzz.service_answer = answer;
    fuzz.service_answer_len = size - 4 - length;
    int32_t status = CONVENE_OK;
    /* The call handle is opaque to the plugin; any non-NULL pointer does. */
    convene_call *call = (convene_call *)&fuzz;
    if (hook < plugin->method_count) {
        const convene_method *method = &plugin->methods[hook];
        status = method->on_call(plugin->state, method, call, request, length);
    } else if (plugin->event_count && plugin->on_event) {
        const char *kind = plugin->events[(hook - plugin->method_count) % plugin->event_count];
        plugin->on_event(plugin->state, call, kind, request, length);
    }
    free(request);
    free(answer);
    reset();
    return status;
}
