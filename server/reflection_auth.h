// Copyright specinv authors.
//
// Bearer-token authentication for gRPC server reflection. Reflection is
// gRPC's own service, so the Spectrogram service's call lifecycle never sees
// it; this server interceptor does. For a reflection call without an accepted
// token it replaces every response message by an empty one (nothing about
// the API is disclosed) and ends the call UNAUTHENTICATED. Health checks are
// not intercepted (they stay exempt, for probes). No effect when
// authentication is off.
// Thread-safe; the authenticator must outlive the server.

#ifndef SPECINV_SERVER_REFLECTION_AUTH_H_
#define SPECINV_SERVER_REFLECTION_AUTH_H_

#include <memory>

#include <grpcpp/support/server_interceptor.h>

#include "server/auth.h"

namespace specinv::server {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewReflectionAuthInterceptorFactory(
    const TokenAuthenticator* auth);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_REFLECTION_AUTH_H_
