/* Fixture: an entry point that crashes (a NULL dereference). Loaded in process isolation only:
 * its runner process dies, the plugin is reported failed, and the server carries on. */
#include <stddef.h>

#include "convene_plugin.h"

__attribute__((visibility("default")))
int32_t convene_plugin_entry(const convene_host_api *api, convene_host *host,
                             const convene_plugin_descriptor **out, const char **error) {
    (void)api; (void)host; (void)out; (void)error;
    volatile int *nowhere = NULL;
    *nowhere = 1;
    return CONVENE_OK;
}
