/*
 * Small helpers shared by the C mechanism plugins: the boilerplate of a plugin (hook
 * signature, method table entries, the entry point), answering with a protobuf-c message,
 * storing one, counters, scanning keys by prefix, typed calls to the server, and the
 * visibility check. Header-only (static functions). Installed with convene_plugin.h by
 * `make install-sdk` (include/convene/, `pkg-config --cflags convene-plugin`); it needs
 * protobuf-c (`pkg-config --libs convene-plugin` links it). Docs/PLUGINS.md lists every helper.
 */
#ifndef CONVENE_PLUGIN_UTIL_H
#define CONVENE_PLUGIN_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <protobuf-c/protobuf-c.h>

#include "convene_plugin.h"

/* A plugin uses some of these helpers: the others are not worth a warning. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

static const convene_host_api *api;
static convene_host *host;

/* The signature of a method's on_call hook. */
#define CONVENE_METHOD_HOOK(fn) \
    static int32_t fn(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length)

/* An entry of the method table: `name` of `package`, with its request and response message names. */
#define CONVENE_METHOD(package, name, input, output, hook) \
    { name, CONVENE_UNARY, package "." input, package "." output, hook }

/* Exports the plugin's entry point: checks the host's major version, keeps the host's table
 * and handle (`api`, `host`), adds the descriptor set `set` (a byte array) to `descriptor`,
 * logs `ready` (a string, or NULL) and hands the descriptor back. */
#define CONVENE_PLUGIN_ENTRY_POINT(descriptor, set, ready)                                                  \
    __attribute__((visibility("default"))) int32_t convene_plugin_entry(                                   \
        const convene_host_api *host_api, convene_host *host_handle, const convene_plugin_descriptor **out, \
        const char **error) {                                                                               \
        if (host_api->abi_major != CONVENE_ABI_MAJOR) {                                                     \
            *error = "host speaks another major ABI version";                                               \
            return CONVENE_FAILED_PRECONDITION;                                                             \
        }                                                                                                   \
        api = host_api;                                                                                     \
        host = host_handle;                                                                                 \
        (descriptor).descriptor_set = (set);                                                                \
        (descriptor).descriptor_set_len = sizeof(set);                                                      \
        const char *message = (ready);                                                                      \
        if (message) api->log(host, CONVENE_LOG_INFO, message);                                             \
        *out = &(descriptor);                                                                               \
        return CONVENE_OK;                                                                                  \
    }

/* Whether the host's table has `field` (it may be of an older minor version). */
#define CONVENE_HOST_HAS(field) \
    (api->size >= offsetof(convene_host_api, field) + sizeof(api->field) && api->field != NULL)

/* 1 when the caller may see a meeting ("mtg-3") or an operation ("op-2") by the server's rules;
 * 0 when it may not, when there is no such thing, and when the host cannot tell. A method that
 * names a meeting or operation checks it first (see the header's "Visibility"). */
static int may_see(convene_call *call, const char *id) {
    if (!CONVENE_HOST_HAS(caller_may_see)) return 0;
    return api->caller_may_see(call, id) == 1;
}

/* The server's rules' answer to a convene_rule_question (see the header), with the provision and
 * the reason (host-owned, "" when none); -1 and a reason when the host is older than ABI 1.2. */
static int32_t ask_rule(convene_call *call, convene_rule_question question, const char *party_id, const char *object_id,
                        const char **provision, const char **reason) {
    *provision = "";
    *reason = "this server's plugin ABI cannot answer the question (1.2 needed)";
    if (!CONVENE_HOST_HAS(ask_rule)) return -1;
    return api->ask_rule(call, question, party_id, object_id, provision, reason);
}

/* What the caller may read of an operation (convene_access; CONVENE_ACCESS_NONE when there is
 * no such operation or the host cannot tell). */
static int32_t caller_access(convene_call *call, const char *operation_id) {
    const char *provision = "", *reason = "the server could not answer";
    int32_t access = ask_rule(call, CONVENE_RULE_OPERATION_ACCESS, NULL, operation_id, &provision, &reason);
    return access < 0 ? CONVENE_ACCESS_NONE : access;
}

/* Emits a plugin event about a meeting ("mtg-3") or an operation ("op-3"). */
static int32_t emit_about(convene_call *call, const char *subject, const char *kind, const char *description) {
    if (CONVENE_HOST_HAS(emit_event_about)) return api->emit_event_about(call, subject, kind, description);
    return strncmp(subject, "op-", 3) == 0 ? api->emit_event(call, subject, kind, description) : -1;
}

/* Emits a plugin event about an operation ("op-3") that only `audience` among the parties that
 * may read the operation receives (emit_event_to; `party_id` for CONVENE_AUDIENCE_PARTY, else
 * NULL). A host older than ABI 1.3 cannot narrow the audience: then nothing is emitted (-1),
 * rather than telling every party of the operation. CONVENE_AUDIENCE_SUBJECT is emit_about. */
static int32_t emit_to(convene_call *call, const char *subject, const char *kind, const char *description,
                       convene_event_audience audience, const char *party_id) {
    if (audience == CONVENE_AUDIENCE_SUBJECT) return emit_about(call, subject, kind, description);
    if (!CONVENE_HOST_HAS(emit_event_to)) return -1;
    return api->emit_event_to(call, subject, kind, description, audience, party_id);
}

static int32_t fail(convene_call *call, int32_t code, const char *message) {
    api->set_error(call, message);
    return code;
}

/* Non-zero when `text` (UTF-8) holds nothing but white space, as Unicode counts it (ASCII
 * space, tab and line breaks; U+0085, U+00A0, U+1680, U+2000 to U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000); an empty text is blank too. */
static int is_blank(const char *text) {
    const unsigned char *c = (const unsigned char *)(text ? text : "");
    while (*c) {
        if (*c == ' ' || (*c >= 0x09 && *c <= 0x0D)) { c += 1; continue; }
        if (c[0] == 0xC2 && (c[1] == 0x85 || c[1] == 0xA0)) { c += 2; continue; }
        if (c[0] == 0xE1 && c[1] == 0x9A && c[2] == 0x80) { c += 3; continue; }
        if (c[0] == 0xE2 && c[1] == 0x80 && ((c[2] >= 0x80 && c[2] <= 0x8A) || c[2] == 0xA8 || c[2] == 0xA9 || c[2] == 0xAF)) { c += 3; continue; }
        if (c[0] == 0xE2 && c[1] == 0x81 && c[2] == 0x9F) { c += 3; continue; }
        if (c[0] == 0xE3 && c[1] == 0x80 && c[2] == 0x80) { c += 3; continue; }
        return 0;
    }
    return 1;
}

/* CONVENE_OK when `text` has something besides white space; otherwise INVALID_ARGUMENT
 * "FIELD: required" (empty) or "FIELD: must not be blank", as the server's own services
 * refuse them. */
static int32_t require_text(convene_call *call, const char *text, const char *field) {
    char message[160];
    if (!text || !text[0]) {
        snprintf(message, sizeof message, "%s: required", field);
        return fail(call, CONVENE_INVALID_ARGUMENT, message);
    }
    if (is_blank(text)) {
        snprintf(message, sizeof message, "%s: must not be blank", field);
        return fail(call, CONVENE_INVALID_ARGUMENT, message);
    }
    return CONVENE_OK;
}

/* CONVENE_OK when the caller may read the records of operation `id`; otherwise the refusal, as
 * the server's services answer it (NOT_FOUND for no such operation, PERMISSION_DENIED with the
 * rule for a party that may know only that it exists), its message set for `field`. */
static int32_t require_readable_operation(convene_call *call, const char *id, const char *field) {
    const char *provision = "", *reason = "the server could not answer";
    int32_t access = ask_rule(call, CONVENE_RULE_OPERATION_ACCESS, NULL, id, &provision, &reason);
    char message[700];
    if (access == CONVENE_ACCESS_EXISTENCE) {
        snprintf(message, sizeof message, "%s: %.600s", field, reason);
        return fail(call, CONVENE_PERMISSION_DENIED, message);
    }
    if (access > CONVENE_ACCESS_EXISTENCE || (access < 0 && may_see(call, id))) return CONVENE_OK;
    if (!id[0]) {
        snprintf(message, sizeof message, "%s: required", field);
        return fail(call, CONVENE_INVALID_ARGUMENT, message);
    }
    snprintf(message, sizeof message, "%s: no operation %.200s", field, id);
    return fail(call, CONVENE_NOT_FOUND, message);
}

static int32_t respond(convene_call *call, const ProtobufCMessage *message) {
    size_t size = protobuf_c_message_get_packed_size(message);
    uint8_t *buffer = malloc(size ? size : 1);
    if (!buffer) return fail(call, CONVENE_RESOURCE_EXHAUSTED, "out of memory");
    protobuf_c_message_pack(message, buffer);
    api->set_response(call, buffer, size);
    free(buffer);
    return CONVENE_OK;
}

static int32_t put_message(convene_call *call, const char *key, const ProtobufCMessage *message) {
    size_t size = protobuf_c_message_get_packed_size(message);
    uint8_t *buffer = malloc(size ? size : 1);
    if (!buffer) return -1;
    protobuf_c_message_pack(message, buffer);
    int32_t rc = api->storage_put(call, (const uint8_t *)key, strlen(key), buffer, size);
    free(buffer);
    return rc;
}

/* Raw stored bytes of `key` (host-owned until the hook returns), or NULL. */
static const uint8_t *get_bytes(convene_call *call, const char *key, size_t *length) {
    const uint8_t *value;
    if (api->storage_get(call, (const uint8_t *)key, strlen(key), &value, length) != 1) return NULL;
    return value;
}

/* The next number of a counter, stored with the call; 0 when the host refused the read or the
 * write (the call is over its storage limits: fail it), or when the counter's name is over
 * 123 bytes (cut short, two names could share a counter). A refused read is not "no counter
 * yet": that would number from 1 again, over the records numbered before. */
static uint64_t next_number(convene_call *call, const char *counter) {
    char key[128];
    int written = snprintf(key, sizeof key, "seq/%s", counter);
    if (written < 0 || (size_t)written >= sizeof key) return 0;
    uint64_t value = 0;
    const uint8_t *stored;
    size_t length;
    int32_t found = api->storage_get(call, (const uint8_t *)key, strlen(key), &stored, &length);
    if (found < 0) return 0;
    if (found == 1 && length == 8) memcpy(&value, stored, 8);
    value += 1;
    if (api->storage_put(call, (const uint8_t *)key, strlen(key), (const uint8_t *)&value, 8) != 0) return 0;
    return value;
}

/* Calls `each(value, length, context)` for every stored value whose key starts with `prefix`.
 * Each key the host hands back stays valid until the hook returns: it is the next step's
 * cursor as it is (no copy, so no key is too long for it, the empty key included). */
static void scan(convene_call *call, const char *prefix, void (*each)(const uint8_t *, size_t, void *), void *context) {
    const uint8_t *key = NULL, *after = NULL;
    size_t key_length = 0, after_length = 0;
    while (api->storage_next(call, (const uint8_t *)prefix, strlen(prefix), after, after_length, &key, &key_length) == 1) {
        after = key;
        after_length = key_length;
        const uint8_t *value;
        size_t value_length;
        if (api->storage_get(call, key, key_length, &value, &value_length) == 1) each(value, value_length, context);
    }
}

/* Calls a server method with a protobuf-c request; CONVENE_OK and the response bytes, or the
 * status and its message in *response. */
static int32_t call_method(convene_call *call, const char *path, const ProtobufCMessage *request, int32_t as_plugin,
                           const uint8_t **response, size_t *response_length) {
    size_t size = protobuf_c_message_get_packed_size(request);
    uint8_t *buffer = malloc(size ? size : 1);
    if (!buffer) return CONVENE_RESOURCE_EXHAUSTED;
    protobuf_c_message_pack(request, buffer);
    int32_t status = api->call_service(call, path, buffer, size, as_plugin, response, response_length);
    free(buffer);
    return status;
}

/* Calls a server method with a protobuf-c request and unpacks its response as `type`; NULL
 * (with the status in *status and, when `message` is not NULL, the status message in
 * *message and *message_length) when it fails. Free the result with protobuf_c_message_free_unpacked. */
static ProtobufCMessage *call_typed(convene_call *call, const char *path, const ProtobufCMessage *request, int32_t as_plugin,
                                    const ProtobufCMessageDescriptor *type, int32_t *status,
                                    const char **message, size_t *message_length) {
    const uint8_t *answer;
    size_t answer_length;
    *status = call_method(call, path, request, as_plugin, &answer, &answer_length);
    if (*status != CONVENE_OK) {
        if (message) {
            *message = (const char *)answer;
            *message_length = answer_length;
        }
        return NULL;
    }
    ProtobufCMessage *response = protobuf_c_message_unpack(type, NULL, answer_length, answer);
    if (!response) *status = CONVENE_INTERNAL;
    return response;
}

#pragma GCC diagnostic pop

#endif
