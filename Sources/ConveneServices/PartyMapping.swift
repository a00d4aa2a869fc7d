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
