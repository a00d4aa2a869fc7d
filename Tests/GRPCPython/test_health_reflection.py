"""Stock tools' view of the gRPC listener: grpc.health.v1 through grpcio-health-checking and
server reflection through grpcio-reflection's descriptor database, with no .proto files."""
import unittest

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from convene_server import ConveneServer

SERVICES = {"convene.admin.v1.Administration", "convene.consultation.v1.Consultation", "convene.briefing.v1.Briefing",
            "convene.lessons.v1.Lessons", "convene.health.v1.Health", "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
            "convene.plugins.v1.PluginAdministration"}
PLUGIN_SERVICES = {"convene.friends.v1.GroupsOfFriends", "convene.msc.v1.MilitaryStaffCommittee",
                   "convene.taskforce.v1.MissionTaskForces"}


class HealthAndReflectionTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ConveneServer().__enter__()
        cls.channel = cls.server.channel()

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.__exit__(None, None, None)

    def test_health_check_per_service_plugins_included(self):
        health = health_pb2_grpc.HealthStub(self.channel)
        for service in [""] + sorted(SERVICES | PLUGIN_SERVICES):
            status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status
            self.assertEqual(status, health_pb2.HealthCheckResponse.SERVING, service)
        with self.assertRaises(grpc.RpcError) as unknown:
            health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
        self.assertEqual(unknown.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_health_watch(self):
        health = health_pb2_grpc.HealthStub(self.channel)
        call = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
        self.assertEqual(next(call).status, health_pb2.HealthCheckResponse.SERVING)
        call.cancel()
        call = health.Watch(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
        self.assertEqual(next(call).status, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN)
        call.cancel()

    def test_reflection_lists_and_describes_every_service(self):
        database = ProtoReflectionDescriptorDatabase(self.channel)
        listed = set(database.get_services())
        self.assertLessEqual(SERVICES | PLUGIN_SERVICES, listed)
        pool = DescriptorPool(database)
        for name in sorted(listed):
            service = pool.FindServiceByName(name)
            self.assertGreater(len(service.methods), 0, name)
            for method in service.methods:  # every message type resolves
                self.assertTrue(method.input_type.full_name and method.output_type.full_name)
        meeting = pool.FindMessageTypeByName("convene.consultation.v1.Meeting")
        self.assertIn("invitations", meeting.fields_by_name)

    def test_reflection_v1_answers_errors_on_the_stream(self):
        from grpc_reflection.v1alpha import reflection_pb2 as r
        info = self.channel.stream_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                                          request_serializer=r.ServerReflectionRequest.SerializeToString,
                                          response_deserializer=r.ServerReflectionResponse.FromString)
        requests = [r.ServerReflectionRequest(file_containing_symbol="no.such.Symbol"),
                    r.ServerReflectionRequest(list_services="")]
        responses = list(info(iter(requests), timeout=10))
        self.assertEqual(responses[0].error_response.error_code, grpc.StatusCode.NOT_FOUND.value[0])
        self.assertIn("grpc.health.v1.Health", [s.name for s in responses[1].list_services_response.service])


if __name__ == "__main__":
    unittest.main()
