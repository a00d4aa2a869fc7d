import ConveneRPC

/// Public ids are a prefix and the row number: "party-3", "op-1", "mtg-12".
enum PublicID: String {
    case party = "party"
    case credential = "cred"
    case operation = "op"
    case contribution = "contrib"
    case meeting = "mtg"
    case statement = "stmt"
    case request = "req"
    case report = "report"
    case factSheet = "factsheet"
    case attachment = "att"
    case experience = "exp"
    case lesson = "lesson"

    func format(_ id: Int64) -> String { "\(rawValue)-\(id)" }
    func format(_ id: Int64?) -> String { id.map(format) ?? "" }

    /// The row number in `value`; INVALID_ARGUMENT naming `field` when malformed. Only the
    /// id as the server writes it: "op-02" or "op-+2" would name op-2 here but not where the
    /// id is kept as text (a plugin's records), so they name nothing.
    func parse(_ value: String, field: String) throws -> Int64 {
        let digits = value.dropFirst(rawValue.count + 1)
        guard value.hasPrefix(rawValue + "-"), let id = Int64(digits), id > 0, digits == String(id)[...] else {
            if value.isEmpty { throw RPCError(.invalidArgument, "\(field): required") }
            throw RPCError(.invalidArgument, "\(field): '\(value)' is not a valid \(noun) id (\(rawValue)-N)")
        }
        return id
    }

    var noun: String {
        switch self {
        case .party: "party"
        case .credential: "credential"
        case .operation: "operation"
        case .contribution: "contribution"
        case .meeting: "meeting"
        case .statement: "statement"
        case .request: "meeting request"
        case .report: "report"
        case .factSheet: "fact sheet"
        case .attachment: "attachment"
        case .experience: "experience"
        case .lesson: "lesson"
        }
    }

    func notFound(_ value: String) -> RPCError {
        RPCError(.notFound, "no \(noun) \(value)")
    }
}

/// Page tokens are the last row number of the previous page.
enum PageToken {
    static let defaultSize = 50
    static let maxSize = 500

    static func size(_ requested: Int32) throws -> Int {
        guard requested >= 0 else { throw RPCError(.invalidArgument, "page_size: must not be negative") }
        return requested == 0 ? defaultSize : min(Int(requested), maxSize)
    }

    /// The token of the page after one of `count` rows ending with row `last` ("" when it was the last page).
    static func next(after last: Int64?, count: Int, size: Int) -> String {
        guard count == size, let last else { return "" }
        return String(last)
    }

    static func after(_ token: String) throws -> Int64 {
        guard !token.isEmpty else { return 0 }
        guard let value = Int64(token), value > 0 else {
            throw RPCError(.invalidArgument, "page_token: '\(token)' is not a token this server issued")
        }
        return value
    }
}
