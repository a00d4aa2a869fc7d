"""The gRPC listener over TLS (ALPN h2) and mutual TLS, with certificates made per test run
by openssl, through grpcio's secure channels."""
import os
import shutil
import subprocess
import tempfile
import unittest

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from convene_server import ConveneServer


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(directory):
    """A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=Convene test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=directory)
    for name, extensions in [("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"),
                             ("client", "extendedKeyUsage=clientAuth")]:
        with open(os.path.join(directory, f"{name}.ext"), "w") as f:
            f.write(extensions + "\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=directory)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=directory)


def read(directory, name):
    with open(os.path.join(directory, name), "rb") as f:
        return f.read()


class TLSTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = tempfile.mkdtemp(prefix="convene-pki-")
        make_pki(cls.pki)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki, ignore_errors=True)

    def check(self, channel):
        health = health_pb2_grpc.HealthStub(channel)
        return health.Check(health_pb2.HealthCheckRequest(), timeout=10).status

    def test_tls_with_alpn_h2(self):
        with ConveneServer("--tls-cert", os.path.join(self.pki, "server.pem"),
                           "--tls-key", os.path.join(self.pki, "server.key")) as server:
            credentials = grpc.ssl_channel_credentials(root_certificates=read(self.pki, "ca.pem"))
            with grpc.secure_channel(server.target, credentials) as channel:
                self.assertEqual(self.check(channel), health_pb2.HealthCheckResponse.SERVING)
            # A plaintext client gets nowhere.
            with server.channel() as plaintext, self.assertRaises(grpc.RpcError) as refused:
                self.check(plaintext)
            self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def test_mutual_tls(self):
        with ConveneServer("--tls-cert", os.path.join(self.pki, "server.pem"),
                           "--tls-key", os.path.join(self.pki, "server.key"),
                           "--tls-client-ca", os.path.join(self.pki, "ca.pem")) as server:
            with_certificate = grpc.ssl_channel_credentials(root_certificates=read(self.pki, "ca.pem"),
                                                            private_key=read(self.pki, "client.key"),
                                                            certificate_chain=read(self.pki, "client.pem"))
            with grpc.secure_channel(server.target, with_certificate) as channel:
                self.assertEqual(self.check(channel), health_pb2.HealthCheckResponse.SERVING)
            without = grpc.ssl_channel_credentials(root_certificates=read(self.pki, "ca.pem"))
            with grpc.secure_channel(server.target, without) as channel, self.assertRaises(grpc.RpcError) as refused:
                self.check(channel)
            self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
