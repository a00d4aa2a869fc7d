import ConveneDomain
import XCTest

final class OperationEventKindTests: XCTestCase {
    func testEveryKindIsNamedAndCitesItsProvision() {
        XCTAssertEqual(Set(OperationEventKind.allCases.map(\.rawValue)).count, OperationEventKind.allCases.count)
        for kind in OperationEventKind.allCases {
            XCTAssertTrue(kind.rawValue.range(of: #"^[a-z]+\.[a-z_]+$"#, options: .regularExpression) != nil, kind.rawValue)
            XCTAssertTrue(kind.provision.range(of: #"^(I|II|OP)\."#, options: .regularExpression) != nil, kind.rawValue)
            XCTAssertFalse(kind.subject.isEmpty)
        }
    }
}
