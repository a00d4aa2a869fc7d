"""The domain through generated Python stubs on the gRPC listener: the same rules, the same
authentication and the same status codes as the native protocol."""
import unittest

import grpc
from google.protobuf import timestamp_pb2

from convene.admin.v1 import admin_pb2, admin_pb2_grpc
from convene.consultation.v1 import consultation_pb2 as c, consultation_pb2_grpc as cg
from convene.parties.v1 import parties_pb2 as p
from convene_server import ConveneServer, bearer


class DomainTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ConveneServer().__enter__()
        cls.channel = cls.server.channel()
        cls.admin = admin_pb2_grpc.AdministrationStub(cls.channel)
        cls.consultation = cg.ConsultationStub(cls.channel)
        cls.tokens, cls.ids, cls.credentials = {}, {}, {}
        admin = bearer(cls.server.admin_token)
        for name, kind, roles in [("President", p.MEMBER_STATE, [p.COUNCIL_PRESIDENT]),
                                  ("Member", p.MEMBER_STATE, [p.COUNCIL_MEMBER]),
                                  ("Secretariat", p.SECRETARIAT, [p.SECRETARIAT_STAFF]),
                                  ("Troops", p.MEMBER_STATE, []), ("Host", p.MEMBER_STATE, []),
                                  ("Bystander", p.MEMBER_STATE, [])]:
            party = cls.admin.RegisterParty(admin_pb2.RegisterPartyRequest(name=name, kind=kind, roles=roles),
                                            metadata=admin, timeout=10)
            credential = cls.admin.IssueCredential(admin_pb2.IssueCredentialRequest(party_id=party.id, label=name),
                                                   metadata=admin, timeout=10)
            cls.ids[name], cls.tokens[name], cls.credentials[name] = party.id, credential.token, credential.credential_id
        operation = cls.consultation.CreateOperation(c.CreateOperationRequest(
            name="UNMIX", mandate="Monitor the ceasefire", use_of_force="Self-defence only", phase=c.PLANNING,
            host_country_id=cls.ids["Host"]), metadata=cls.auth("Secretariat"), timeout=10)
        cls.operation = operation.id
        cls.consultation.RecordContribution(c.RecordContributionRequest(
            operation_id=cls.operation, party_id=cls.ids["Troops"], kind=c.TROOPS, quantity=850),
            metadata=cls.auth("Secretariat"), timeout=10)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.__exit__(None, None, None)

    @classmethod
    def auth(cls, name):
        return bearer(cls.tokens[name])

    def convene(self, caller):
        return self.consultation.ConveneMeeting(c.ConveneMeetingRequest(
            operation_id=self.operation, form=c.CONSULTATION_MEETING, stage=c.MANDATE_RENEWAL,
            scheduled_time=timestamp_pb2.Timestamp(seconds=1_800_000_000),
            informal_paper=c.InformalPaper(agenda="1. Renewal of the mandate", issues=["Force structure"])),
            metadata=self.auth(caller), timeout=10)

    def assert_refused(self, code, call, containing=None):
        with self.assertRaises(grpc.RpcError) as refused:
            call()
        self.assertEqual(refused.exception.code(), code, refused.exception.details())
        if containing:
            self.assertIn(containing, refused.exception.details())
        return refused.exception

    def test_a_partner_convenes_and_reads_with_its_own_token(self):
        meeting = self.convene("President")
        self.assertTrue(any(i.party_id == self.ids["Troops"] for i in meeting.invitations))
        seen = self.consultation.GetMeeting(c.GetMeetingRequest(meeting_id=meeting.id), metadata=self.auth("Troops"), timeout=10)
        self.assertEqual(seen.id, meeting.id)
        listed = self.consultation.ListMeetings(c.ListMeetingsRequest(operation_id=self.operation),
                                                metadata=self.auth("Troops"), timeout=10)
        self.assertIn(meeting.id, [m.id for m in listed.meetings])

    def test_refusals_are_the_native_ones(self):
        self.assert_refused(grpc.StatusCode.PERMISSION_DENIED, lambda: self.convene("Member"), "II.B.1")
        meeting = self.convene("President")
        # A party that is not invited cannot learn the meeting exists.
        self.assert_refused(grpc.StatusCode.NOT_FOUND, lambda: self.consultation.GetMeeting(
            c.GetMeetingRequest(meeting_id=meeting.id), metadata=self.auth("Bystander"), timeout=10))
        self.assert_refused(grpc.StatusCode.INVALID_ARGUMENT, lambda: self.consultation.GetOperation(
            c.GetOperationRequest(operation_id="not-an-id"), metadata=self.auth("Troops"), timeout=10))

    def test_credentials_are_checked_on_every_call(self):
        request = c.ListOperationsRequest()
        self.assert_refused(grpc.StatusCode.UNAUTHENTICATED,
                            lambda: self.consultation.ListOperations(request, timeout=10), "no credential")
        self.assert_refused(grpc.StatusCode.UNAUTHENTICATED,
                            lambda: self.consultation.ListOperations(request, metadata=bearer("bogus"), timeout=10))
        self.assert_refused(grpc.StatusCode.UNAUTHENTICATED,
                            lambda: self.consultation.ListOperations(request, metadata=(("authorization", "Basic x"),),
                                                                     timeout=10))
        admin = bearer(self.server.admin_token)
        issued = self.admin.IssueCredential(admin_pb2.IssueCredentialRequest(party_id=self.ids["Host"], label="temp"),
                                            metadata=admin, timeout=10)
        self.consultation.ListOperations(request, metadata=bearer(issued.token), timeout=10)
        self.admin.RevokeCredential(admin_pb2.RevokeCredentialRequest(credential_id=issued.credential_id),
                                    metadata=admin, timeout=10)
        self.assert_refused(grpc.StatusCode.UNAUTHENTICATED,
                            lambda: self.consultation.ListOperations(request, metadata=bearer(issued.token), timeout=10))

    def test_watch_streams_events_to_an_invited_party(self):
        call = self.consultation.WatchOperation(c.WatchOperationRequest(operation_id=self.operation),
                                                metadata=self.auth("Troops"), timeout=10)
        meeting = self.convene("President")
        for event in call:
            if event.subject_id == meeting.id:
                break
        call.cancel()


if __name__ == "__main__":
    unittest.main()
