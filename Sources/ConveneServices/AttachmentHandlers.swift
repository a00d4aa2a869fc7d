import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import Crypto
import Foundation
import SwiftProtobuf

extension BriefingService {
    /// Attachments of any size (II.B.5(f)): stored in 1 MiB pieces as they arrive, each
    /// batch in its own transaction, and shown only once the last piece is committed.
    func registerAttachments(with router: Router) throws {
        typealias M = BriefingMethods
        try router.registerClientStreaming(M.uploadAttachment) {
            (chunks: RequestMessages<Convene_Briefing_V1_AttachmentChunk>, context, _) -> Convene_Briefing_V1_Attachment in
            let caller = try await secretariat(context)
            var iterator = chunks.makeAsyncIterator()
            guard let first = try await iterator.next(), first.hasHeader else {
                throw RPCError(.invalidArgument, "header: the first message of an upload carries the attachment's header")
            }
            let header = first.header
            let fileName = try requireText(header.fileName, field: "header.file_name", max: 1000)
            let attachment = try await store.write { db in
                let meeting = try db.requireVisibleMeeting(header.meetingID, caller: caller, field: "header.meeting_id")
                return try db.insert(AttachmentRecord(meetingID: meeting.id!, fileName: fileName,
                                                      contentType: header.contentType.isEmpty ? "application/octet-stream" : header.contentType,
                                                      uploadedBy: caller.id, createdAt: Clock.nowMillis()))
            }
            let id = attachment.id!
            do {
                var hasher = SHA256()
                var pending: [UInt8] = []
                var position = 0
                var size: Int64 = 0
                func flush(final: Bool) async throws {
                    var pieces: [[UInt8]] = []
                    while pending.count >= Self.chunkSize || (final && !pending.isEmpty) {
                        let count = min(Self.chunkSize, pending.count)
                        pieces.append(Array(pending[..<count]))
                        pending.removeFirst(count)
                    }
                    guard !pieces.isEmpty else { return }
                    let start = position
                    position += pieces.count
                    try await store.write { [pieces] db in
                        for (offset, piece) in pieces.enumerated() {
                            try db.appendAttachmentChunk(attachmentID: id, position: start + offset, data: piece)
                        }
                    }
                }
                var message: Convene_Briefing_V1_AttachmentChunk? = first
                while let chunk = message {
                    if chunk.hasHeader && chunk != first {
                        throw RPCError(.invalidArgument, "header: only the first message carries a header")
                    }
                    size += Int64(chunk.data.count)
                    guard size <= maxAttachmentSize else {
                        throw RPCError(.resourceExhausted, "attachment is over the limit of \(maxAttachmentSize) bytes")
                    }
                    hasher.update(data: chunk.data)
                    pending.append(contentsOf: chunk.data)
                    if pending.count >= 4 * Self.chunkSize { try await flush(final: false) }
                    message = try await iterator.next()
                }
                try await flush(final: true)
                let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
                let finalSize = size
                try await write { db, events in
                    guard var record = try db.attachment(id: id), let meeting = try db.meeting(id: record.meetingID) else {
                        throw RPCError(.internal, "attachment vanished during upload")
                    }
                    record.size = finalSize
                    record.sha256 = digest
                    record.complete = true
                    try db.update(record)
                    events.append(event(meeting.operationID, "attachment.uploaded", subject: "att-\(id)",
                                        "\(fileName), \(finalSize) bytes", meetingID: meeting.id))
                }
                var done = attachment
                done.size = finalSize
                done.sha256 = digest
                done.complete = true
                return done.proto
            } catch {
                // Nothing of a refused or cut-off upload stays behind. Its own task, so a
                // cancelled call still cleans up.
                await Task { [store] in try? await store.write { db in try db.deleteIncompleteAttachment(id: id) } }.value
                throw error
            }
        }

        try router.registerServerStreaming(M.downloadAttachment) {
            (request: Convene_Briefing_V1_DownloadAttachmentRequest, writer: ResponseStreamWriter<Convene_Briefing_V1_AttachmentChunk>, context) in
            let caller = try await auth.caller(context.requestMetadata)
            let id = try PublicID.attachment.parse(request.attachmentID, field: "attachment_id")
            let attachment = try await store.read { db in
                guard let attachment = try db.attachment(id: id), attachment.complete else {
                    throw PublicID.attachment.notFound(request.attachmentID)
                }
                _ = try db.requireVisibleMeeting(PublicID.meeting.format(attachment.meetingID), caller: caller)
                return attachment
            }
            var position = 0
            var first = true
            while true {
                let piece = try await store.read { [position] db in try db.attachmentChunk(attachmentID: id, position: position) }
                if piece == nil && !first { break }
                try await writer.send(.with {
                    if first {
                        $0.header = .with { h in
                            h.meetingID = PublicID.meeting.format(attachment.meetingID)
                            h.fileName = attachment.fileName
                            h.contentType = attachment.contentType
                        }
                    }
                    $0.data = Data(piece ?? [])
                })
                first = false
                if piece == nil { break }
                position += 1
            }
        }
    }
}
