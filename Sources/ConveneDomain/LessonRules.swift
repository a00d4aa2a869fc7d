/// Lessons learned (I.B.3, I.B.4, I.A.7).
public enum LessonRules {
    /// A contributing country submits its own contingents' experience (I.B.4), during
    /// deployment or after withdrawal: it must contribute, or have contributed, personnel, as a
    /// country (`OperationFacts.isTroopContributor`: a UN agency's staff is no national contingent).
    public static func checkMaySubmitExperience(_ caller: Party, facts: OperationFacts, operationID: String) throws(RuleViolation) {
        guard facts.isTroopContributor(caller) else {
            throw RuleViolation(.permissionDenied,
                "only a country whose contingents serve or served in operation \(operationID) submits their experience (I.B.4)")
        }
    }

    /// I.B.4: experience "gained during deployment or after withdrawal": an operation still
    /// being planned has deployed no contingent, so none of them has any yet. (A contingent
    /// may withdraw while the operation goes on, so either period is taken once it deployed.)
    public static func checkHasExperience(phase: Phase, operationID: String) throws(RuleViolation) {
        guard phase != .planning else {
            throw RuleViolation(.failedPrecondition,
                "operation \(operationID) is still being planned: no contingent has deployed, so none has experience gained during deployment or after withdrawal (I.B.4)")
        }
    }

    /// The experience a party reads: all of it for the Secretariat and the Council, else its own.
    public static func seesExperience(_ caller: Party, submittedBy: Int64) -> Bool {
        caller.isSecretariat || caller.isCouncilMember || submittedBy == caller.id
    }

    /// I.B.3: the Secretariat draws the lessons.
    public static func checkMayRecordLesson(_ caller: Party) throws(RuleViolation) {
        guard caller.isSecretariat else {
            throw RuleViolation(.permissionDenied,
                "the Secretariat draws lessons for the conduct and planning of operations (I.B.3)")
        }
    }

    /// How many lessons a mission-planning meeting's paper gets at most.
    public static let planningLessonLimit = 20

    /// Lessons relevant to a mission-planning meeting (II.B.2(a), I.A.7): planning lessons
    /// of any operation, and lessons whose topics the meeting's paper mentions.
    public static func isRelevantToPlanning(stage: Stage?, topics: [String], paperText: String) -> Bool {
        if stage == .missionPlanning { return true }
        let text = paperText.lowercased()
        return topics.contains { !$0.isEmpty && text.contains($0.lowercased()) }
    }
}
