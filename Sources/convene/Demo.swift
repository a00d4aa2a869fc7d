import ArgumentParser
import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneTransport
import Foundation
import SwiftProtobuf

/// Plays the life of a fictional operation as each party would, through the public API.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register the parties of a fictional operation and play its life, refusals included; narrates each rule at work on standard error and prints one JSON line.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        // The administrator credential: --token-file DATA_DIR/admin.token (or CONVENE_TOKEN).
        guard let admin = try global.token() else {
            throw ValidationError("demo needs the administrator credential: --token-file DATA_DIR/admin.token")
        }
        let client = try global.client()
        defer { Task { await client.close() } }
        do {
            let play = DemoPlay(client: client, adminToken: admin, tag: String(UUID().uuidString.prefix(4)).lowercased())
            let summary = try await play.run()
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } catch let error as ExitCode {
            throw error
        } catch {
            throw fail(error)
        }
    }
}

/// The script of the demonstration (the story is in DemoStory.swift). Every step is a call a
/// party makes; every refusal is one the resolution's rules require, and is checked to come
/// back with its status code. Each step is told on standard error as it happens.
final class DemoPlay: @unchecked Sendable {
    let client: ConveneClient
    let adminToken: String
    let tag: String
    var tokens: [String: String] = [:]
    var ids: [String: String] = [:]
    var counts: [String: Int] = [:]
    var refusals: [String: Int] = [:]
    let hour: Int64 = 3_600_000
    let day: Int64 = 86_400_000
    /// The time of day the play started at; the operation's history lies before it.
    let now = Int64(Date().timeIntervalSince1970 * 1000)

    init(client: ConveneClient, adminToken: String, tag: String) {
        self.client = client
        self.adminToken = adminToken
        self.tag = tag
    }

    func count(_ key: String, _ n: Int = 1) { counts[key, default: 0] += n }

    /// Tells a person watching what happened.
    func say(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func options(_ party: String) -> CallOptions {
        .bearer(party == "admin" ? adminToken : tokens[party]!, timeout: .seconds(30))
    }

    func call<Req: SwiftProtobuf.Message, Res: SwiftProtobuf.Message>(
        _ method: MethodDescriptor, _ request: Req, as: Res.Type = Res.self, by party: String
    ) async throws -> Res {
        try await client.unary(method, request, as: Res.self, options: options(party))
    }

    /// A call the rules must refuse with `code`; anything else stops the demo.
    func refused<Req: SwiftProtobuf.Message, Res: SwiftProtobuf.Message>(
        _ code: StatusCode, _ method: MethodDescriptor, _ request: Req, as: Res.Type, by party: String
    ) async throws {
        do {
            _ = try await call(method, request, as: Res.self, by: party)
        } catch let error as RPCError where error.code == code {
            refusals[code.name, default: 0] += 1
            say("  refused, as the resolution requires: \(method.method) by \(party): \(code.name): \(error.message)")
            return
        }
        throw RPCError(.internal, "demo: \(method.description) by \(party) should have been refused with \(code.name)")
    }

    static let cast: [(String, String, Convene_Parties_V1_PartyKind, [Convene_Parties_V1_Role])] = [
        ("president", "Kingdom of Norland", .memberState, [.councilMember]),
        ("estmark", "Republic of Estmark", .memberState, [.councilMember]),
        ("calvania", "Federation of Calvania", .memberState, [.councilMember]),
        ("secretariat", "United Nations Secretariat", .secretariat, [.secretariatStaff]),
        ("tamaris", "Republic of Tamaris", .memberState, []),
        ("oskar", "Union of Oskar", .memberState, []),
        ("bellmoor", "Commonwealth of Bellmoor", .memberState, []),
        ("sarelia", "Kingdom of Sarelia", .memberState, []),
        ("refugees", "Office for Refugees", .unAgency, []),
        ("relief", "International Relief Committee", .otherBody, []),
        ("wendt", "Republic of Wendt", .memberState, []),
        ("veloria", "Republic of Veloria", .memberState, []),
        ("coastal", "Coastal States Union", .regionalOrganization, []),
        ("ostland", "Principality of Ostland", .memberState, []),
    ]

    /// Registers the cast, then passes the presidency to this play's President, recorded with
    /// its date: one President at a time (II.B.1), whoever held it before.
    func registerCast() async throws {
        for (key, name, kind, roles) in Self.cast {
            let party = try await call(AdministrationMethods.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
                $0.name = "\(name) [demo \(tag)]"; $0.kind = kind; $0.roles = roles
            }, as: Convene_Parties_V1_Party.self, by: "admin")
            ids[key] = party.id
            tokens[key] = try await call(AdministrationMethods.issueCredential, Convene_Admin_V1_IssueCredentialRequest.with {
                $0.partyID = party.id; $0.label = "demo"
            }, as: Convene_Admin_V1_IssueCredentialResponse.self, by: "admin").token
        }
        let term = try await call(AdministrationMethods.passPresidency, Convene_Admin_V1_PassPresidencyRequest.with {
            $0.partyID = ids["president"]!
        }, as: Convene_Admin_V1_PresidencyTerm.self, by: "admin")
        say("The Council presidency passes to \(term.partyName), from \(text(term.startTime)) (II.B.1).")
        say("A second President cannot be registered while one holds the office:")
        try await refused(.failedPrecondition, AdministrationMethods.registerParty, Convene_Admin_V1_RegisterPartyRequest.with {
            $0.name = "Second President [demo \(tag)]"; $0.kind = .memberState; $0.roles = [.councilPresident]
        }, as: Convene_Parties_V1_Party.self, by: "admin")
    }
}
