/*
 * convene_plugin.h: the Convene plugin ABI, version 1.3.
 *
 * A plugin is a shared library that exports one symbol, CONVENE_PLUGIN_ENTRY
 * ("convene_plugin_entry"), of type convene_plugin_entry_fn. The server calls it once
 * after dlopen with the host's function table; the plugin answers with a descriptor
 * of what it serves. Depends on the C standard library only.
 *
 * Versioning. CONVENE_ABI_MAJOR changes only when something here changes
 * incompatibly; the host refuses a plugin of another major version. CONVENE_ABI_MINOR
 * grows when something is added: the host table and the descriptor only ever grow at
 * their end, and both start with their ABI version and their size, so each side can
 * tell what the other has. A function added in a later minor version may be NULL in
 * an older host: check `size` (or the pointer) before calling it.
 *
 * Names. Every name starts with "convene_" (functions and
 * types) or "CONVENE_" (macros). Hooks the host calls are named `on_...`; functions
 * the plugin calls are members of convene_host_api.
 *
 * Payloads. Requests, responses and event payloads are serialized protobuf messages
 * of the types named in the descriptor.
 *
 * Ownership. Every pointer the host passes to the plugin is owned by the host and
 * valid only until the hook it was passed to returns (or, for data returned by a host
 * function during a call, until that call's hook returns); copy what you keep. Every
 * pointer the plugin passes to the host is owned by the plugin; the host copies what
 * it keeps before the function returns, except the descriptor and everything it points
 * to, which must stay valid until on_unload returns.
 *
 * Threads. convene_plugin_entry and on_unload are called once, on a host thread, with
 * no call in flight. on_call and on_event are called on the host's plugin threads,
 * never on a network event loop, possibly several at once (up to the host's
 * per-plugin concurrency limit): the plugin's own shared state needs its own locking.
 * Host functions may be called from any thread, but those taking a convene_call only
 * during that call's hook: a call handle used after its hook returned is refused (the
 * function fails and the host logs it), never followed.
 *
 * Visibility. What a party may not see through the server's services (a meeting it is
 * not invited to answers NOT_FOUND), it must not learn through a plugin either. A
 * plugin method that names, lists or acts on a meeting or operation checks it with
 * caller_may_see first, and answers NOT_FOUND (or leaves the reference out) when the
 * caller may not see it. A party with no role, contribution, standing or invitation on an
 * operation learns that the operation exists and nothing else (the server's AccessRules):
 * caller_may_see answers 0 for its operations, and ask_rule(CONVENE_RULE_OPERATION_ACCESS)
 * says what else the caller may read of one.
 */
#ifndef CONVENE_PLUGIN_H
#define CONVENE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONVENE_ABI_MAJOR 1
#define CONVENE_ABI_MINOR 3
#define CONVENE_PLUGIN_ENTRY "convene_plugin_entry"

/* Status codes, numbered as gRPC's. A hook returns CONVENE_OK or one of these. */
typedef enum convene_status {
    CONVENE_OK = 0,
    CONVENE_CANCELLED = 1,
    CONVENE_UNKNOWN = 2,
    CONVENE_INVALID_ARGUMENT = 3,
    CONVENE_DEADLINE_EXCEEDED = 4,
    CONVENE_NOT_FOUND = 5,
    CONVENE_ALREADY_EXISTS = 6,
    CONVENE_PERMISSION_DENIED = 7,
    CONVENE_RESOURCE_EXHAUSTED = 8,
    CONVENE_FAILED_PRECONDITION = 9,
    CONVENE_ABORTED = 10,
    CONVENE_OUT_OF_RANGE = 11,
    CONVENE_UNIMPLEMENTED = 12,
    CONVENE_INTERNAL = 13,
    CONVENE_UNAVAILABLE = 14,
    CONVENE_DATA_LOSS = 15,
    CONVENE_UNAUTHENTICATED = 16
} convene_status;

typedef enum convene_log_level {
    CONVENE_LOG_DEBUG = 0,
    CONVENE_LOG_INFO = 1,
    CONVENE_LOG_WARNING = 2,
    CONVENE_LOG_ERROR = 3
} convene_log_level;

typedef enum convene_method_kind {
    CONVENE_UNARY = 0
    /* Streaming plugin methods may come in a later minor version. */
} convene_method_kind;

/* Questions a plugin asks the server's rules with ask_rule (added in 1.2), so that a rule of
 * the resolution is decided once, by the server, for built-in services and plugins alike. */
typedef enum convene_rule_question {
    /* What the caller may read of operation `object_id` (party_id NULL): a convene_access. */
    CONVENE_RULE_OPERATION_ACCESS = 1,
    /* Whether the caller may form a Group of Friends of the Secretary-General on operation
     * `object_id` and add its members (I.C.2): 1 or 0 (party_id NULL). */
    CONVENE_RULE_FRIENDS_FORM = 2,
    /* Whether party `party_id` may be a member of a Group of Friends on operation `object_id`
     * (I.C.2): 1 or 0, with the reason. */
    CONVENE_RULE_FRIENDS_MEMBER = 3,
    /* Whether party `party_id`, proposed by a Group of Friends, falls in a II.B.3 category for
     * meeting `object_id`: 1 with the category's provision ("II.B.3(a)") and the reason, or 0
     * with why it cannot be invited. */
    CONVENE_RULE_INVITATION = 4,
    /* What party `party_id` may be recorded as in a Group of Friends on operation `object_id`
     * (I.C.2): the convene_friends_member_kind bits that fit it (0 with the reason when it may
     * not be a member), and the reason naming them. Added after ABI 1.2 was first released: a
     * host that does not know it answers -1 (cannot tell), as for any question it does not know. */
    CONVENE_RULE_FRIENDS_MEMBER_KINDS = 5,
    /* Whether party `party_id` is a country, a Member State (I.B.1's training centres and their
     * trainees, II.B.3(f)'s host): 1, or 0 with the reason naming what it is; -1 with "no party"
     * when there is none (`object_id` is not read). Added after ABI 1.3 was first released: a
     * host that does not know it answers -1, as for any question it does not know. */
    CONVENE_RULE_COUNTRY = 6
} convene_rule_question;

/* The answer to CONVENE_RULE_FRIENDS_MEMBER_KINDS: one bit per kind of member that fits. */
typedef enum convene_friends_member_kind {
    CONVENE_FRIENDS_CONTRIBUTOR = 1,           /* contributes personnel, or identified as a potential contributor */
    CONVENE_FRIENDS_COUNCIL_MEMBER = 2,        /* a member of the Security Council */
    CONVENE_FRIENDS_DONOR = 4,                 /* contributes anything but personnel */
    CONVENE_FRIENDS_COUNTRY_OF_THE_REGION = 8  /* the host country */
} convene_friends_member_kind;

/* What a party may read of an operation (the answer to CONVENE_RULE_OPERATION_ACCESS). */
typedef enum convene_access {
    CONVENE_ACCESS_NONE = 0,        /* no such operation */
    CONVENE_ACCESS_EXISTENCE = 1,   /* no role, contribution, standing or invitation: that it exists (id, name) only */
    CONVENE_ACCESS_PARTY = 2,       /* named by II.B.3 for it (a contributor, potential contributor, the host country) or invited to one of its meetings */
    CONVENE_ACCESS_COUNCIL = 3,     /* a member of the Security Council */
    CONVENE_ACCESS_SECRETARIAT = 4  /* the Secretariat (and the plugin itself, during an event delivery) */
} convene_access;

/* The host, as the plugin sees it. Opaque. */
typedef struct convene_host convene_host;

/* One call (or one event delivery) in progress. Opaque; valid during its hook only. */
typedef struct convene_call convene_call;

/* ---------------------------------------------------------------- host table */

typedef struct convene_host_api {
    uint32_t abi_major;   /* CONVENE_ABI_MAJOR of the host */
    uint32_t abi_minor;   /* CONVENE_ABI_MINOR of the host */
    size_t size;          /* sizeof(convene_host_api) in the host */

    /* Writes to the server's log, attributed to the plugin. Any thread. */
    void (*log)(convene_host *host, convene_log_level level, const char *message);

    /* The response of the call: the host copies `len` bytes. Call at most once. */
    void (*set_response)(convene_call *call, const uint8_t *data, size_t len);

    /* The status message sent with a non-OK status returned by on_call (UTF-8, copied). */
    void (*set_error)(convene_call *call, const char *message);

    /* The calling party's id ("party-3"), or "" for an event delivery. Host-owned. A call
     * reaches a plugin only with a valid credential: during on_call it is never "". */
    const char *(*caller)(convene_call *call);

    /* 1 when the calling party holds `role` (convene.parties.v1.Role: 1 Council
     * President, 2 Council member, 3 Secretariat, 4 administrator), else 0. */
    int32_t (*caller_has_role)(convene_call *call, int32_t role);

    /*
     * Plugin-scoped durable storage, a map from byte keys to byte values private to this
     * plugin. Writes made during a call are committed together, after on_call returns
     * CONVENE_OK (or on_event returns), in one transaction; a failed call commits none.
     * Reads see the committed state plus this call's own writes.
     *
     * storage_get returns 1 and sets *value and *value_len (host-owned, valid until the hook
     * returns) when the key exists, 0 when it does not, a negative number on error.
     */
    int32_t (*storage_get)(convene_call *call, const uint8_t *key, size_t key_len,
                           const uint8_t **value, size_t *value_len);
    int32_t (*storage_put)(convene_call *call, const uint8_t *key, size_t key_len,
                           const uint8_t *value, size_t value_len);
    int32_t (*storage_delete)(convene_call *call, const uint8_t *key, size_t key_len);
    /*
     * Keys starting with `prefix`, in byte order, from `after` (exclusive; NULL for the
     * start): sets *key and *key_len to the next one and returns 1, or returns 0 when none
     * is left. Host-owned results, valid until the hook returns.
     */
    int32_t (*storage_next)(convene_call *call, const uint8_t *prefix, size_t prefix_len,
                            const uint8_t *after, size_t after_len,
                            const uint8_t **key, size_t *key_len);

    /* Emits a plugin event (`kind` like "friends.group_formed") on an operation
     * ("op-3"); delivered to subscribers after the call commits. Returns 0 or negative. */
    int32_t (*emit_event)(convene_call *call, const char *operation_id, const char *kind,
                          const char *description);

    /*
     * Calls a method of the server ("/convene.consultation.v1.Consultation/GetOperation")
     * with a serialized request, as the caller of this call (as_plugin = 0) or as the
     * plugin's own party (as_plugin = 1). Returns the status code; on CONVENE_OK sets
     * *response and *response_len (host-owned, valid until the hook returns); otherwise
     * *response is the status message (UTF-8, not NUL-terminated).
     */
    int32_t (*call_service)(convene_call *call, const char *method_path,
                            const uint8_t *request, size_t request_len, int32_t as_plugin,
                            const uint8_t **response, size_t *response_len);

    /* ---- Added in 1.1: check `size` (or that the pointer is not NULL) before use. ---- */

    /*
     * Whether the party of this call may see `object_id`, a meeting ("mtg-3") or an
     * operation's records ("op-2": since 1.2, 0 for a party that may know only that the
     * operation exists), by the rules the server's own services apply: 1 when it may, 0
     * when it may not or when no such object exists (a service would answer NOT_FOUND
     * either way), negative when the host cannot tell (an id of another kind: treat it as
     * 0). During an event delivery the plugin acts for itself and sees whatever exists.
     */
    int32_t (*caller_may_see)(convene_call *call, const char *object_id);

    /*
     * Emits a plugin event about `subject_id`: a meeting ("mtg-3"; the event joins that
     * meeting's operation, and WatchOperation shows it only to parties that may see the
     * meeting) or an operation ("op-3"). Delivered to subscribers after the call commits.
     * Returns 0, or negative when the subject is not an existing meeting or operation.
     */
    int32_t (*emit_event_about)(convene_call *call, const char *subject_id, const char *kind,
                                const char *description);

    /* ---- Added in 1.2: check `size` (or that the pointer is not NULL) before use. ---- */

    /*
     * Asks the server's rules a convene_rule_question about the caller (party_id NULL) or a
     * party ("party-3") and an operation ("op-2") or meeting ("mtg-3"), as the question says.
     * Returns the answer (>= 0, as the question says) and, when `provision` or `reason` is
     * not NULL, sets it to a host-owned NUL-terminated UTF-8 text (valid until the hook
     * returns; "" when there is none): the provision of the answer, and why, in the
     * resolution's words (the message to refuse with when the answer is no). Returns a
     * negative number when the rules cannot answer: an unknown question, no such party,
     * operation or meeting, or one the caller may not see (questions about other parties are
     * answered only to a caller with more than CONVENE_ACCESS_EXISTENCE on the operation, or
     * during an event delivery); *reason then says which.
     */
    int32_t (*ask_rule)(convene_call *call, int32_t question, const char *party_id, const char *object_id,
                        const char **provision, const char **reason);

    /* ---- Added in 1.3: check `size` (or that the pointer is not NULL) before use. ---- */

    /*
     * Emits a plugin event about an operation ("op-3") that WatchOperation shows only to
     * `audience` (a convene_event_audience) among the parties that may read the operation:
     * for an event that tells of something not every such party may list (a record kept
     * for one party, or for the contributors). CONVENE_AUDIENCE_SUBJECT is emit_event_about,
     * and then the subject may be a meeting too. `party_id` ("party-3") names the party of
     * CONVENE_AUDIENCE_PARTY and is ignored otherwise. Delivered to subscribers after the
     * call commits. Returns 0, or negative for an unknown audience, a party_id that is not a
     * party's id ("party-" and digits), or a subject that is not an existing operation (a
     * meeting, with an audience other than CONVENE_AUDIENCE_SUBJECT). A party id naming no
     * party leaves the Council and the Secretariat as the audience.
     */
    int32_t (*emit_event_to)(convene_call *call, const char *subject_id, const char *kind,
                             const char *description, int32_t audience, const char *party_id);
} convene_host_api;

/* Who receives a plugin event emitted with emit_event_to (since 1.3). */
typedef enum convene_event_audience {
    /* Whoever may see its subject: the meeting's invitees (with the President and the
     * Secretariat), or whoever may read the operation's records. */
    CONVENE_AUDIENCE_SUBJECT = 0,
    /* The Council, the Secretariat and the one party named (a reconnaissance visit it asked for). */
    CONVENE_AUDIENCE_PARTY = 1,
    /* The Council, the Secretariat and every party contributing to the operation. */
    CONVENE_AUDIENCE_CONTRIBUTORS = 2,
} convene_event_audience;

/* ---------------------------------------------------------------- plugin side */

struct convene_method;

/* Serves one unary call of `method` (a pointer into the descriptor's methods, so one
 * function can serve several methods). Return CONVENE_OK after set_response, or another
 * status (with set_error for its message). */
typedef int32_t (*convene_on_call_fn)(void *plugin_state, const struct convene_method *method,
                                      convene_call *call, const uint8_t *request, size_t request_len);

typedef struct convene_method {
    const char *name;          /* "FormGroup" */
    convene_method_kind kind;
    const char *input_type;    /* "convene.friends.v1.FormGroupRequest" */
    const char *output_type;   /* "convene.friends.v1.Group" */
    convene_on_call_fn on_call;
} convene_method;

/* A domain event the plugin subscribed to; `payload` is a serialized
 * convene.consultation.v1.OperationEvent. Storage writes and emitted events commit when
 * it returns, together with the plugin's position in the event log: each event is
 * reacted to once, in order, across crashes and restarts (see Docs/PLUGINS.md). */
typedef void (*convene_on_event_fn)(void *plugin_state, convene_call *event_call,
                                    const char *kind, const uint8_t *payload, size_t payload_len);

typedef struct convene_plugin_descriptor {
    uint32_t abi_major;        /* CONVENE_ABI_MAJOR the plugin was built against */
    uint32_t abi_minor;
    size_t size;               /* sizeof(convene_plugin_descriptor) in the plugin */

    const char *name;          /* unique among loaded plugins, e.g. "groups-of-friends" */
    const char *version;       /* the plugin's own version, e.g. "1.0.0" */
    const char *service;       /* fully qualified service, e.g. "convene.friends.v1.GroupsOfFriends" */
    const convene_method *methods;
    size_t method_count;
    /* Event kinds to receive ("meeting.convened"), or "*" for all. */
    const char *const *events;
    size_t event_count;
    /* A serialized google.protobuf.FileDescriptorSet with the service and its messages. */
    const uint8_t *descriptor_set;
    size_t descriptor_set_len;

    void *state;                      /* passed back to every hook */
    convene_on_event_fn on_event;     /* may be NULL when event_count is 0 */
    void (*on_unload)(void *state);   /* may be NULL */
} convene_plugin_descriptor;

/*
 * The entry point. Return CONVENE_OK and set *descriptor, or another status and,
 * optionally, *error (a static or plugin-owned string) saying why; the host then
 * refuses the plugin and logs the reason.
 */
typedef int32_t (*convene_plugin_entry_fn)(const convene_host_api *api, convene_host *host,
                                           const convene_plugin_descriptor **descriptor,
                                           const char **error);

#ifdef __cplusplus
}
#endif

#endif /* CONVENE_PLUGIN_H */
