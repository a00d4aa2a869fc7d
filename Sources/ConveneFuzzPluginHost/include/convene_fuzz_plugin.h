#ifndef CONVENE_FUZZ_PLUGIN_H
#define CONVENE_FUZZ_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Feeds one fuzz input to the groups-of-friends C plugin (linked in statically) through
 * the plugin ABI, with a host table of stubs: storage in memory, a caller whose roles the
 * input chooses, and a call_service whose answer is bytes from the input. Returns the
 * plugin's status. The input's layout:
 *   byte 0    which hook: a method index, or past the methods an event kind;
 *   byte 1    the caller's roles, one bit per role number 1..4;
 *   bytes 2-3 request length L (little endian, cut to what is left);
 *   L bytes   the request (or event payload);
 *   the rest  what every call_service returns.
 */
int32_t convene_fuzz_friends_plugin(const uint8_t *data, size_t size);

#endif
