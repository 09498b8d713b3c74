// Copyright specinv authors.

#include "server/reflection_auth.h"

#include <string>

#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/match.h"
#include "server/status_mapping.h"

namespace specinv::server {
namespace {

constexpr char kReflectionPrefix[] = "/grpc.reflection.";

class ReflectionAuthInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ReflectionAuthInterceptor(const TokenAuthenticator* auth) : auth_(auth) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      denial_ = auth_->Check(*methods->GetRecvInitialMetadata());
    }
    if (!denial_.ok()) {
      if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
        grpc::Slice empty("");
        grpc::ByteBuffer blank(&empty, 1);
        methods->GetSerializedSendMessage()->Swap(&blank);
      }
      if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
        methods->ModifySendStatus(ToGrpcStatus(denial_));
      }
    }
    methods->Proceed();
  }

 private:
  const TokenAuthenticator* auth_;
  absl::Status denial_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(const TokenAuthenticator* auth) : auth_(auth) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    if (!auth_->enabled() || !absl::StartsWith(info->method(), kReflectionPrefix)) return nullptr;
    return new ReflectionAuthInterceptor(auth_);
  }

 private:
  const TokenAuthenticator* auth_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewReflectionAuthInterceptorFactory(
    const TokenAuthenticator* auth) {
  return std::make_unique<Factory>(auth);
}

}  // namespace specinv::server
