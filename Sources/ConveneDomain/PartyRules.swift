/// Parties and their roles.
public enum PartyRules {
    /// The names of the plugins' own principals ("Plugin NAME", kind PLUGIN), made by the
    /// server: no party registered otherwise takes one, so none is ever taken for a plugin.
    public static func pluginPrincipalName(_ plugin: String) -> String { "Plugin \(plugin)" }

    public static func checkName(_ name: String) throws(RuleViolation) {
        guard !name.hasPrefix(pluginPrincipalName("")) else {
            throw RuleViolation(.invalidArgument,
                "name: names beginning with 'Plugin ' are the mechanism plugins' own principals, which the server makes; choose another")
        }
    }

    /// II.B.1: consultation meetings are "convened and chaired by the SC President": one President at
    /// a time, whatever the path (registering a party, setting roles). The presidency passes
    /// explicitly (`PassPresidency`), or is taken from its holder first.
    /// - Parameter holder: the party holding the presidency now, if another one does.
    public static func checkPresidency(roles: Set<Role>, holder: Party?) throws(RuleViolation) {
        guard roles.contains(.councilPresident), let holder else { return }
        throw RuleViolation(.failedPrecondition,
            "roles: \(holder.name) (party-\(holder.id)) holds the Council presidency, and there is one President at a time (II.B.1); pass it with PassPresidency, or take it from them first")
    }

    /// Which roles a party of `kind` may hold. The Council's roles are a Member State's (its
    /// members are states), the Secretariat's the Secretariat's; administration is a role of its
    /// own, never combined with a part in the consultations.
    public static func checkRoles(_ roles: Set<Role>, kind: PartyKind) throws(RuleViolation) {
        if roles.contains(.administrator) && roles.count > 1 {
            throw RuleViolation(.invalidArgument,
                "roles: ADMINISTRATOR is not combined with other roles: the administrator's credential administers parties, credentials and plugins, and takes no part in the consultations")
        }
        if !roles.isDisjoint(with: [.councilPresident, .councilMember]) && kind != .memberState {
            throw RuleViolation(.invalidArgument,
                "roles: the Council's roles are held by Member States (members of the Security Council); this party is \(kind.name)")
        }
        if roles.contains(.secretariatStaff) && kind != .secretariat {
            throw RuleViolation(.invalidArgument, "roles: SECRETARIAT_STAFF is held by the Secretariat; this party is \(kind.name)")
        }
    }

    /// The presidency passes to a Council member state (II.B.1): one that sits on the Council
    /// already. Passing it to any Member State would seat that state on the Council when the
    /// presidency moves on (the former President stays a member).
    public static func checkMayReceivePresidency(_ party: Party, partyText: String) throws(RuleViolation) {
        guard party.kind == .memberState, !party.isAdministrator else {
            throw RuleViolation(.failedPrecondition,
                "party_id: the Council presidency passes to a member of the Security Council, a Member State; \(partyText) is \(party.kind.name)")
        }
        guard !party.isPresident else {
            throw RuleViolation(.failedPrecondition, "party_id: \(partyText) (\(party.name)) already holds the Council presidency")
        }
        guard party.isCouncilMember else {
            throw RuleViolation(.failedPrecondition,
                "party_id: the Council presidency passes to a member of the Security Council, a Member State; \(partyText) (\(party.name)) does not sit on the Council (give it COUNCIL_MEMBER first)")
        }
    }

    /// A plugin's principal is the server's own: it acts for a loaded plugin, with a credential
    /// the server issues and never hands out (the plugin, in process or isolated, never holds
    /// it). The administrator issues it none and sets none of its roles: a token of it would
    /// act as the plugin. (Revoking its credentials is allowed, and harmless: the server
    /// issues itself a new one.) Unloading the plugin is what stops it acting.
    public static func checkAdministrable(_ party: Party, partyText: String, _ what: String) throws(RuleViolation) {
        guard party.kind == .plugin else { return }
        throw RuleViolation(.failedPrecondition,
            "\(partyText) (\(party.name)) is a mechanism plugin's own principal, which the server manages: \(what) is not the administrator's; unload the plugin to stop it acting")
    }

    /// Administration (parties, roles, credentials, plugins) is the administrator's.
    public static func checkAdministrator(_ caller: Party, calling method: String) throws(RuleViolation) {
        guard caller.isAdministrator else {
            throw RuleViolation(.permissionDenied, "only the administrator may call \(method): administration of parties, credentials and plugins")
        }
    }

    /// The consultations' records are the parties' own: the administrator's credential neither
    /// reads nor writes them.
    public static func checkTakesPart(_ caller: Party) throws(RuleViolation) {
        guard !caller.isAdministrator else {
            throw RuleViolation(.permissionDenied,
                "the administrator's credential administers parties, credentials and plugins only; it neither reads nor writes the records of the consultations")
        }
    }
}
