/// Parties and their roles.
public enum PartyRules {
    /// II.B.1: one Council President at a time.
    /// - Parameter holder: the party holding the presidency now, if another one does.
    public static func checkPresidency(roles: Set<Role>, holder: Party?) throws(RuleViolation) {
        guard roles.contains(.councilPresident), let holder else { return }
        throw RuleViolation(.failedPrecondition,
            "roles: \(holder.name) holds the Council presidency; take it from them first (one President at a time, II.B.1)")
    }

    /// Administration (parties, roles, credentials, plugins) is the administrator's.
    public static func checkAdministrator(_ caller: Party, calling method: String) throws(RuleViolation) {
        guard caller.isAdministrator else {
            throw RuleViolation(.permissionDenied, "only an administrator may call \(method)")
        }
    }
}
