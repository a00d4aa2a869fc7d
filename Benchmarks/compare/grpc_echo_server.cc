// The gRPC C++ side of `make bench-compare`: convene.benchmark.v1.Benchmark/UnaryEcho on
// gRPC's callback API, the fastest of its server APIs. Usage: grpc-echo-server PORT
#include <cstdio>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "convene/benchmark/v1/benchmark.grpc.pb.h"

namespace bench = convene::benchmark::v1;

class EchoService final : public bench::Benchmark::CallbackService {
    grpc::ServerUnaryReactor* UnaryEcho(grpc::CallbackServerContext* context, const bench::EchoRequest* request,
                                        bench::EchoResponse* response) override {
        response->set_payload(request->payload());
        auto* reactor = context->DefaultReactor();
        reactor->Finish(grpc::Status::OK);
        return reactor;
    }
};

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    const std::string address = std::string("127.0.0.1:") + argv[1];
    EchoService service;
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials());
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server) {
        std::fprintf(stderr, "cannot listen on %s\n", address.c_str());
        return 1;
    }
    std::printf("listening on %s\n", address.c_str());
    std::fflush(stdout);
    server->Wait();
    return 0;
}
