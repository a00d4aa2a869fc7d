import ConveneServices
import XCTest

/// What the rules answer a mechanism plugin's `ask_rule` (`PluginRuleAnswers`), asked of a
/// real server's store: each question's answer and provision, and that a caller never learns
/// through a question what it may not read (an operation it sees only the existence of, a
/// meeting it is not invited to, answered as if there were none).
final class PluginRuleAnswersTests: OperationTestCase {
    override class var builtPlugins: Bool { true }

    typealias Question = PluginRuleAnswers.Question

    private func ask(_ question: Question, as caller: String?, party: String? = nil,
                     object: String) throws -> PluginRuleAnswers.Answer {
        try ask(question.rawValue, as: caller, party: party, object: object)
    }

    private func ask(_ question: Int32, as caller: String?, party: String? = nil,
                     object: String) throws -> PluginRuleAnswers.Answer {
        let callerID = try caller.map { try row(f.ids[$0] ?? $0) }
        let partyID = party.map { f.ids[$0] ?? $0 }
        return try f.server.store.syncRead { db in
            try PluginRuleAnswers.answer(question, callerID: callerID, partyID: partyID, objectID: object, db)
        }
    }

    /// A party's row number, from its public id ("party-7").
    private func row(_ id: String) throws -> Int64 {
        try XCTUnwrap(Int64(id.drop { !$0.isNumber }), "party id \(id)")
    }

    func testOperationAccessIsTheCallersAccessUnderIIB3() throws {
        let expected: [(String?, Int32)] = [("Bystander", 1), ("Troops", 2), ("Member", 3), ("Secretariat", 4), (nil, 4)]
        for (caller, value) in expected {
            let answer = try ask(.operationAccess, as: caller, object: operation)
            XCTAssertEqual(answer.value, value, "access of \(caller ?? "the plugin itself")")
            XCTAssertEqual(answer.provision, "II.B.3")
        }
        XCTAssertFalse(try ask(.operationAccess, as: "Bystander", object: operation).reason.isEmpty,
                       "existence-only access says why the records are closed")
        XCTAssertEqual(try ask(.operationAccess, as: "Troops", object: operation).reason, "")
    }

    func testOnlyTheSecretariatFormsAGroupOfFriends() throws {
        XCTAssertEqual(try ask(.friendsForm, as: "Secretariat", object: operation).value, 1)
        XCTAssertEqual(try ask(.friendsForm, as: nil, object: operation).value, 1)
        let refused = try ask(.friendsForm, as: "Troops", object: operation)
        XCTAssertEqual(refused.value, 0)
        XCTAssertEqual(refused.provision, "I.C.2")
        XCTAssertTrue(refused.reason.contains("Secretary-General"), refused.reason)
    }

    func testGroupMembershipFollowsEachPartysStandingOnTheOperation() throws {
        let members: [(String, Int32)] = [("Troops", 1), ("Police", 1), ("Potential", 1), ("Donor", 1), ("Host", 1),
                                          ("Member", 1), ("Bystander", 0), ("Secretariat", 0)]
        for (party, value) in members {
            let answer = try ask(.friendsMember, as: "Secretariat", party: party, object: operation)
            XCTAssertEqual(answer.value, value, "\(party): \(answer.reason)")
            XCTAssertEqual(answer.provision, "I.C.2")
            XCTAssertFalse(answer.reason.isEmpty)
        }
        typealias Kind = FriendsKind
        let kinds: [(String, Int32)] = [("Troops", Kind.contributor), ("Potential", Kind.contributor), ("Donor", Kind.donor),
                                        ("Host", Kind.region), ("Member", Kind.council), ("Bystander", 0)]
        for (party, value) in kinds {
            XCTAssertEqual(try ask(.friendsMemberKinds, as: "Secretariat", party: party, object: operation).value, value, party)
        }
    }

    func testAQuestionAboutAnOperationTheCallerCannotReadIsAnsweredAsIfThereWereNone() throws {
        let closed = try ask(.friendsMember, as: "Bystander", party: "Troops", object: operation)
        let missing = try ask(.friendsMember, as: "Bystander", party: "Troops", object: "op-999999")
        XCTAssertEqual(closed.value, -1)
        XCTAssertEqual(closed.reason, "object_id: no operation \(operation)")
        XCTAssertEqual(missing.value, -1)
        XCTAssertEqual(try ask(.friendsMemberKinds, as: "Bystander", party: "Troops", object: operation).value, -1)
        XCTAssertEqual(try ask(.friendsMember, as: "Troops", party: "Donor", object: operation).value, 1,
                       "a contributor reads the operation")
    }

    func testAnInvitationQuestionAboutAMeetingTheCallerIsNotInvitedToIsAnsweredAsIfThereWereNone() async throws {
        let meeting = try await f.convene(operation).id
        let uninvited = try ask(.invitation, as: "Bystander", party: "Troops", object: meeting)
        XCTAssertEqual(uninvited.value, -1)
        XCTAssertEqual(uninvited.reason, "object_id: no meeting \(meeting)")
        let other = meeting.prefix { !$0.isNumber } + "999999"
        XCTAssertEqual(try ask(.invitation, as: "Bystander", party: "Troops", object: String(other)).reason,
                       "object_id: no meeting \(other)", "the same answer as for a meeting that does not exist")

        let invited = try ask(.invitation, as: "Secretariat", party: "Troops", object: meeting)
        XCTAssertEqual(invited.value, 1, invited.reason)
        XCTAssertTrue(invited.provision.hasPrefix("II.B.3"), invited.provision)
        XCTAssertEqual(try ask(.invitation, as: "Secretariat", party: "Bystander", object: meeting).value, 0)
    }

    func testWhatTheRulesCannotAnswerIsSaidNotGuessed() throws {
        let unknown = try ask(99, as: "Secretariat", object: operation)
        XCTAssertEqual(unknown.value, -1)
        XCTAssertEqual(unknown.reason, "unknown question 99")
        let noCaller = try f.server.store.syncRead { db in
            try PluginRuleAnswers.answer(Question.operationAccess.rawValue, callerID: 999_999, partyID: nil,
                                         objectID: operation, db)
        }
        XCTAssertEqual(noCaller.value, -1)
        XCTAssertEqual(noCaller.reason, "no calling party")
        for object in ["", "not-an-id", "op-", "op-99999999999999999999999"] {
            let answer = try ask(.operationAccess, as: "Secretariat", object: object)
            XCTAssertEqual(answer.value, -1, object)
            XCTAssertTrue(answer.reason.contains("object_id"), "\(object): \(answer.reason)")
        }
        let noParty = try ask(.friendsMember, as: "Secretariat", party: "party-999999", object: operation)
        XCTAssertEqual(noParty.value, -1)
        XCTAssertTrue(noParty.reason.contains("party-999999"), noParty.reason)
    }
}

/// The ABI's `convene_member_kind` bits (`FriendsRules.MemberKind`).
private enum FriendsKind {
    static let contributor: Int32 = 1
    static let council: Int32 = 2
    static let donor: Int32 = 4
    static let region: Int32 = 8
}
