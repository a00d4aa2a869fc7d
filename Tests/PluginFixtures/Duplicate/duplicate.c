/* Fixture: a valid plugin whose name is taken by the Groups of Friends plugin.
 * Loaded after it, the loader reports duplicateName. */
#include "convene_plugin.h"

static convene_plugin_descriptor descriptor = {
    .abi_major = CONVENE_ABI_MAJOR, .abi_minor = CONVENE_ABI_MINOR, .size = sizeof(convene_plugin_descriptor),
    .name = "groups-of-friends", .version = "0.0.1", .service = "test.Duplicate",
};

__attribute__((visibility("default")))
int32_t convene_plugin_entry(const convene_host_api *api, convene_host *host,
                             const convene_plugin_descriptor **out, const char **error) {
    (void)api; (void)host; (void)error;
    *out = &descriptor;
    return CONVENE_OK;
}
