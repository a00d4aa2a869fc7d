/// Lessons learned (I.B.3, I.B.4, I.A.7).
public enum LessonRules {
    /// A contributing country submits its own contingents' experience (I.B.4), during
    /// deployment or after withdrawal: it must contribute, or have contributed, personnel.
    public static func checkMaySubmitExperience(_ caller: Party, facts: OperationFacts, operationID: String) throws(RuleViolation) {
        guard facts.contributes(caller.id, where: \.isPersonnel) else {
            throw RuleViolation(.permissionDenied,
                "only a country whose contingents serve or served in operation \(operationID) submits their experience (I.B.4)")
        }
    }

    /// Lessons relevant to a mission-planning meeting (II.B.2(a), I.A.7): planning lessons
    /// of any operation, and lessons whose topics the meeting's paper mentions.
    public static func isRelevantToPlanning(stage: Int, topics: [String], paperText: String) -> Bool {
        if stage == Stage.missionPlanning.rawValue { return true }
        let text = paperText.lowercased()
        return topics.contains { !$0.isEmpty && text.contains($0.lowercased()) }
    }
}
