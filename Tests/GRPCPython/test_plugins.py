"""Plugin methods over gRPC, through the same router as built-in ones, including after the
plugin is reloaded, unloaded and loaded again at run time."""
import os
import unittest

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from convene.admin.v1 import admin_pb2, admin_pb2_grpc
from convene.consultation.v1 import consultation_pb2 as c, consultation_pb2_grpc as cg
from convene.friends.v1 import friends_pb2 as f, friends_pb2_grpc as fg
from convene.parties.v1 import parties_pb2 as p
from convene.plugins.v1 import plugins_pb2 as pl, plugins_pb2_grpc as plg
from convene_server import CONVENED, ConveneServer, bearer

PLUGIN = "groups-of-friends"
SERVICE = "convene.friends.v1.GroupsOfFriends"


class PluginTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ConveneServer().__enter__()
        cls.channel = cls.server.channel()
        cls.admin_md = bearer(cls.server.admin_token)
        admin = admin_pb2_grpc.AdministrationStub(cls.channel)
        party = admin.RegisterParty(admin_pb2.RegisterPartyRequest(
            name="Secretariat", kind=p.SECRETARIAT, roles=[p.SECRETARIAT_STAFF]), metadata=cls.admin_md, timeout=10)
        cls.secretariat = bearer(admin.IssueCredential(admin_pb2.IssueCredentialRequest(party_id=party.id),
                                                       metadata=cls.admin_md, timeout=10).token)
        host = admin.RegisterParty(admin_pb2.RegisterPartyRequest(name="Host", kind=p.MEMBER_STATE),
                                   metadata=cls.admin_md, timeout=10)
        cls.operation = cg.ConsultationStub(cls.channel).CreateOperation(c.CreateOperationRequest(
            name="UNMIX", mandate="Monitor the ceasefire", phase=c.PLANNING, host_country_id=host.id),
            metadata=cls.secretariat, timeout=10).id

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.__exit__(None, None, None)

    def groups(self):
        return fg.GroupsOfFriendsStub(self.channel).ListGroups(f.ListGroupsRequest(operation_id=self.operation),
                                                               metadata=self.secretariat, timeout=10).groups

    def test_a_plugin_method_served_before_and_after_reload_unload_and_load(self):
        friends = fg.GroupsOfFriendsStub(self.channel)
        group = friends.FormGroup(f.FormGroupRequest(operation_id=self.operation, name="Friends of UNMIX"),
                                  metadata=self.secretariat, timeout=10)
        self.assertEqual([g.id for g in self.groups()], [group.id])
        plugins = plg.PluginAdministrationStub(self.channel)
        info = plugins.ReloadPlugin(pl.ReloadPluginRequest(name=PLUGIN), metadata=self.admin_md, timeout=30)
        self.assertEqual(info.name, PLUGIN)
        self.assertEqual([g.id for g in self.groups()], [group.id], "state kept, method served again")
        health = health_pb2_grpc.HealthStub(self.channel)
        watch = health.Watch(health_pb2.HealthCheckRequest(service=SERVICE), timeout=60)
        self.assertEqual(next(watch).status, health_pb2.HealthCheckResponse.SERVING)
        plugins.UnloadPlugin(pl.UnloadPluginRequest(name=PLUGIN), metadata=self.admin_md, timeout=30)
        with self.assertRaises(grpc.RpcError) as gone:
            self.groups()
        self.assertEqual(gone.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        self.assertEqual(next(watch).status, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN, "health follows the unload")
        library = os.path.join(os.path.dirname(CONVENED), "libConvenePlugin_Friends.so")
        plugins.LoadPlugin(pl.LoadPluginRequest(path=library), metadata=self.admin_md, timeout=30)
        self.assertEqual([g.id for g in self.groups()], [group.id])
        self.assertEqual(next(watch).status, health_pb2.HealthCheckResponse.SERVING, "and the load")
        watch.cancel()


if __name__ == "__main__":
    unittest.main()
