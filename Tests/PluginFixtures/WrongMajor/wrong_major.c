/* Fixture: built for plugin ABI 99.0. The loader reports abiMajorMismatch. */
#include "convene_plugin.h"

static convene_plugin_descriptor descriptor = {
    .abi_major = 99, .abi_minor = 0, .size = sizeof(convene_plugin_descriptor),
    .name = "wrong-major", .version = "1.0.0", .service = "test.WrongMajor",
};

__attribute__((visibility("default")))
int32_t convene_plugin_entry(const convene_host_api *api, convene_host *host,
                             const convene_plugin_descriptor **out, const char **error) {
    (void)api; (void)host; (void)error;
    *out = &descriptor;
    return CONVENE_OK;
}
