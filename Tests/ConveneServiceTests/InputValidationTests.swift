import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf
import XCTest

/// What a request may not carry, whatever its sender: an enum value the proto does not define
/// (stored as it came, or taken for a default, it misled every later reader), a list beyond
/// its bound, a text with control characters. Each is INVALID_ARGUMENT naming the field.
final class InputValidationTests: OperationTestCase {
    func testUnknownEnumValuesAreRefusedNamingTheField() async throws {
        await assertRPCError(.invalidArgument, containing: "phase: unknown value 99") {
            try await self.f.client.unary(CM.createOperation, Convene_Consultation_V1_CreateOperationRequest.with {
                $0.name = "UNMOX"; $0.phase = .UNRECOGNIZED(99)
            }, as: Convene_Consultation_V1_Operation.self, options: self.f.options("Secretariat"))
        }
        await assertRPCError(.invalidArgument, containing: "phase: unknown value 77") {
            try await self.f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
                $0.operationID = self.operation; $0.phase = .UNRECOGNIZED(77)
            }, as: Convene_Consultation_V1_Operation.self, options: self.f.options("President"))
        }
        await assertRPCError(.invalidArgument, containing: "stage: unknown value 99") {
            try await self.f.client.unary(LM.recordLesson, Convene_Lessons_V1_RecordLessonRequest.with {
                $0.operationID = self.operation; $0.stage = .UNRECOGNIZED(99); $0.finding = "f"; $0.recommendation = "r"
            }, as: Convene_Lessons_V1_Lesson.self, options: self.f.options("Secretariat"))
        }
        await assertRPCError(.invalidArgument, containing: "stage: unknown value 42") {
            _ = try await self.f.convene(self.operation, stage: .UNRECOGNIZED(42))
        }
        await assertRPCError(.invalidArgument, containing: "mission_officials: unknown value 9") {
            try await self.f.client.unary(CM.conveneMeeting, Convene_Consultation_V1_ConveneMeetingRequest.with {
                $0.operationID = self.operation; $0.form = .secretariatMeeting; $0.missionOfficials = [.UNRECOGNIZED(9)]
                $0.scheduledTime = .init(seconds: (self.f.now + 86_400_000) / 1000)
            }, as: Convene_Consultation_V1_Meeting.self, options: self.f.options("Secretariat"))
        }
        // Worded alike whatever the field: a form or a status the proto does not define.
        await assertRPCError(.invalidArgument, containing: "form: unknown value 9") {
            try await self.f.client.unary(CM.conveneMeeting, Convene_Consultation_V1_ConveneMeetingRequest.with {
                $0.operationID = self.operation; $0.form = .UNRECOGNIZED(9)
                $0.scheduledTime = .init(seconds: (self.f.now + 86_400_000) / 1000)
            }, as: Convene_Consultation_V1_Meeting.self, options: self.f.options("Secretariat"))
        }
        await assertRPCError(.invalidArgument, containing: "status: unknown value 7") {
            try await self.f.client.unary(CM.listMeetingRequests, Convene_Consultation_V1_ListMeetingRequestsRequest.with {
                $0.operationID = self.operation; $0.status = .UNRECOGNIZED(7)
            }, as: Convene_Consultation_V1_ListMeetingRequestsResponse.self, options: self.f.options("President"))
        }
    }

    func testListsAreBoundedAndTextsHoldNoControlCharacters() async throws {
        await assertRPCError(.invalidArgument, containing: "topics: at most 50 entries, not 51") {
            try await self.f.client.unary(LM.recordLesson, Convene_Lessons_V1_RecordLessonRequest.with {
                $0.operationID = self.operation; $0.stage = .deployment; $0.finding = "f"; $0.recommendation = "r"
                $0.topics = (0...50).map { "topic \($0)" }
            }, as: Convene_Lessons_V1_Lesson.self, options: self.f.options("Secretariat"))
        }
        let lesson = try await f.client.unary(LM.recordLesson, Convene_Lessons_V1_RecordLessonRequest.with {
            $0.operationID = operation; $0.stage = .deployment; $0.finding = "f"; $0.recommendation = "r"
            $0.topics = ["Logistics", "logistics ", "medical"]
        }, as: Convene_Lessons_V1_Lesson.self, options: f.options("Secretariat"))
        XCTAssertEqual(lesson.topics, ["logistics", "medical"], "a topic given twice is kept once")
        let meeting = try await f.convene(operation)
        for (text, scalar) in [("We object\u{1B}[2J", "U+001B"), ("nul\u{0} inside", "U+0000"), ("c1 \u{85}", "U+0085")] {
            await assertRPCError(.invalidArgument, containing: "text: contains the control character \(scalar)") {
                try await self.f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
                    $0.meetingID = meeting.id; $0.text = text
                }, as: Convene_Consultation_V1_Statement.self, options: self.f.options("Troops"))
            }
        }
        let spoken = try await f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = meeting.id; $0.text = "Two lines,\n\tand a tab"
        }, as: Convene_Consultation_V1_Statement.self, options: f.options("Troops"))
        XCTAssertEqual(spoken.text, "Two lines,\n\tand a tab")
    }

    /// Every text of a request is checked, however deep in its messages and lists, and named by
    /// its path; a text of nothing visible (U+2060 WORD JOINER, U+FEFF, U+3164 HANGUL FILLER) is blank.
    func testEveryTextOfARequestIsCheckedWhereverItIs() async throws {
        let future = Google_Protobuf_Timestamp(seconds: (f.now + 86_400_000) / 1000)
        let meetings: [(Convene_Consultation_V1_InformalPaper, String)] = [
            (.with { $0.agenda = "a\u{1B}[31mb" }, "informal_paper.agenda: contains the control character U+001B"),
            (.with { $0.agenda = "Agenda"; $0.issues = ["fine", "bell\u{7}"] }, "informal_paper.issues[1]: contains the control character U+0007"),
            (.with { $0.agenda = "Agenda"; $0.backgroundDocuments = [.with { $0.title = "ok" }, .with { $0.title = "txt\u{202E}exe" }] },
             "informal_paper.background_documents[1].title: contains the control character U+202E"),
        ]
        for (paper, refusal) in meetings {
            await assertRPCError(.invalidArgument, containing: refusal) {
                try await self.f.client.unary(CM.conveneMeeting, Convene_Consultation_V1_ConveneMeetingRequest.with {
                    $0.operationID = self.operation; $0.form = .consultationMeeting; $0.stage = .mandateRenewal
                    $0.scheduledTime = future; $0.informalPaper = paper
                }, as: Convene_Consultation_V1_Meeting.self, options: self.f.options("President"))
            }
        }
        await assertRPCError(.invalidArgument, containing: "mandate: contains the control character U+001B") {
            try await self.f.client.unary(CM.updateMandate, Convene_Consultation_V1_UpdateMandateRequest.with {
                $0.operationID = self.operation; $0.mandate = "a\u{1B}b"
            }, as: Convene_Consultation_V1_Operation.self, options: self.f.options("President"))
        }
        await assertRPCError(.invalidArgument, containing: "description: contains the control character U+2066") {
            try await self.f.client.unary(CM.recordContribution, Convene_Consultation_V1_RecordContributionRequest.with {
                $0.operationID = self.operation; $0.partyID = self.f.ids["Troops"]!; $0.kind = .troops; $0.quantity = 5
                $0.description_p = "\u{2066}hidden"
            }, as: Convene_Consultation_V1_Contribution.self, options: self.f.options("Secretariat"))
        }
        let meeting = try await f.convene(operation)
        for invisible in ["\u{2060}", "\u{FEFF} \u{3164}", "\u{115F}\u{180E}"] {
            await assertRPCError(.invalidArgument, containing: "text: must not be blank") {
                try await self.f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
                    $0.meetingID = meeting.id; $0.text = invisible
                }, as: Convene_Consultation_V1_Statement.self, options: self.f.options("Troops"))
            }
        }
        // Joiners inside words are writing, not control: Persian's zero-width non-joiner stays.
        let persian = try await f.client.unary(CM.recordStatement, Convene_Consultation_V1_RecordStatementRequest.with {
            $0.meetingID = meeting.id; $0.text = "می\u{200C}خواهیم"
        }, as: Convene_Consultation_V1_Statement.self, options: f.options("Troops"))
        XCTAssertEqual(persian.text, "می\u{200C}خواهیم")
    }
}
