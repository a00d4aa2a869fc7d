/*
 * Military Staff Committee review (resolution 1353 (2001), I.C.1).
 *
 * A meeting convened at the stage of a mandate change (II.B.2(b)) or on operational issues
 * (II.B.4(b)), or a change in the authorization to use force, opens a review. Committee
 * members (Council members) submit findings; the Council President closes it. A review of
 * a meeting is visible to whoever may see the meeting (its invitees, the President, the
 * Secretariat); a review of a mandate change to the Council, the Secretariat and the
 * operation's contributors. To anyone else it does not exist.
 *
 * Storage: "review/<id>" -> Review, "seq/review" -> counter.
 */
#include "convene_consultation_calls.h"
#include "convene/msc/v1/msc.pb-c.h"
#include "gen/msc_descriptor_set.h"
#define ROLE_PRESIDENT 1
#define ROLE_COUNCIL_MEMBER 2
#define ROLE_SECRETARIAT 3

typedef Convene__Msc__V1__Review Review;

static Review *load_review(convene_call *call, const char *id) {
    char key[256];
    /* An id too long for the key names nothing (and must not alias a shorter one). */
    if ((size_t)snprintf(key, sizeof key, "review/%s", id) >= sizeof key) return NULL;
    size_t length;
    const uint8_t *value = get_bytes(call, key, &length);
    return value ? convene__msc__v1__review__unpack(NULL, length, value) : NULL;
}

static int32_t save_review(convene_call *call, const Review *review) {
    char key[256];
    if ((size_t)snprintf(key, sizeof key, "review/%s", review->id) >= sizeof key) return CONVENE_INVALID_ARGUMENT;
    return put_message(call, key, &review->base);
}

/* An event about a review, for those who may see it (may_see_review): a meeting's review's
 * reaches the meeting's invitees; a mandate change's, the Council, the Secretariat and the
 * operation's contributors. */
static void emit_review_event(convene_call *call, const char *operation_id, const char *subject_id, const char *kind,
                              const char *description) {
    if (strncmp(subject_id, "mtg-", 4) == 0) {
        emit_about(call, subject_id, kind, description);
    } else {
        emit_to(call, operation_id, kind, description, CONVENE_AUDIENCE_CONTRIBUTORS, NULL);
    }
}

static void open_review(convene_call *call, const char *operation_id, const char *subject_id, const char *reason) {
    char id[32];
    uint64_t number = next_number(call, "review");
    if (number == 0) return;  /* refused (over the call's storage limits): no review numbered over another */
    snprintf(id, sizeof id, "review-%llu", (unsigned long long)number);
    Review review = CONVENE__MSC__V1__REVIEW__INIT;
    review.id = id;
    review.operation_id = (char *)operation_id;
    review.subject_id = (char *)subject_id;
    review.reason = (char *)reason;
    review.status = CONVENE__MSC__V1__REVIEW_STATUS__OPEN;
    if (save_review(call, &review) == 0) {
        char description[300];
        snprintf(description, sizeof description, "Military Staff Committee review opened: %s (I.C.1)", reason);
        emit_review_event(call, operation_id, subject_id, "msc.review_opened", description);
    }
}

static void on_event(void *state, convene_call *call, const char *kind, const uint8_t *payload, size_t length) {
    (void)state;
    Convene__Consultation__V1__OperationEvent *event = convene__consultation__v1__operation_event__unpack(NULL, length, payload);
    if (!event) return;
    if (strcmp(kind, "mandate.updated") == 0) {
        if (strstr(event->description, "authorization to use force")) {
            open_review(call, event->operation_id, event->operation_id,
                        "change in the authorization to use force (II.B.2(b))");
        }
    } else if (strcmp(kind, "meeting.convened") == 0) {
        int32_t status;
        Convene__Consultation__V1__Meeting *meeting = get_meeting(call, event->subject_id, 1, &status);
        if (meeting) {
            int operational = meeting->stage == CONVENE__CONSULTATION__V1__STAGE__MANDATE_CHANGE;
            for (size_t i = 0; i < meeting->n_topics; i++) {
                if (meeting->topics[i]->kind == CONVENE__CONSULTATION__V1__TOPIC_KIND__OPERATIONAL_ISSUES) operational = 1;
            }
            if (operational) {
                open_review(call, meeting->operation_id, meeting->id,
                            meeting->stage == CONVENE__CONSULTATION__V1__STAGE__MANDATE_CHANGE
                                ? "meeting on a change of mandate (II.B.2(b))"
                                : "meeting on operational issues (II.B.4(b))");
            }
            convene__consultation__v1__meeting__free_unpacked(meeting, NULL);
        } else {
            api->log(host, CONVENE_LOG_WARNING, "cannot read a convened meeting");
        }
    }
    convene__consultation__v1__operation_event__free_unpacked(event, NULL);
}

/* Whether the caller may see `review`: a meeting's review whoever may see the meeting; a
 * mandate change's the Council, the Secretariat, or a contributor to the operation. */
static int may_see_review(convene_call *call, const Review *review) {
    if (strncmp(review->subject_id, "mtg-", 4) == 0) return may_see(call, review->subject_id);
    if (!may_see(call, review->operation_id)) return 0;
    if (api->caller_has_role(call, ROLE_PRESIDENT) || api->caller_has_role(call, ROLE_COUNCIL_MEMBER) ||
        api->caller_has_role(call, ROLE_SECRETARIAT)) return 1;
    const char *caller = api->caller(call);
    int32_t status;
    Convene__Consultation__V1__ListContributionsResponse *contributions = list_contributions(call, review->operation_id, 1, &status);
    int found = 0;
    for (size_t i = 0; contributions && i < contributions->n_contributions; i++) {
        if (strcmp(contributions->contributions[i]->party_id, caller) == 0) found = 1;
    }
    if (contributions) convene__consultation__v1__list_contributions_response__free_unpacked(contributions, NULL);
    return found;
}

/* A review the caller may see; NULL when there is none (or it may not see it). */
static Review *load_visible_review(convene_call *call, const char *id) {
    Review *review = load_review(call, id);
    if (review && !may_see_review(call, review)) {
        convene__msc__v1__review__free_unpacked(review, NULL);
        return NULL;
    }
    return review;
}

typedef struct {
    convene_call *call;
    const char *operation_id;
    Review **items;
    size_t count, capacity;
} review_list;

static void collect(const uint8_t *value, size_t length, void *context) {
    review_list *list = context;
    Review *review = convene__msc__v1__review__unpack(NULL, length, value);
    if (!review) return;
    if ((list->operation_id[0] && strcmp(review->operation_id, list->operation_id) != 0) || !may_see_review(list->call, review)) {
        convene__msc__v1__review__free_unpacked(review, NULL);
        return;
    }
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 8;
        list->items = realloc(list->items, sizeof(Review *) * list->capacity);
    }
    list->items[list->count++] = review;
}

CONVENE_METHOD_HOOK(list_reviews) {
    (void)state; (void)method;
    Convene__Msc__V1__ListReviewsRequest *in = convene__msc__v1__list_reviews_request__unpack(NULL, length, request);
    if (!in) return fail(call, CONVENE_INVALID_ARGUMENT, "request is not a valid ListReviewsRequest");
    /* An operation named: refused, as ListContributions refuses it, to a party that may know only that it exists. */
    int32_t refused = in->operation_id[0] ? require_readable_operation(call, in->operation_id, "operation_id") : CONVENE_OK;
    if (refused != CONVENE_OK) {
        convene__msc__v1__list_reviews_request__free_unpacked(in, NULL);
        return refused;
    }
    review_list list = { call, in->operation_id, NULL, 0, 0 };
    scan(call, "review/", collect, &list);
    Convene__Msc__V1__ListReviewsResponse out = CONVENE__MSC__V1__LIST_REVIEWS_RESPONSE__INIT;
    out.n_reviews = list.count;
    out.reviews = list.items;
    int32_t rc = respond(call, &out.base);
    for (size_t i = 0; i < list.count; i++) convene__msc__v1__review__free_unpacked(list.items[i], NULL);
    free(list.items);
    convene__msc__v1__list_reviews_request__free_unpacked(in, NULL);
    return rc;
}

CONVENE_METHOD_HOOK(submit_finding) {
    (void)state; (void)method;
    Convene__Msc__V1__SubmitFindingRequest *in = convene__msc__v1__submit_finding_request__unpack(NULL, length, request);
    if (!in) return fail(call, CONVENE_INVALID_ARGUMENT, "request is not a valid SubmitFindingRequest");
    int32_t rc;
    Review *review = NULL;
    if (!api->caller_has_role(call, ROLE_COUNCIL_MEMBER) && !api->caller_has_role(call, ROLE_PRESIDENT)) {
        rc = fail(call, CONVENE_PERMISSION_DENIED, "findings are submitted by members of the Military Staff Committee (I.C.1)");
        goto done;
    }
    if ((rc = require_text(call, in->text, "text")) != CONVENE_OK) goto done;
    review = load_visible_review(call, in->review_id);
    if (!review) { rc = fail(call, CONVENE_NOT_FOUND, "review_id: no such review"); goto done; }
    if (review->status != CONVENE__MSC__V1__REVIEW_STATUS__OPEN) {
        rc = fail(call, CONVENE_FAILED_PRECONDITION, "the review is closed");
        goto done;
    }
    Convene__Msc__V1__Finding finding = CONVENE__MSC__V1__FINDING__INIT;
    finding.party_id = (char *)api->caller(call);
    finding.text = in->text;
    Review updated = *review;
    updated.findings = malloc(sizeof(Convene__Msc__V1__Finding *) * (review->n_findings + 1));
    memcpy(updated.findings, review->findings, sizeof(Convene__Msc__V1__Finding *) * review->n_findings);
    updated.findings[updated.n_findings++] = &finding;
    rc = save_review(call, &updated) == 0 ? respond(call, &updated.base) : fail(call, CONVENE_INTERNAL, "storage failed");
    free(updated.findings);
done:
    if (review) convene__msc__v1__review__free_unpacked(review, NULL);
    convene__msc__v1__submit_finding_request__free_unpacked(in, NULL);
    return rc;
}

CONVENE_METHOD_HOOK(close_review) {
    (void)state; (void)method;
    Convene__Msc__V1__CloseReviewRequest *in = convene__msc__v1__close_review_request__unpack(NULL, length, request);
    if (!in) return fail(call, CONVENE_INVALID_ARGUMENT, "request is not a valid CloseReviewRequest");
    int32_t rc;
    Review *review = NULL;
    if (!api->caller_has_role(call, ROLE_PRESIDENT)) {
        rc = fail(call, CONVENE_PERMISSION_DENIED, "the Council President closes Military Staff Committee reviews");
        goto done;
    }
    if ((rc = require_text(call, in->conclusion, "conclusion")) != CONVENE_OK) goto done;
    review = load_visible_review(call, in->review_id);
    if (!review) { rc = fail(call, CONVENE_NOT_FOUND, "review_id: no such review"); goto done; }
    if (review->status != CONVENE__MSC__V1__REVIEW_STATUS__OPEN) {
        rc = fail(call, CONVENE_FAILED_PRECONDITION, "the review is already closed");
        goto done;
    }
    Review updated = *review;
    updated.status = CONVENE__MSC__V1__REVIEW_STATUS__CLOSED;
    updated.conclusion = in->conclusion;
    rc = save_review(call, &updated) == 0 ? respond(call, &updated.base) : fail(call, CONVENE_INTERNAL, "storage failed");
    /* Not the conclusion, which stays in ListReviews. */
    if (rc == CONVENE_OK)
        emit_review_event(call, review->operation_id, review->subject_id, "msc.review_closed",
                          "Military Staff Committee review closed; its conclusion is in ListReviews (I.C.1)");
done:
    if (review) convene__msc__v1__review__free_unpacked(review, NULL);
    convene__msc__v1__close_review_request__free_unpacked(in, NULL);
    return rc;
}

#define MSC "convene.msc.v1"

static const convene_method methods[] = {
    CONVENE_METHOD(MSC, "ListReviews", "ListReviewsRequest", "ListReviewsResponse", list_reviews),
    CONVENE_METHOD(MSC, "SubmitFinding", "SubmitFindingRequest", "Review", submit_finding),
    CONVENE_METHOD(MSC, "CloseReview", "CloseReviewRequest", "Review", close_review),
};

static const char *const events[] = { "meeting.convened", "mandate.updated" };

static convene_plugin_descriptor descriptor = {
    .abi_major = CONVENE_ABI_MAJOR, .abi_minor = CONVENE_ABI_MINOR, .size = sizeof(convene_plugin_descriptor),
    .name = "military-staff-committee", .version = "1.0.0", .service = MSC ".MilitaryStaffCommittee",
    .methods = methods, .method_count = sizeof methods / sizeof methods[0],
    .events = events, .event_count = 2, .on_event = on_event,
};

CONVENE_PLUGIN_ENTRY_POINT(descriptor, msc_descriptor_set, NULL)
