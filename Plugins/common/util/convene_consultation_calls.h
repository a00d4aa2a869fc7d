/*
 * Typed calls from C plugins to the consultation service: each function pairs a method's
 * path with its request and response types. NULL (status in *status) when the call fails;
 * free a result with the response type's free_unpacked. Header-only.
 */
#ifndef CONVENE_CONSULTATION_CALLS_H
#define CONVENE_CONSULTATION_CALLS_H

#include "convene_plugin_util.h"
#include "convene/consultation/v1/consultation.pb-c.h"

#define CONVENE_CONSULTATION_METHOD(name) "/convene.consultation.v1.Consultation/" name

static Convene__Consultation__V1__Meeting *get_meeting(convene_call *call, const char *meeting_id, int32_t as_plugin,
                                                       int32_t *status) {
    Convene__Consultation__V1__GetMeetingRequest request = CONVENE__CONSULTATION__V1__GET_MEETING_REQUEST__INIT;
    request.meeting_id = (char *)meeting_id;
    return (Convene__Consultation__V1__Meeting *)call_typed(call, CONVENE_CONSULTATION_METHOD("GetMeeting"), &request.base,
        as_plugin, &convene__consultation__v1__meeting__descriptor, status, NULL, NULL);
}

/* GetOperation; on failure also the status message (host-owned, not NUL-terminated). */
static Convene__Consultation__V1__Operation *get_operation(convene_call *call, const char *operation_id, int32_t as_plugin,
                                                           int32_t *status, const char **message, size_t *message_length) {
    Convene__Consultation__V1__GetOperationRequest request = CONVENE__CONSULTATION__V1__GET_OPERATION_REQUEST__INIT;
    request.operation_id = (char *)operation_id;
    return (Convene__Consultation__V1__Operation *)call_typed(call, CONVENE_CONSULTATION_METHOD("GetOperation"), &request.base,
        as_plugin, &convene__consultation__v1__operation__descriptor, status, message, message_length);
}

static Convene__Consultation__V1__ListContributionsResponse *list_contributions(convene_call *call, const char *operation_id,
                                                                               int32_t as_plugin, int32_t *status) {
    Convene__Consultation__V1__ListContributionsRequest request = CONVENE__CONSULTATION__V1__LIST_CONTRIBUTIONS_REQUEST__INIT;
    request.operation_id = (char *)operation_id;
    return (Convene__Consultation__V1__ListContributionsResponse *)call_typed(call, CONVENE_CONSULTATION_METHOD("ListContributions"),
        &request.base, as_plugin, &convene__consultation__v1__list_contributions_response__descriptor, status, NULL, NULL);
}

#endif
