/*
 * Integrated mission task forces (resolution 1353 (2001), I.B.7).
 *
 * A mission-planning meeting for an operation (II.B.2(a)) forms its task force, with the
 * Secretariat's departments; the Secretariat adds members and planning tasks with owners
 * and status; the task force is dissolved when the operation terminates. A task force is
 * seen only by those who may see the meeting that formed it: that a task force exists tells
 * that a mission-planning meeting was convened, which a party not invited to it must not
 * learn (its events are about that meeting, too).
 *
 * Storage: "taskforce/<op>" -> TaskForce, "seq/task" -> counter.
 */
#include "convene_consultation_calls.h"
#include "convene/taskforce/v1/taskforce.pb-c.h"
#include "gen/taskforce_descriptor_set.h"
#define ROLE_SECRETARIAT 3

typedef Convene__Taskforce__V1__TaskForce TaskForce;

static char *default_departments[] = {
    "Political affairs", "Military planning", "Police", "Logistics and support", "Humanitarian liaison", "Public information",
};

static TaskForce *load(convene_call *call, const char *operation_id) {
    char key[256];
    /* An id too long for the key names nothing (and must not alias a shorter one). */
    if ((size_t)snprintf(key, sizeof key, "taskforce/%s", operation_id) >= sizeof key) return NULL;
    size_t length;
    const uint8_t *value = get_bytes(call, key, &length);
    return value ? convene__taskforce__v1__task_force__unpack(NULL, length, value) : NULL;
}

static int32_t save(convene_call *call, const TaskForce *force) {
    char key[256];
    if ((size_t)snprintf(key, sizeof key, "taskforce/%s", force->operation_id) >= sizeof key) return CONVENE_INVALID_ARGUMENT;
    return put_message(call, key, &force->base);
}

static void formed(convene_call *call, const char *operation_id, const char *meeting_id) {
    TaskForce *existing = load(call, operation_id);
    if (existing) {
        convene__taskforce__v1__task_force__free_unpacked(existing, NULL);
        return;
    }
    char id[300];
    snprintf(id, sizeof id, "imtf-%s", operation_id);
    TaskForce force = CONVENE__TASKFORCE__V1__TASK_FORCE__INIT;
    force.id = id;
    force.operation_id = (char *)operation_id;
    force.formed_by_meeting_id = (char *)meeting_id;
    force.status = CONVENE__TASKFORCE__V1__TASK_FORCE_STATUS__ACTIVE;
    force.n_departments = sizeof default_departments / sizeof default_departments[0];
    force.departments = default_departments;
    if (save(call, &force) == 0) {
        emit_about(call, meeting_id, "imtf.formed", "integrated mission task force formed for mission planning (I.B.7)");
    }
}

static void on_event(void *state, convene_call *call, const char *kind, const uint8_t *payload, size_t length) {
    (void)state;
    Convene__Consultation__V1__OperationEvent *event = convene__consultation__v1__operation_event__unpack(NULL, length, payload);
    if (!event) return;
    int32_t status;
    if (strcmp(kind, "meeting.convened") == 0) {
        Convene__Consultation__V1__Meeting *meeting = get_meeting(call, event->subject_id, 1, &status);
        /* The stage of II.B.2(a) is the contributors' consultation meeting's: another form at that
         * stage (an II.D exchange among a few) forms nothing. */
        if (meeting && meeting->form == CONVENE__CONSULTATION__V1__MEETING_FORM__CONSULTATION_MEETING
            && meeting->stage == CONVENE__CONSULTATION__V1__STAGE__MISSION_PLANNING) {
            formed(call, meeting->operation_id, meeting->id);
        }
        if (meeting) convene__consultation__v1__meeting__free_unpacked(meeting, NULL);
    } else if (strcmp(kind, "mandate.updated") == 0) {
        Convene__Consultation__V1__Operation *operation = get_operation(call, event->operation_id, 1, &status, NULL, NULL);
        TaskForce *force = operation ? load(call, operation->id) : NULL;
        if (force && operation->phase == CONVENE__CONSULTATION__V1__PHASE__TERMINATED &&
            force->status == CONVENE__TASKFORCE__V1__TASK_FORCE_STATUS__ACTIVE) {
            force->status = CONVENE__TASKFORCE__V1__TASK_FORCE_STATUS__DISSOLVED;
            if (save(call, force) == 0) {
                emit_about(call, force->formed_by_meeting_id[0] ? force->formed_by_meeting_id : operation->id, "imtf.dissolved",
                           "integrated mission task force dissolved on termination");
            }
        }
        if (force) convene__taskforce__v1__task_force__free_unpacked(force, NULL);
        if (operation) convene__consultation__v1__operation__free_unpacked(operation, NULL);
    }
    convene__consultation__v1__operation_event__free_unpacked(event, NULL);
}

/* Loads the active task force of an operation for a change by the Secretariat. */
static int32_t load_for_change(convene_call *call, const char *operation_id, TaskForce **out) {
    if (!api->caller_has_role(call, ROLE_SECRETARIAT)) {
        return fail(call, CONVENE_PERMISSION_DENIED, "the Secretary-General's task forces are run by the Secretariat (I.B.7)");
    }
    *out = load(call, operation_id);
    if (!*out) return fail(call, CONVENE_NOT_FOUND, "operation_id: no task force (it is formed by a mission-planning meeting, II.B.2(a))");
    if ((*out)->status != CONVENE__TASKFORCE__V1__TASK_FORCE_STATUS__ACTIVE) {
        return fail(call, CONVENE_FAILED_PRECONDITION, "the task force was dissolved");
    }
    return CONVENE_OK;
}

static int has_department(const TaskForce *force, const char *department) {
    for (size_t i = 0; i < force->n_departments; i++) {
        if (strcmp(force->departments[i], department) == 0) return 1;
    }
    return 0;
}

/* Answers with a task force as the caller may see it: the forming meeting only if it may see that meeting. */
static int32_t respond_force(convene_call *call, const TaskForce *force) {
    TaskForce shown = *force;
    if (shown.formed_by_meeting_id[0] && !may_see(call, shown.formed_by_meeting_id)) shown.formed_by_meeting_id = "";
    return respond(call, &shown.base);
}

CONVENE_METHOD_HOOK(get_task_force) {
    (void)state; (void)method;
    Convene__Taskforce__V1__GetTaskForceRequest *in = convene__taskforce__v1__get_task_force_request__unpack(NULL, length, request);
    if (!in) return fail(call, CONVENE_INVALID_ARGUMENT, "request is not a valid GetTaskForceRequest");
    /* A party that may know only that the operation exists learns nothing of its task force. */
    int32_t rc = require_readable_operation(call, in->operation_id, "operation_id");
    TaskForce *force = rc == CONVENE_OK ? load(call, in->operation_id) : NULL;
    /* One formed by a meeting the caller may not see is answered as one that does not exist. */
    if (force && force->formed_by_meeting_id[0] && !may_see(call, force->formed_by_meeting_id)) {
        convene__taskforce__v1__task_force__free_unpacked(force, NULL);
        force = NULL;
    }
    if (rc == CONVENE_OK) rc = force ? respond_force(call, force) : fail(call, CONVENE_NOT_FOUND, "operation_id: no task force");
    if (force) convene__taskforce__v1__task_force__free_unpacked(force, NULL);
    convene__taskforce__v1__get_task_force_request__free_unpacked(in, NULL);
    return rc;
}

CONVENE_METHOD_HOOK(add_member) {
    (void)state; (void)method;
    Convene__Taskforce__V1__AddMemberRequest *in = convene__taskforce__v1__add_member_request__unpack(NULL, length, request);
    if (!in) return fail(call, CONVENE_INVALID_ARGUMENT, "request is not a valid AddMemberRequest");
    TaskForce *force = NULL;
    int32_t rc = load_for_change(call, in->operation_id, &force);
    if (rc != CONVENE_OK) goto done;
    if ((rc = require_text(call, in->name, "name")) != CONVENE_OK) goto done;
    if (!has_department(force, in->department)) {
        rc = fail(call, CONVENE_INVALID_ARGUMENT, "department: not a department of this task force");
        goto done;
    }
    Convene__Taskforce__V1__TaskMember member = CONVENE__TASKFORCE__V1__TASK_MEMBER__INIT;
    member.name = in->name;
    member.department = in->department;
    TaskForce updated = *force;
    updated.members = malloc(sizeof(void *) * (force->n_members + 1));
    memcpy(updated.members, force->members, sizeof(void *) * force->n_members);
    updated.members[updated.n_members++] = &member;
    rc = save(call, &updated) == 0 ? respond_force(call, &updated) : fail(call, CONVENE_INTERNAL, "storage failed");
    free(updated.members);
done:
    if (force) convene__taskforce__v1__task_force__free_unpacked(force, NULL);
    convene__taskforce__v1__add_member_request__free_unpacked(in, NULL);
    return rc;
}

CONVENE_METHOD_HOOK(add_task) {
    (void)state; (void)method;
    Convene__Taskforce__V1__AddTaskRequest *in = convene__taskforce__v1__add_task_request__unpack(NULL, length, request);
    if (!in) return fail(call, CONVENE_INVALID_ARGUMENT, "request is not a valid AddTaskRequest");
    TaskForce *force = NULL;
    int32_t rc = load_for_change(call, in->operation_id, &force);
    if (rc != CONVENE_OK) goto done;
    if ((rc = require_text(call, in->title, "title")) != CONVENE_OK) goto done;
    if (!has_department(force, in->owner)) {
        rc = fail(call, CONVENE_INVALID_ARGUMENT, "owner: a task is owned by one of the task force's departments");
        goto done;
    }
    char id[32];
    uint64_t number = next_number(call, "task");
    if (number == 0) {
        rc = fail(call, CONVENE_INTERNAL, "storage refused the task's number");
        goto done;
    }
    snprintf(id, sizeof id, "task-%llu", (unsigned long long)number);
    Convene__Taskforce__V1__Task task = CONVENE__TASKFORCE__V1__TASK__INIT;
    task.id = id;
    task.title = in->title;
    task.owner = in->owner;
    task.status = CONVENE__TASKFORCE__V1__TASK_STATUS__TODO;
    TaskForce updated = *force;
    updated.tasks = malloc(sizeof(void *) * (force->n_tasks + 1));
    memcpy(updated.tasks, force->tasks, sizeof(void *) * force->n_tasks);
    updated.tasks[updated.n_tasks++] = &task;
    rc = save(call, &updated) == 0 ? respond_force(call, &updated) : fail(call, CONVENE_INTERNAL, "storage failed");
    free(updated.tasks);
done:
    if (force) convene__taskforce__v1__task_force__free_unpacked(force, NULL);
    convene__taskforce__v1__add_task_request__free_unpacked(in, NULL);
    return rc;
}

CONVENE_METHOD_HOOK(update_task) {
    (void)state; (void)method;
    Convene__Taskforce__V1__UpdateTaskRequest *in = convene__taskforce__v1__update_task_request__unpack(NULL, length, request);
    if (!in) return fail(call, CONVENE_INVALID_ARGUMENT, "request is not a valid UpdateTaskRequest");
    TaskForce *force = NULL;
    int32_t rc = load_for_change(call, in->operation_id, &force);
    if (rc != CONVENE_OK) goto done;
    /* An enum field holds any number on the wire: only the values the proto defines are statuses. */
    if (in->status == CONVENE__TASKFORCE__V1__TASK_STATUS__TASK_STATUS_UNSPECIFIED
        || !protobuf_c_enum_descriptor_get_value(&convene__taskforce__v1__task_status__descriptor, in->status)) {
        rc = fail(call, CONVENE_INVALID_ARGUMENT, "status: TODO, IN_PROGRESS or DONE");
        goto done;
    }
    rc = fail(call, CONVENE_NOT_FOUND, "task_id: no such task");
    for (size_t i = 0; i < force->n_tasks; i++) {
        if (strcmp(force->tasks[i]->id, in->task_id) == 0) {
            force->tasks[i]->status = in->status;
            rc = save(call, force) == 0 ? respond_force(call, force) : fail(call, CONVENE_INTERNAL, "storage failed");
            break;
        }
    }
done:
    if (force) convene__taskforce__v1__task_force__free_unpacked(force, NULL);
    convene__taskforce__v1__update_task_request__free_unpacked(in, NULL);
    return rc;
}

#define TASKFORCE "convene.taskforce.v1"

static const convene_method methods[] = {
    CONVENE_METHOD(TASKFORCE, "GetTaskForce", "GetTaskForceRequest", "TaskForce", get_task_force),
    CONVENE_METHOD(TASKFORCE, "AddMember", "AddMemberRequest", "TaskForce", add_member),
    CONVENE_METHOD(TASKFORCE, "AddTask", "AddTaskRequest", "TaskForce", add_task),
    CONVENE_METHOD(TASKFORCE, "UpdateTask", "UpdateTaskRequest", "TaskForce", update_task),
};

static const char *const events[] = { "meeting.convened", "mandate.updated" };

static convene_plugin_descriptor descriptor = {
    .abi_major = CONVENE_ABI_MAJOR, .abi_minor = CONVENE_ABI_MINOR, .size = sizeof(convene_plugin_descriptor),
    .name = "mission-task-forces", .version = "1.0.0", .service = TASKFORCE ".MissionTaskForces",
    .methods = methods, .method_count = sizeof methods / sizeof methods[0],
    .events = events, .event_count = 2, .on_event = on_event,
};

CONVENE_PLUGIN_ENTRY_POINT(descriptor, taskforce_descriptor_set, NULL)
