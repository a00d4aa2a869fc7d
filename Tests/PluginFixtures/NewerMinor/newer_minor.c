/* Fixture: built for plugin ABI 1.99, newer than the host's, and without a descriptor set.
 * The host loads it with a warning naming both versions, and one that it cannot describe it. */
#include <string.h>

#include "convene_plugin.h"

static const convene_host_api *api;

static int32_t echo(void *state, const convene_method *method, convene_call *call, const uint8_t *request, size_t length) {
    (void)state; (void)method;
    api->set_response(call, request, length);
    return CONVENE_OK;
}

static const convene_method methods[] = { { "Echo", CONVENE_UNARY, "bytes", "bytes", echo } };

static convene_plugin_descriptor descriptor = {
    .abi_major = CONVENE_ABI_MAJOR, .abi_minor = 99, .size = sizeof(convene_plugin_descriptor),
    .name = "newer-minor", .version = "1.0.0", .service = "test.NewerMinor",
    .methods = methods, .method_count = 1,
};

__attribute__((visibility("default")))
int32_t convene_plugin_entry(const convene_host_api *host_api, convene_host *host,
                             const convene_plugin_descriptor **out, const char **error) {
    (void)host; (void)error;
    api = host_api;
    *out = &descriptor;
    return CONVENE_OK;
}
