// A closed-loop load generator for the gRPC C++ echo server of `make bench-compare`:
// IN_FLIGHT unary calls at once on one channel (one HTTP/2 connection), WARMUP seconds not
// measured, then SECONDS measured. Prints one JSON object like `convene bench --json`.
// Usage: grpc-echo-client HOST:PORT IN_FLIGHT WARMUP SECONDS PAYLOAD
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "convene/benchmark/v1/benchmark.grpc.pb.h"

namespace bench = convene::benchmark::v1;
using Clock = std::chrono::steady_clock;

struct Run {
    std::unique_ptr<bench::Benchmark::Stub> stub;
    std::string payload;
    Clock::time_point measure_from, end;
    std::mutex mutex;
    std::condition_variable idle;
    std::vector<uint64_t> latencies_us;
    uint64_t errors = 0;
    int active = 0;
};

// The bearer credential the benchmark service asks for (CONVENE_TOKEN), sent with every
// call to either server so that both carry the same metadata.
static std::string authorization;

struct Call {
    grpc::ClientContext context;
    bench::EchoRequest request;
    bench::EchoResponse response;
    Clock::time_point started;
};

static void issue(Run* run) {
    auto* call = new Call;
    if (!authorization.empty()) call->context.AddMetadata("authorization", authorization);
    call->request.set_payload(run->payload);
    call->started = Clock::now();
    run->stub->async()->UnaryEcho(&call->context, &call->request, &call->response, [run, call](grpc::Status status) {
        const auto now = Clock::now();
        const bool measured = call->started >= run->measure_from;
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - call->started).count();
        delete call;
        bool again = now < run->end;
        {
            std::lock_guard<std::mutex> lock(run->mutex);
            if (measured) {
                if (status.ok()) run->latencies_us.push_back(static_cast<uint64_t>(micros));
                else run->errors++;
            }
            if (!again && --run->active == 0) run->idle.notify_all();
        }
        if (again) issue(run);
    });
}

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s HOST:PORT IN_FLIGHT WARMUP SECONDS PAYLOAD\n", argv[0]);
        return 2;
    }
    if (const char* token = std::getenv("CONVENE_TOKEN"); token != nullptr && *token != '\0') {
        authorization = std::string("Bearer ") + token;
    }
    const int in_flight = std::atoi(argv[2]);
    const double warmup = std::atof(argv[3]), seconds = std::atof(argv[4]);
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    Run run;
    run.stub = bench::Benchmark::NewStub(grpc::CreateCustomChannel(argv[1], grpc::InsecureChannelCredentials(), arguments));
    run.payload.assign(static_cast<size_t>(std::atoi(argv[5])), '\0');
    const auto start = Clock::now();
    run.measure_from = start + std::chrono::microseconds(static_cast<int64_t>(warmup * 1e6));
    run.end = run.measure_from + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
    run.latencies_us.reserve(1 << 22);
    run.active = in_flight;
    for (int i = 0; i < in_flight; i++) issue(&run);
    std::unique_lock<std::mutex> lock(run.mutex);
    run.idle.wait(lock, [&] { return run.active == 0; });
    auto& l = run.latencies_us;
    std::sort(l.begin(), l.end());
    auto pct = [&](double p) -> uint64_t {
        if (l.empty()) return 0;
        size_t index = static_cast<size_t>(p / 100.0 * static_cast<double>(l.size() - 1) + 0.5);
        return l[std::min(index, l.size() - 1)];
    };
    std::printf("{\"requests\":%zu,\"errors\":%llu,\"duration_s\":%.3f,\"rps\":%.0f,\"p50_us\":%llu,\"p90_us\":%llu,"
                "\"p99_us\":%llu,\"p999_us\":%llu,\"max_us\":%llu}\n",
                l.size(), static_cast<unsigned long long>(run.errors), seconds, static_cast<double>(l.size()) / seconds,
                (unsigned long long)pct(50), (unsigned long long)pct(90), (unsigned long long)pct(99),
                (unsigned long long)pct(99.9), (unsigned long long)(l.empty() ? 0 : l.back()));
    return 0;
}
