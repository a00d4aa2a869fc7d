/*
 * A plugin to copy. It serves convene.example.v1.Example/Hello, which answers its
 * request bytes, counts the calls in plugin storage, and logs each one; and Echo, which
 * answers its request bytes and touches nothing (the cheapest plugin call: `convene
 * bench --path /convene.example.v1.Example/Echo` measures what the plugin boundary costs).
 * See Docs/PLUGINS.md for the walk-through.
 */
#include <stdint.h>
#include <string.h>

#include "convene_plugin.h"

static const convene_host_api *api;   /* the host's function table, valid while loaded */
static convene_host *host;            /* our handle, for api->log */

static int32_t hello(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method;
    uint64_t calls = 0;
    const uint8_t *value;
    size_t value_length;
    if (api->storage_get(call, (const uint8_t *)"calls", 5, &value, &value_length) == 1 && value_length == 8) {
        memcpy(&calls, value, 8);
    }
    calls += 1;
    /* Committed with the call, only if we return CONVENE_OK. */
    api->storage_put(call, (const uint8_t *)"calls", 5, (const uint8_t *)&calls, 8);
    api->log(host, CONVENE_LOG_DEBUG, "hello called");
    api->set_response(call, request, length);
    return CONVENE_OK;
}

static int32_t echo(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method;
    api->set_response(call, request, length);
    return CONVENE_OK;
}

static const convene_method methods[] = {
    { "Hello", CONVENE_UNARY, "convene.example.v1.HelloRequest", "convene.example.v1.HelloResponse", hello },
    { "Echo", CONVENE_UNARY, "convene.example.v1.EchoRequest", "convene.example.v1.EchoResponse", echo },
};

static convene_plugin_descriptor descriptor = {
    .abi_major = CONVENE_ABI_MAJOR,
    .abi_minor = CONVENE_ABI_MINOR,
    .size = sizeof(convene_plugin_descriptor),
    .name = "example",
    .version = "0.1.0",
    .service = "convene.example.v1.Example",
    .methods = methods,
    .method_count = sizeof methods / sizeof methods[0],
};

__attribute__((visibility("default")))
int32_t convene_plugin_entry(const convene_host_api *host_api, convene_host *host_handle,
                             const convene_plugin_descriptor **out, const char **error) {
    if (host_api->abi_major != CONVENE_ABI_MAJOR) {
        *error = "this plugin needs plugin ABI 1.x";
        return CONVENE_FAILED_PRECONDITION;
    }
    api = host_api;
    host = host_handle;
    *out = &descriptor;
    return CONVENE_OK;
}
