/// The files of a new plugin project (`convene plugin new`), in C or in Swift. Both serve the
/// same proto with the same behaviour, so one test script (and its expected output) fits both:
/// `Add` keeps a tally per name in plugin storage (Council members and the Secretariat only),
/// and the reaction to `meeting.convened` counts meetings and emits an event about the meeting.
struct PluginProject {
    let names: PluginNames
    /// The installed SDK's prefix and the convene executable, written into the build.
    let sdk: String
    let convene: String

    var protoPath: String { "\(names.ident)/v1/\(names.ident).proto" }

    /// Fills the placeholders: NAME (plugin name), IDENT (C and proto identifier), TYPE (service
    /// and Swift type), SDK, CONVENE.
    func fill(_ text: String) -> String {
        text.replacingOccurrences(of: "{{NAME}}", with: names.plugin)
            .replacingOccurrences(of: "{{IDENT}}", with: names.ident)
            .replacingOccurrences(of: "{{UPPER}}", with: names.ident.uppercased())
            .replacingOccurrences(of: "{{TYPE}}", with: names.type)
            .replacingOccurrences(of: "{{SDK}}", with: sdk)
            .replacingOccurrences(of: "{{CONVENE}}", with: convene)
    }

    var cFiles: [(String, String)] {
        [("proto/\(protoPath)", fill(Self.proto + Self.meetingEventMessage)),
         ("src/\(names.ident).c", fill(Self.cSource)),
         ("Makefile", fill(Self.cMakefile)),
         ("tests/\(names.ident).test", fill(Self.testScript)),
         ("tests/\(names.ident).expected", fill(Self.expectedOutput)),
         (".gitignore", "build/\ngen/\ntests/*.out\n")]
    }

    var swiftFiles: [(String, String)] {
        [("proto/\(protoPath)", fill(Self.proto)),
         ("Sources/\(names.type)/\(names.type).swift", fill(Self.swiftSource)),
         ("Package.swift", fill(Self.swiftPackage)),
         ("Makefile", fill(Self.swiftMakefile)),
         ("tests/\(names.ident).test", fill(Self.testScript)),
         ("tests/\(names.ident).expected", fill(Self.expectedOutput)),
         (".gitignore", ".build/\ntests/*.out\n")]
    }

    static let proto = """
    // The {{NAME}} plugin's service and messages. `make` regenerates the code from this file
    // and embeds its descriptor set in the library (so `convene describe` and `convene call` know it).
    syntax = "proto3";

    package {{IDENT}}.v1;

    service {{TYPE}} {
      // Adds `amount` to the tally `name` (kept in plugin storage) and answers its new total.
      // Council members and the Secretariat only (an administrator calls no plugin method).
      rpc Add(AddRequest) returns (Tally);
      // How many meetings were convened since the plugin was first loaded, and the last one.
      rpc GetMeetings(GetMeetingsRequest) returns (Meetings);
    }

    message AddRequest {
      string name = 1;
      int64 amount = 2;
    }

    message Tally {
      string name = 1;
      int64 total = 2;
      // The party that added (the caller).
      string added_by = 3;
    }

    message GetMeetingsRequest {}

    message Meetings {
      int64 convened = 1;
      string last_meeting = 2;
    }

    """

    /// C reads the one field it needs of an event's payload (convene.consultation.v1.OperationEvent).
    static let meetingEventMessage = """

    // The field this plugin reads of an event's payload, a convene.consultation.v1.OperationEvent
    // (same field number: protobuf skips the others). Its whole definition is in the SDK's
    // share/convene/protos/convene/consultation/v1/consultation.proto.
    message MeetingEvent {
      string subject_id = 4;
    }

    """

    static let testScript = """
    # {{NAME}}, in memory: `make test` runs this script with `convene plugin test` and compares
    # its output with {{IDENT}}.expected. The commands: `convene plugin test --help`.
    caller party-2 member
    call Add {"name": "votes", "amount": 2}
    call Add {"name": "votes", "amount": 5}
    storage tally/

    # Only Council members and the Secretariat may add; a name is required.
    caller party-9
    call Add {"name": "votes", "amount": 2}
    caller party-3 secretariat
    call Add {"amount": 2}

    # The reaction to meeting.convened counts meetings and emits an event about the meeting.
    event meeting.convened mtg-4
    call GetMeetings {}
    storage meetings/
    events

    """

    static let expectedOutput = """
    # {{NAME}}, in memory: `make test` runs this script with `convene plugin test` and compares
    # its output with {{IDENT}}.expected. The commands: `convene plugin test --help`.
    caller party-2 member
    call Add {"name": "votes", "amount": 2}
    OK {"name":"votes","total":"2","addedBy":"party-2"}
    call Add {"name": "votes", "amount": 5}
    OK {"name":"votes","total":"7","addedBy":"party-2"}
    storage tally/
      tally/votes = 7

    # Only Council members and the Secretariat may add; a name is required.
    caller party-9
    call Add {"name": "votes", "amount": 2}
    PERMISSION_DENIED: only Council members and the Secretariat may add to a tally
    caller party-3 secretariat
    call Add {"amount": 2}
    INVALID_ARGUMENT: name: required, at most 200 bytes

    # The reaction to meeting.convened counts meetings and emits an event about the meeting.
    event meeting.convened mtg-4
    delivered
    call GetMeetings {}
    OK {"convened":"1","lastMeeting":"mtg-4"}
    storage meetings/
      meetings/convened = 1
      meetings/last = mtg-4
    events
      mtg-4 {{NAME}}.meeting_counted: meeting 1 counted

    """
}
