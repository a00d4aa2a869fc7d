import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import Crypto
import Foundation
import SwiftProtobuf

/// Attachments of any size (II.B.5(f)): stored in 1 MiB pieces as they arrive, each batch in
/// its own transaction, and shown only once the last piece is committed.
extension BriefingService {
    public func uploadAttachment(_ requests: RequestMessages<Convene_Briefing_V1_AttachmentChunk>,
                                 context: ServerCallContext) async throws -> Convene_Briefing_V1_Attachment {
        let caller = try await backend.participant(context)
        try BriefingRules.checkMayPublish(caller.party)
        return try await backend.untilRevoked(caller) { [self] in try await receive(requests, caller: caller.party) }
    }

    func receive(_ requests: RequestMessages<Convene_Briefing_V1_AttachmentChunk>, caller: Party) async throws -> Convene_Briefing_V1_Attachment {
        var chunks = requests.makeAsyncIterator()
        guard let first = try await chunks.next(), first.hasHeader else {
            throw RPCError(.invalidArgument, "header: the first message of an upload carries the attachment's header")
        }
        let header = first.header
        let fileName = try requireText(header.fileName, field: "header.file_name", max: 1000)
        let attachment = try await backend.write { [backend] db, _ in
            let meeting = try db.requireVisibleMeeting(header.meetingID, caller: caller, field: "header.meeting_id")
            return try db.insert(AttachmentRecord(meetingID: meeting.id!, fileName: fileName,
                                                  contentType: header.contentType.isEmpty ? "application/octet-stream" : header.contentType,
                                                  uploadedBy: caller.id, createdAt: backend.now))
        }
        do {
            var upload = AttachmentUpload(id: attachment.id!, store: backend.store, limit: maxAttachmentSize)
            var chunk: Convene_Briefing_V1_AttachmentChunk? = first
            while let next = chunk {
                try require(!next.hasHeader || next == first, .invalidArgument, "header: only the first message carries a header")
                try await upload.append(next.data)
                chunk = try await chunks.next()
            }
            return try await complete(attachment, with: try await upload.finish())
        } catch {
            // Nothing of a refused or cut-off upload stays behind. Its own task, so a
            // cancelled call still cleans up.
            await Task { [store = backend.store] in
                try? await store.write { db in try db.deleteIncompleteAttachment(id: attachment.id!) }
            }.value
            throw error
        }
    }

    /// Marks an upload complete, with its size and digest, and tells the meeting's watchers.
    func complete(_ attachment: AttachmentRecord, with upload: (size: Int64, sha256: String)) async throws -> Convene_Briefing_V1_Attachment {
        var done = attachment
        done.size = upload.size
        done.sha256 = upload.sha256
        done.complete = true
        try await backend.write { [backend, done] db, events in
            guard try db.attachment(id: done.id!) != nil, let meeting = try db.meeting(id: done.meetingID) else {
                throw RPCError(.internal, "attachment vanished during upload")
            }
            try db.update(done)
            events.append(backend.event(meeting.operationID, .attachmentUploaded, subject: PublicID.attachment.format(done.id),
                                        "\(done.fileName), \(done.size) bytes", audience: .meeting(meeting.id!)))
        }
        return done.proto
    }

    public func downloadAttachment(_ request: Convene_Briefing_V1_DownloadAttachmentRequest,
                                   responses: ResponseStreamWriter<Convene_Briefing_V1_AttachmentChunk>,
                                   context: ServerCallContext) async throws {
        let caller = try await backend.participant(context)
        let id = try PublicID.attachment.parse(request.attachmentID, field: "attachment_id")
        let attachment = try await backend.read { db in
            guard let attachment = try db.attachment(id: id), attachment.complete,
                  let meeting = try db.meeting(id: attachment.meetingID),
                  try db.maySeeMeeting(meeting.id!, caller: caller.party)
            else { throw PublicID.attachment.notFound(request.attachmentID) }
            return attachment
        }
        try await backend.untilRevoked(caller) { [backend] in
            try await Self.send(attachment, store: backend.store, to: responses)
        }
    }

    /// The header with the first piece (an empty attachment: with no data), then a piece a message.
    static func send(_ attachment: AttachmentRecord, store: any ConveneStore,
                     to responses: ResponseStreamWriter<Convene_Briefing_V1_AttachmentChunk>) async throws {
        let id = attachment.id!
        var position = 0
        repeat {
            try Task.checkCancellation()  // e.g. its credential was revoked
            let piece = try await store.read { [position] db in try db.attachmentChunk(attachmentID: id, position: position) }
            if piece == nil && position > 0 { return }
            try await responses.send(.with {
                if position == 0 {
                    $0.header = .with { h in
                        h.meetingID = PublicID.meeting.format(attachment.meetingID)
                        h.fileName = attachment.fileName
                        h.contentType = attachment.contentType
                    }
                }
                $0.data = Data(piece ?? [])
            })
            if piece == nil { return }
            position += 1
        } while true
    }
}

/// An upload in progress: its bytes go to the store in pieces of `BriefingService.chunkSize`,
/// a few pieces per transaction, hashed as they pass.
struct AttachmentUpload {
    let id: Int64
    let store: any ConveneStore
    let limit: Int64
    private var hasher = SHA256()
    private var pending: [UInt8] = []
    private var position = 0
    private var size: Int64 = 0

    init(id: Int64, store: any ConveneStore, limit: Int64) {
        self.id = id
        self.store = store
        self.limit = limit
    }

    mutating func append(_ data: Data) async throws {
        size += Int64(data.count)
        try require(size <= limit, .resourceExhausted, "attachment is over the limit of \(limit) bytes")
        hasher.update(data: data)
        pending.append(contentsOf: data)
        if pending.count >= 4 * BriefingService.chunkSize { try await flush(final: false) }
    }

    /// Stores what is left; the attachment's size and SHA-256 (hex).
    mutating func finish() async throws -> (size: Int64, sha256: String) {
        try await flush(final: true)
        return (size, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }

    private mutating func flush(final: Bool) async throws {
        var pieces: [[UInt8]] = []
        while pending.count >= BriefingService.chunkSize || (final && !pending.isEmpty) {
            let count = min(BriefingService.chunkSize, pending.count)
            pieces.append(Array(pending[..<count]))
            pending.removeFirst(count)
        }
        guard !pieces.isEmpty else { return }
        let (id, start) = (self.id, position)
        position += pieces.count
        try await store.write { [pieces] db in
            for (offset, piece) in pieces.enumerated() {
                try db.appendAttachmentChunk(attachmentID: id, position: start + offset, data: piece)
            }
        }
    }
}
