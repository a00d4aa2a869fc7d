import ConvenePluginHost
import XCTest

// The plugin tests again with every plugin in a runner process of its own: the same
// plugins, unchanged, serve the same way (storage, events and host calls included).
// (XCTest on Linux does not run inherited tests: each is named here.)

final class IsolatedPluginTests: PluginTests {
    override class var isolation: PluginIsolation { .process }
    override func testResponsesOfEverySizeComeBackWhole() async throws { try await super.testResponsesOfEverySizeComeBackWhole() }
    override func testBuiltPluginsAreLoadedListedAndReflected() async throws { try await super.testBuiltPluginsAreLoadedListedAndReflected() }
    override func testEachLoaderErrorNamesTheFileAndTheReason() async throws { try await super.testEachLoaderErrorNamesTheFileAndTheReason() }
    override func testGroupsOfFriendsAndTheirProposedInvitations() async throws { try await super.testGroupsOfFriendsAndTheirProposedInvitations() }
    override func testTrainingCentresPluginWrittenInSwift() async throws { try await super.testTrainingCentresPluginWrittenInSwift() }
    override func testMilitaryStaffCommitteeReviewsOperationalChanges() async throws { try await super.testMilitaryStaffCommitteeReviewsOperationalChanges() }
    override func testMissionPlanningFormsATaskForceAndTerminationDissolvesIt() async throws { try await super.testMissionPlanningFormsATaskForceAndTerminationDissolvesIt() }
    override func testFailingHangingAndSilentPluginCallsLeaveTheServerServing() async throws { try await super.testFailingHangingAndSilentPluginCallsLeaveTheServerServing() }
    override func testACancelledPluginCallCommitsNothing() async throws { try await super.testACancelledPluginCallCommitsNothing() }
    override func testConcurrentCallsNeverLoseAStorageUpdate() async throws { try await super.testConcurrentCallsNeverLoseAStorageUpdate() }
    override func testCallsThatListKeysNeverCommitAStaleListing() async throws { try await super.testCallsThatListKeysNeverCommitAStaleListing() }
    override func testUnloadDrainsInFlightCallsAndReloadServesAgain() async throws { try await super.testUnloadDrainsInFlightCallsAndReloadServesAgain() }
}

final class IsolatedMechanismPluginTests: MechanismPluginTests {
    override class var isolation: PluginIsolation { .process }
    override func testReconnaissanceVisits() async throws { try await super.testReconnaissanceVisits() }
    override func testCouncilMissionsInformContributorsAndLinkTheirConsultations() async throws { try await super.testCouncilMissionsInformContributorsAndLinkTheirConsultations() }
    override func testPublicInformation() async throws { try await super.testPublicInformation() }
    override func testATerminatedOperationTakesNoNewVisitMissionOrCampaign() async throws {
        try await super.testATerminatedOperationTakesNoNewVisitMissionOrCampaign()
    }
    override func testSixMonthAssessment() async throws { try await super.testSixMonthAssessment() }
}

final class IsolatedPluginConfinementTests: PluginConfinementTests {
    override class var isolation: PluginIsolation { .process }
    override func testGroupsOfFriendsRevealNoMeetingToAPartyThatMayNotSeeIt() async throws { try await super.testGroupsOfFriendsRevealNoMeetingToAPartyThatMayNotSeeIt() }
    override func testATaskForceIsSeenOnlyByThoseWhoMaySeeTheMeetingThatFormedIt() async throws { try await super.testATaskForceIsSeenOnlyByThoseWhoMaySeeTheMeetingThatFormedIt() }
    override func testVisitAndMissionEventsReachOnlyThoseWhoMayListTheVisitOrMission() async throws { try await super.testVisitAndMissionEventsReachOnlyThoseWhoMayListTheVisitOrMission() }
    override func testPluginsActUnderTheirOwnPrincipalsWhichAreNeverInvited() async throws { try await super.testPluginsActUnderTheirOwnPrincipalsWhichAreNeverInvited() }
    override func testAPluginsPrincipalIsTheServersNotTheAdministrators() async throws { try await super.testAPluginsPrincipalIsTheServersNotTheAdministrators() }
}

final class IsolatedPluginEventTests: PluginEventTests {
    override class var isolation: PluginIsolation { .process }
    override func testALaterPluginStartsAfterItsLoadAndAReloadedOneResumes() async throws { try await super.testALaterPluginStartsAfterItsLoadAndAReloadedOneResumes() }
    override func testADeliveryAbandonedByAnUnloadIsDeliveredAgain() async throws { try await super.testADeliveryAbandonedByAnUnloadIsDeliveredAgain() }
}

final class IsolatedPluginAccessTests: PluginAccessTests {
    override class var isolation: PluginIsolation { .process }
    override func testEveryPluginMethodNeedsALiveCredentialBeforeThePluginRuns() async throws { try await super.testEveryPluginMethodNeedsALiveCredentialBeforeThePluginRuns() }
    override func testAPluginSeesItsCallersPartyAndRoles() async throws { try await super.testAPluginSeesItsCallersPartyAndRoles() }
    override func testLibrariesLoadOnlyFromThePluginDirectories() async throws { try await super.testLibrariesLoadOnlyFromThePluginDirectories() }
    override func testListPluginsNeedsACredentialAndShowsFilesToAdministratorsOnly() async throws { try await super.testListPluginsNeedsACredentialAndShowsFilesToAdministratorsOnly() }
}

final class IsolatedPluginFaultTests: PluginFaultTests {
    override class var isolation: PluginIsolation { .process }
    override func testHungCallsStarveNoOneAndDegradeOnlyTheirPlugin() async throws { try await super.testHungCallsStarveNoOneAndDegradeOnlyTheirPlugin() }
    override func testWhatAPluginHandsBackIsNotTrusted() async throws { try await super.testWhatAPluginHandsBackIsNotTrusted() }
    override func testANewerMinorVersionAndAMissingDescriptorSetLoadWithWarnings() async throws { try await super.testANewerMinorVersionAndAMissingDescriptorSetLoadWithWarnings() }
    override func testASwiftPluginsCallWhoseWriteOrEventIsRefusedFailsWhole() async throws { try await super.testASwiftPluginsCallWhoseWriteOrEventIsRefusedFailsWhole() }
    override func testReplacingALoadedLibraryTouchesNothingAndAReloadServesItsNewCode() async throws { try await super.testReplacingALoadedLibraryTouchesNothingAndAReloadServesItsNewCode() }
    override func testShutdownDoesNotWaitForHungPluginCalls() async throws { try await super.testShutdownDoesNotWaitForHungPluginCalls() }
    override func testShutdownDoesNotWaitForAHungOnUnload() async throws { try await super.testShutdownDoesNotWaitForAHungOnUnload() }
}
