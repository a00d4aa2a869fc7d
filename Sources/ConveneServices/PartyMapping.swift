import ConveneDomain
import ConveneProtos
import ConveneRPC
import ConveneStore
import Foundation
import SwiftProtobuf

extension PartyRecord {
    var proto: Convene_Parties_V1_Party {
        let party = self.party
        return .with {
            $0.id = PublicID.party.format(id)
            $0.name = name
            $0.kind = Convene_Parties_V1_PartyKind(rawValue: kind) ?? .unspecified
            $0.roles = party.roles.sorted { $0.rawValue < $1.rawValue }
                .compactMap { Convene_Parties_V1_Role(rawValue: $0.rawValue) }
        }
    }
}

extension Convene_Parties_V1_PartyKind {
    func domain(field: String) throws -> PartyKind {
        guard let kind = PartyKind(rawValue: rawValue), kind != .plugin else {
            throw RPCError(.invalidArgument, "\(field): a party kind is required (MEMBER_STATE, UN_BODY, ...; PLUGIN is the server's own)")
        }
        return kind
    }
}

func domainRoles(_ roles: [Convene_Parties_V1_Role], field: String) throws -> Set<Role> {
    try Set(roles.map { role in
        guard let domain = Role(rawValue: role.rawValue) else {
            throw RPCError(.invalidArgument, "\(field): unknown role \(role)")
        }
        return domain
    })
}

extension Google_Protobuf_Timestamp {
    /// The time in milliseconds of a timestamp field that must be set: INVALID_ARGUMENT naming
    /// the field when it is absent, or not a timestamp (nanos outside 0 to 999,999,999 were
    /// taken as seconds, or as "required"; a year outside 1 to 9999).
    func requiredMillis(field: String, present: Bool) throws -> Int64 {
        guard present, seconds != 0 || nanos != 0 else { throw RPCError(.invalidArgument, "\(field): required") }
        let value = try checkedMillis(field: field)
        guard value > 0 else { throw RPCError(.invalidArgument, "\(field): \(seconds) seconds is before 1970; a time after 1970 is required") }
        return value
    }

    /// The time in milliseconds, for a field that may be any time of the years 1 to 9999
    /// (a bound of a period asked for, not a time to record).
    func checkedMillis(field: String) throws -> Int64 {
        guard (0...999_999_999).contains(nanos) else {
            throw RPCError(.invalidArgument, "\(field): nanos is \(nanos), not 0 to 999,999,999")
        }
        guard (-62_135_596_800...253_402_300_799).contains(seconds) else {
            throw RPCError(.invalidArgument, "\(field): \(seconds) seconds is outside the years 1 to 9999")
        }
        return millis
    }

    /// Milliseconds since 1970, saturating at the ends of Int64 (a timestamp from the network
    /// may hold any number of seconds).
    var millis: Int64 {
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, past) = whole.addingReportingOverflow(Int64(nanos / 1_000_000))
        return past ? (whole < 0 ? .min : .max) : total
    }

    init(millis: Int64) {
        self.init(seconds: millis / 1000, nanos: Int32((millis % 1000) * 1_000_000))
    }
}
