/* Fixture: an entry point that fails. The loader reports initFailed with the reason. */
#include "convene_plugin.h"

__attribute__((visibility("default")))
int32_t convene_plugin_entry(const convene_host_api *api, convene_host *host,
                             const convene_plugin_descriptor **out, const char **error) {
    (void)api; (void)host; (void)out;
    *error = "configuration file /etc/convene/failing.conf is missing";
    return CONVENE_FAILED_PRECONDITION;
}
