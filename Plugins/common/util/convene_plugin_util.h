/*
 * Small helpers shared by the C mechanism plugins: answering with a protobuf-c message,
 * storing one, counters, and scanning keys by prefix. Header-only (static functions).
 */
#ifndef CONVENE_PLUGIN_UTIL_H
#define CONVENE_PLUGIN_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <protobuf-c/protobuf-c.h>

#include "convene_plugin.h"

static const convene_host_api *api;
static convene_host *host;

static int32_t fail(convene_call *call, int32_t code, const char *message) {
    api->set_error(call, message);
    return code;
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

/* The next number of a counter, stored with the call. */
static uint64_t next_number(convene_call *call, const char *counter) {
    char key[128];
    snprintf(key, sizeof key, "seq/%s", counter);
    uint64_t value = 0;
    size_t length;
    const uint8_t *stored = get_bytes(call, key, &length);
    if (stored && length == 8) memcpy(&value, stored, 8);
    value += 1;
    api->storage_put(call, (const uint8_t *)key, strlen(key), (const uint8_t *)&value, 8);
    return value;
}

/* Calls `each(value, length, context)` for every stored value whose key starts with `prefix`. */
static void scan(convene_call *call, const char *prefix, void (*each)(const uint8_t *, size_t, void *), void *context) {
    const uint8_t *key = NULL;
    size_t key_length = 0;
    uint8_t after[512];
    size_t after_length = 0;
    while (api->storage_next(call, (const uint8_t *)prefix, strlen(prefix), after_length ? after : NULL, after_length,
                             &key, &key_length) == 1) {
        if (key_length > sizeof after) break;
        memcpy(after, key, key_length);
        after_length = key_length;
        const uint8_t *value;
        size_t value_length;
        if (api->storage_get(call, after, after_length, &value, &value_length) == 1) each(value, value_length, context);
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

#endif
