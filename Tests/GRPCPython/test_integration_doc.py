"""Docs/INTEGRATION.md's Python example, run as written against a real server."""
import contextlib
import io
import os
import re
import unittest

from convene.admin.v1 import admin_pb2, admin_pb2_grpc
from convene.consultation.v1 import consultation_pb2 as c, consultation_pb2_grpc as cg
from convene.parties.v1 import parties_pb2 as p
from convene_server import ConveneServer, bearer

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "Docs", "INTEGRATION.md")


def python_blocks():
    with open(DOC) as f:
        text = f.read()
    section = text.split("## Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


class IntegrationDocTests(unittest.TestCase):
    def test_the_python_example_runs_as_written(self):
        blocks = python_blocks()
        self.assertEqual(len(blocks), 1, "one Python example in Docs/INTEGRATION.md")
        with ConveneServer() as server:
            channel = server.channel()
            admin = admin_pb2_grpc.AdministrationStub(channel)
            admin_md = bearer(server.admin_token)
            party = admin.RegisterParty(admin_pb2.RegisterPartyRequest(
                name="Secretariat", kind=p.SECRETARIAT, roles=[p.SECRETARIAT_STAFF]), metadata=admin_md, timeout=10)
            token = admin.IssueCredential(admin_pb2.IssueCredentialRequest(party_id=party.id),
                                          metadata=admin_md, timeout=10).token
            host = admin.RegisterParty(admin_pb2.RegisterPartyRequest(name="Host", kind=p.MEMBER_STATE),
                                       metadata=admin_md, timeout=10)
            cg.ConsultationStub(channel).CreateOperation(c.CreateOperationRequest(
                name="UNMIX", mandate="Monitor the ceasefire", phase=c.PLANNING, host_country_id=host.id),
                metadata=bearer(token), timeout=10)
            channel.close()
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                exec(compile(blocks[0], "Docs/INTEGRATION.md", "exec"), {"TARGET": server.target, "TOKEN": token})
            self.assertIn("UNMIX", output.getvalue())
            self.assertIn("refused: NOT_FOUND", output.getvalue())


if __name__ == "__main__":
    unittest.main()
