// Copyright specinv authors.
//
// `specinv health`: the standard grpc.health.v1.Health/Check. Exit code 0 only
// when the status is SERVING (usable as a container HEALTHCHECK). The two
// messages are encoded by hand (one string field, one enum field), so no
// health .proto needs to be compiled into the client.

#include <chrono>
#include <future>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/str_cat.h"
#include "client/commands/commands.h"
#include "client/status_format.h"

namespace specinv::client {
namespace {

constexpr char kHealthCheckMethod[] = "/grpc.health.v1.Health/Check";
constexpr int kServing = 1;

// Appends a base-128 varint.
void PutVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

bool GetVarint(const std::string& bytes, size_t* pos, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64 && *pos < bytes.size(); shift += 7) {
    const auto byte = static_cast<unsigned char>(bytes[(*pos)++]);
    *value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<int> HealthCheck(const Connection& connection, const std::string& service,
                                int64_t deadline_ms) {
  grpc::GenericStub stub(connection.channel());
  grpc::ClientContext call;
  connection.Prepare(&call, deadline_ms);
  const std::string request_bytes = EncodeHealthCheckRequest(service);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&call, kHealthCheckMethod, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  const grpc::Status status = done.get_future().get();
  if (!status.ok()) return FromGrpcStatus(status);
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::DataLossError("unreadable health response");
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return DecodeHealthCheckResponse(bytes);
}

namespace {

absl::Status RunHealth(CommandContext& ctx, const HealthArgs& args) {
  absl::StatusOr<const Connection*> connection = ctx.Connect();
  if (!connection.ok()) return connection.status();
  const auto start = std::chrono::steady_clock::now();
  const auto wait = std::chrono::duration<double>(args.wait_s);
  for (;;) {
    // While waiting, one attempt never runs past the end of the wait.
    int64_t deadline_ms = ctx.connection.deadline_ms;
    if (args.wait_s > 0.0) {
      const double left_ms =
          (wait - (std::chrono::steady_clock::now() - start)).count() * 1000.0;
      deadline_ms = std::max<int64_t>(1, std::min<int64_t>(deadline_ms, static_cast<int64_t>(left_ms)));
    }
    absl::StatusOr<int> status = HealthCheck(**connection, args.service, deadline_ms);
    const bool serving = status.ok() && *status == kServing;
    const bool time_left = std::chrono::steady_clock::now() - start < wait;
    if (serving || !time_left) {
      if (!status.ok()) return status.status();
      ctx.Print("%s\n", ServingStatusName(*status).c_str());
      if (!serving) {
        return absl::UnavailableError(absl::StrCat(
            args.service.empty() ? std::string("server") : "service " + args.service, " is ",
            ServingStatusName(*status)));
      }
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

std::string EncodeHealthCheckRequest(const std::string& service) {
  std::string out;
  if (service.empty()) return out;  // proto3 omits the default value
  out.push_back(static_cast<char>(0x0a));  // field 1, length-delimited
  PutVarint(service.size(), &out);
  out += service;
  return out;
}

absl::StatusOr<int> DecodeHealthCheckResponse(const std::string& bytes) {
  int status = 0;  // UNKNOWN when absent
  size_t pos = 0;
  while (pos < bytes.size()) {
    uint64_t tag = 0;
    if (!GetVarint(bytes, &pos, &tag)) return absl::DataLossError("malformed health response");
    const uint64_t field = tag >> 3;
    const uint64_t wire_type = tag & 7;
    uint64_t value = 0;
    if (wire_type == 0) {
      if (!GetVarint(bytes, &pos, &value)) return absl::DataLossError("malformed health response");
      if (field == 1) status = static_cast<int>(value);
    } else if (wire_type == 2) {
      if (!GetVarint(bytes, &pos, &value) || value > bytes.size() - pos) {
        return absl::DataLossError("malformed health response");
      }
      pos += value;
    } else if (wire_type == 1 || wire_type == 5) {
      const size_t width = wire_type == 1 ? 8 : 4;
      if (width > bytes.size() - pos) return absl::DataLossError("malformed health response");
      pos += width;
    } else {
      return absl::DataLossError("malformed health response");
    }
  }
  return status;
}

std::string ServingStatusName(int status) {
  switch (status) {
    case 0: return "UNKNOWN";
    case 1: return "SERVING";
    case 2: return "NOT_SERVING";
    case 3: return "SERVICE_UNKNOWN";
    default: return absl::StrCat("STATUS_", status);
  }
}

void RegisterHealth(CLI::App* app, CommandContext* context) {
  auto args = std::make_shared<HealthArgs>();
  CLI::App* sub = app->add_subcommand(
      "health", "grpc.health.v1 check; exit code 0 only when SERVING");
  sub->add_option("--service", args->service, "service name (default: the whole server)");
  sub->add_option("--wait-s", args->wait_s,
                  "keep checking until SERVING or this many seconds have passed");
  sub->callback([context, args] { context->action = [context, args] { return RunHealth(*context, *args); }; });
}

}  // namespace specinv::client
