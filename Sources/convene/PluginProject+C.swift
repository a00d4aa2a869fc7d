/// The C project: protobuf-c for the messages, the SDK's header and helpers, a Makefile.
extension PluginProject {
    static let cSource = #"""
    /*
     * {{NAME}}: a Convene plugin in C (written by `convene plugin new`; the guide is Convene's
     * Docs/PLUGINS.md). Storage: "tally/<name>" -> total, "meetings/convened" -> count,
     * "meetings/last" -> meeting id, numbers as decimal text.
     */
    #include <inttypes.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>

    #include "convene_plugin.h"
    #include "convene_plugin_util.h"   /* api, host, CONVENE_METHOD*, CONVENE_PLUGIN_ENTRY_POINT, respond, fail, ... */

    #include "{{IDENT}}/v1/{{IDENT}}.pb-c.h"
    #include "{{IDENT}}_descriptor_set.h"

    #define PACKAGE "{{IDENT}}.v1"

    /* A number stored as decimal text under `key` (0 when absent). */
    static int64_t get_number(convene_call *call, const char *key) {
        size_t length;
        const uint8_t *stored = get_bytes(call, key, &length);
        char text[24];
        if (!stored || length == 0 || length >= sizeof text) return 0;
        memcpy(text, stored, length);
        text[length] = 0;
        return strtoll(text, NULL, 10);
    }

    static void put_text(convene_call *call, const char *key, const char *text) {
        api->storage_put(call, (const uint8_t *)key, strlen(key), (const uint8_t *)text, strlen(text));
    }

    static void put_number(convene_call *call, const char *key, int64_t value) {
        char text[24];
        snprintf(text, sizeof text, "%" PRId64, value);
        put_text(call, key, text);
    }

    /* Add: Council members (role 2) and the Secretariat (3) only. */
    CONVENE_METHOD_HOOK(add) {
        (void)state; (void)method;
        if (!api->caller_has_role(call, 2) && !api->caller_has_role(call, 3))
            return fail(call, CONVENE_PERMISSION_DENIED, "only Council members and the Secretariat may add to a tally");
        {{TYPE}}__V1__AddRequest *in = {{IDENT}}__v1__add_request__unpack(NULL, length, request);
        if (!in) return fail(call, CONVENE_INVALID_ARGUMENT, "request is not a " PACKAGE ".AddRequest");
        int32_t status;
        if (in->name[0] == 0 || strlen(in->name) > 200) {
            status = fail(call, CONVENE_INVALID_ARGUMENT, "name: required, at most 200 bytes");
        } else {
            char key[256];
            snprintf(key, sizeof key, "tally/%s", in->name);
            int64_t total = get_number(call, key) + in->amount;
            put_number(call, key, total);   /* committed with the call, only if it answers OK */
            {{TYPE}}__V1__Tally out = {{UPPER}}__V1__TALLY__INIT;
            out.name = in->name;
            out.total = total;
            out.added_by = (char *)api->caller(call);
            status = respond(call, &out.base);
        }
        {{IDENT}}__v1__add_request__free_unpacked(in, NULL);
        return status;
    }

    CONVENE_METHOD_HOOK(get_meetings) {
        (void)state; (void)method; (void)request; (void)length;
        size_t last_length = 0;
        const uint8_t *last = get_bytes(call, "meetings/last", &last_length);
        char last_text[256] = "";
        if (last && last_length < sizeof last_text) {
            memcpy(last_text, last, last_length);
            last_text[last_length] = 0;
        }
        {{TYPE}}__V1__Meetings out = {{UPPER}}__V1__MEETINGS__INIT;
        out.convened = get_number(call, "meetings/convened");
        out.last_meeting = last_text;
        return respond(call, &out.base);
    }

    /* meeting.convened: count it, remember it, and emit an event about the meeting. Storage
     * writes, the event and the plugin's place in the event log commit together. */
    static void on_event(void *state, convene_call *call, const char *kind, const uint8_t *payload, size_t length) {
        (void)state; (void)kind;
        {{TYPE}}__V1__MeetingEvent *event = {{IDENT}}__v1__meeting_event__unpack(NULL, length, payload);
        if (!event) return;
        int64_t count = get_number(call, "meetings/convened") + 1;
        put_number(call, "meetings/convened", count);
        put_text(call, "meetings/last", event->subject_id);
        char description[64];
        snprintf(description, sizeof description, "meeting %" PRId64 " counted", count);
        emit_about(call, event->subject_id, "{{NAME}}.meeting_counted", description);
        {{IDENT}}__v1__meeting_event__free_unpacked(event, NULL);
    }

    static const convene_method methods[] = {
        CONVENE_METHOD(PACKAGE, "Add", "AddRequest", "Tally", add),
        CONVENE_METHOD(PACKAGE, "GetMeetings", "GetMeetingsRequest", "Meetings", get_meetings),
    };

    static const char *const events[] = { "meeting.convened" };

    static convene_plugin_descriptor descriptor = {
        .abi_major = CONVENE_ABI_MAJOR,
        .abi_minor = CONVENE_ABI_MINOR,
        .size = sizeof(convene_plugin_descriptor),
        .name = "{{NAME}}",
        .version = "0.1.0",
        .service = PACKAGE ".{{TYPE}}",
        .methods = methods,
        .method_count = sizeof methods / sizeof methods[0],
        .events = events,
        .event_count = sizeof events / sizeof events[0],
        .on_event = on_event,
    };

    CONVENE_PLUGIN_ENTRY_POINT(descriptor, {{IDENT}}_descriptor_set, "{{NAME}} ready")

    """#

    static let cMakefile = """
    # Builds build/lib{{IDENT}}.so, the {{NAME}} plugin, with the Convene plugin SDK installed in
    # CONVENE_SDK: `make` (generate and build), `make test` (in memory, no server), `make clean`.
    CONVENE_SDK ?= {{SDK}}
    CONVENE ?= {{CONVENE}}
    PKG_CONFIG := PKG_CONFIG_PATH=$(CONVENE_SDK)/lib/pkgconfig pkg-config
    CFLAGS ?= -O2 -g
    CFLAGS += -fPIC -Wall -Wextra -Igen $(shell $(PKG_CONFIG) --cflags convene-plugin)
    LDLIBS += $(shell $(PKG_CONFIG) --libs convene-plugin)
    LIBRARY := build/lib{{IDENT}}.so
    GENERATED := gen/{{IDENT}}/v1/{{IDENT}}.pb-c.c gen/{{IDENT}}/v1/{{IDENT}}.pb-c.h gen/{{IDENT}}_descriptor_set.h

    all: $(LIBRARY)

    # protoc-c's code for the proto, and its descriptor set as a C array.
    $(GENERATED) &: proto/{{IDENT}}/v1/{{IDENT}}.proto
    \t$(CONVENE_SDK)/bin/convene-plugin-protoc c proto gen {{IDENT}}/v1/{{IDENT}}.proto

    $(LIBRARY): src/{{IDENT}}.c $(GENERATED)
    \tmkdir -p build
    \t$(CC) $(CFLAGS) -shared -o $@ src/{{IDENT}}.c gen/{{IDENT}}/v1/{{IDENT}}.pb-c.c $(LDLIBS)

    test: $(LIBRARY)
    \t$(CONVENE) plugin test $(LIBRARY) tests/*.test

    clean:
    \trm -rf build gen tests/*.out

    .PHONY: all test clean

    """
}
