import ConveneDomain
import ConveneStore
import Foundation
import PropertyBased
import Testing

/// Whatever sequence of raw writes reaches the SQLite store, it never holds two Council
/// Presidents (II.B.1), and a refused write changes nothing. Bounded: 25 sequences of up to 12 writes.
@Suite struct OnePresidentPropertyTests {
    @Test func noSequenceOfWritesStoresTwoPresidents() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("convene-president-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        await propertyCheck(count: 25, input: Gen.int(in: 0...Int(UInt16.max)).array(of: 1...12)) { steps in
            do {
                let store = try SQLiteStore(directory: root + "/" + UUID().uuidString)
                var model: [Int64: Set<Role>] = [:]
                for step in steps {
                    let roles = Set(Role.allCases.filter { step >> 1 & (1 << ($0.rawValue - 1)) != 0 })
                    let target = model.keys.sorted().isEmpty ? nil : model.keys.sorted()[(step >> 5) % model.count]
                    do {
                        if step % 2 == 0 || target == nil {
                            let party = try await store.write { db in
                                try db.insert(PartyRecord(name: "Party \(UUID().uuidString)", kind: .memberState, roles: roles))
                            }
                            model[party.id!] = roles
                        } else if let target {
                            try await store.write { db in
                                try db.update(PartyRecord(id: target, name: try db.party(id: target)!.name, kind: .memberState, roles: roles))
                            }
                            model[target] = roles
                        }
                    } catch StoreError.ruleViolated {
                        #expect(roles.contains(.councilPresident), "only a second President is refused")
                    }
                    let stored = try await store.read { db in
                        Dictionary(uniqueKeysWithValues: try db.allParties().map { ($0.id!, $0.party.roles) })
                    }
                    #expect(stored == model, "a refused write changes nothing")
                    #expect(stored.values.filter { $0.contains(.councilPresident) }.count <= 1)
                }
            } catch {
                Issue.record("the store failed: \(error)")
            }
        }
    }
}
