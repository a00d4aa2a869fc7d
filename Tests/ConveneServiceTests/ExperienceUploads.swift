import ConveneClient
import ConveneProtos
import XCTest

extension OperationTestCase {
    /// Streams a contingent's experience (I.B.4) in one piece as `party`: its record, or the
    /// refusal the server answered with.
    func uploadExperience(as party: String, operationID: String? = nil, period: Convene_Lessons_V1_ExperiencePeriod = .duringDeployment,
                          title: String = "Report", text: String = "x") async throws -> Convene_Lessons_V1_Experience {
        let upload = try await f.client.streaming(LM.submitExperience, requestType: Convene_Lessons_V1_ExperienceChunk.self,
                                                  as: Convene_Lessons_V1_Experience.self, options: f.options(party))
        let operation = operationID ?? self.operation
        try? await upload.send(.with {
            $0.header = .with { $0.operationID = operation; $0.period = period; $0.title = title }
            $0.text = text
        })
        try? await upload.finish()
        return try await upload.response()
    }
}
