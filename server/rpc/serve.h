// Copyright specinv authors.
//
// The shapes of call that the RPCs share, built from CallLifecycle
// (call.h) and a Prepare function (rpc.h):
//
//   ServeUnary     Begin (auth) -> Shed (a saturated pool refuses at once)
//                  -> Parse -> Prepare -> Admit -> Submit the job (its
//                  runners) -> End -> Finish. Prepare runs inside exception
//                  containment too.
//   ServeProgress  the same for a server-streaming call whose job reports
//                  inversion progress: progress events, then the result.
//
// Requests arrive as bytes (the methods are registered raw) and are parsed
// here: gRPC's own parsing answers a malformed message with UNIMPLEMENTED and
// no text, ParseRequest with INVALID_ARGUMENT saying what did not parse.
// Responses are serialized here too.
//
// A handler of a new RPC is one line: ServeUnary(..., &PrepareNewRpc).
// Thread-safe.

#ifndef SPECINV_SERVER_RPC_SERVE_H_
#define SPECINV_SERVER_RPC_SERVE_H_

#include <atomic>
#include <memory>
#include <mutex>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "server/call.h"
#include "server/rpc/rpc.h"
#include "server/status_mapping.h"

namespace specinv::server {

template <typename Request, typename Response>
using PrepareFn = absl::StatusOr<Prepared> (*)(const RpcEnv&, const Request&, Response*);

// Parses request bytes; INVALID_ARGUMENT naming the message type when they
// are not a valid serialization of it.
template <typename Request>
absl::Status ParseRequest(const grpc::ByteBuffer& raw, Request* request) {
  grpc::ByteBuffer bytes(raw);  // shares the slices; parsing consumes its buffer
  if (grpc::SerializationTraits<Request>::Deserialize(&bytes, request).ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("the request is not a valid ", Request::descriptor()->full_name(),
                                                 " message: its ", raw.Length(),
                                                 " bytes do not parse as protobuf"));
}

// Serializes a response into `raw`, replacing what it held.
template <typename Response>
absl::Status SerializeResponse(const Response& response, grpc::ByteBuffer* raw) {
  raw->Clear();
  bool own_buffer = false;
  if (grpc::SerializationTraits<Response>::Serialize(response, raw, &own_buffer).ok()) return absl::OkStatus();
  return absl::InternalError("the response could not be serialized");
}

namespace internal {

// Prepare and admission on the gRPC thread; the status to end the call with
// when the job must not be queued.
template <typename Request, typename Response>
absl::Status PrepareAndAdmit(const CallLifecycle& life, const RpcEnv& env, CallRecord& call, const Request& request,
                             Response* response, PrepareFn<Request, Response> prepare, Prepared* out) {
  absl::Status s = RunContained(call.method, call.request_id, [&]() -> absl::Status {
    absl::StatusOr<Prepared> prepared = prepare(env, request, response);
    if (!prepared.ok()) return prepared.status();
    *out = *std::move(prepared);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return life.Admit(call, out->admission);
}

// Queues the prepared job's runners; `finish` is called once, with the
// first error, when the last runner is done (or at once if none could be
// queued).
absl::Status SubmitRunners(const CallLifecycle& life, std::shared_ptr<CallRecord> call,
                           grpc::CallbackServerContext* ctx, Prepared prepared,
                           std::function<void(const absl::Status&)> finish,
                           std::function<void(const v1::InversionProgress&)> on_progress = {});

}  // namespace internal

template <typename Request, typename Response>
grpc::ServerUnaryReactor* ServeUnary(const CallLifecycle& life, const RpcEnv& env, const char* method,
                                     grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* raw_request,
                                     grpc::ByteBuffer* raw_response, PrepareFn<Request, Response> prepare) {
  struct Messages {
    Request request;
    Response response;
  };
  auto messages = std::make_shared<Messages>();  // until the call is finished
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status auth;
  std::shared_ptr<CallRecord> call = life.Begin(method, ctx, &auth);
  auto finish = [&life, call, ctx, reactor, messages, raw_response](const absl::Status& status) {
    absl::Status s = status;
    if (s.ok()) s = SerializeResponse(messages->response, raw_response);
    life.End(*call, ctx, s);
    reactor->Finish(ToGrpcStatus(s));  // last use of ctx and the byte buffers
  };
  if (!auth.ok()) {
    finish(auth);
    return reactor;
  }
  if (absl::Status s = life.Shed(); !s.ok()) {
    finish(s);
    return reactor;
  }
  if (absl::Status s = ParseRequest(*raw_request, &messages->request); !s.ok()) {
    finish(s);
    return reactor;
  }
  Prepared prepared;
  if (absl::Status s = internal::PrepareAndAdmit(life, env, *call, messages->request, &messages->response, prepare,
                                                 &prepared);
      !s.ok()) {
    finish(s);
    return reactor;
  }
  if (absl::Status s = internal::SubmitRunners(life, call, ctx, std::move(prepared), finish); !s.ok()) finish(s);
  return reactor;
}

// Streams progress events then the final result. Progress events are
// advisory: while a write is in flight only the newest one is kept.
template <typename Result, typename StreamResponse>
class ProgressStreamReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  Result* result() { return &result_; }

  void PostProgress(const v1::InversionProgress& progress) {
    std::unique_lock<std::mutex> lock(mu_);
    if (result_posted_) return;
    *progress_.mutable_progress() = progress;
    have_progress_ = true;
    Pump(lock);
  }

  // Last use of the reactor by the poster.
  void PostResult(const absl::Status& status) {
    std::unique_lock<std::mutex> lock(mu_);
    result_posted_ = true;
    status_ = status;
    if (status.ok()) *final_.mutable_result() = std::move(result_);
    Pump(lock);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) broken_ = true;
    Pump(lock);
  }

  void OnDone() override { delete this; }

 private:
  // Starts the next operation; releases the lock before calling into gRPC.
  void Pump(std::unique_lock<std::mutex>& lock) {
    if (writing_ || finished_) return;
    if (result_posted_) {
      finished_ = true;
      if (status_.ok() && !broken_) {
        status_ = SerializeResponse(final_, &in_flight_);
        if (status_.ok()) {
          writing_ = true;
          lock.unlock();
          this->StartWriteAndFinish(&in_flight_, grpc::WriteOptions(), grpc::Status::OK);
          return;
        }
      }
      const grpc::Status status = broken_ && status_.ok()
                                      ? grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped reading")
                                      : ToGrpcStatus(status_);
      lock.unlock();
      this->Finish(status);
      return;
    }
    if (have_progress_ && !broken_) {
      have_progress_ = false;
      if (!SerializeResponse(progress_, &in_flight_).ok()) return;  // advisory: dropped
      progress_.Clear();
      writing_ = true;
      lock.unlock();
      this->StartWrite(&in_flight_);
    }
  }

  std::mutex mu_;
  bool writing_ = false;
  bool have_progress_ = false;
  bool result_posted_ = false;
  bool finished_ = false;
  bool broken_ = false;
  absl::Status status_;
  Result result_;
  StreamResponse progress_;
  StreamResponse final_;
  grpc::ByteBuffer in_flight_;
};

template <typename Request, typename Result, typename StreamResponse>
grpc::ServerWriteReactor<grpc::ByteBuffer>* ServeProgress(const CallLifecycle& life, const RpcEnv& env,
                                                          const char* method, grpc::CallbackServerContext* ctx,
                                                          const grpc::ByteBuffer* raw_request,
                                                          PrepareFn<Request, Result> prepare) {
  auto* reactor = new ProgressStreamReactor<Result, StreamResponse>();
  auto request = std::make_shared<Request>();  // until the job is done
  absl::Status auth;
  std::shared_ptr<CallRecord> call = life.Begin(method, ctx, &auth);
  auto finish = [&life, call, ctx, reactor, request](const absl::Status& status) {
    life.End(*call, ctx, status);
    reactor->PostResult(status);
  };
  if (!auth.ok()) {
    finish(auth);
    return reactor;
  }
  if (absl::Status s = life.Shed(); !s.ok()) {
    finish(s);
    return reactor;
  }
  if (absl::Status s = ParseRequest(*raw_request, request.get()); !s.ok()) {
    finish(s);
    return reactor;
  }
  Prepared prepared;
  if (absl::Status s = internal::PrepareAndAdmit(life, env, *call, *request, reactor->result(), prepare, &prepared);
      !s.ok()) {
    finish(s);
    return reactor;
  }
  if (absl::Status s = internal::SubmitRunners(
          life, call, ctx, std::move(prepared), finish,
          [reactor](const v1::InversionProgress& p) { reactor->PostProgress(p); });
      !s.ok()) {
    finish(s);
  }
  return reactor;
}

}  // namespace specinv::server

#endif  // SPECINV_SERVER_RPC_SERVE_H_
