// Copyright specinv authors.
//
// Request fields from HTTP query parameters, by protobuf reflection, so that
// every field of every request message is reachable from a URL without a
// hand-written list per route:
//
//   ?config.hop_length=256&options.iterations=64&output.encoding=flac
//
// A key is a dotted path of field names relative to the request message, or
// an alias the route defines (`preset` for `config.preset`). Values: decimal
// numbers for numeric fields, true/false/1/0 for booleans, text for strings,
// and for enums the full value name (INVERSION_METHOD_FGLA) or its short form
// without the enum's prefix, in any case, with '-' for '_' (fgla, log-mel,
// wav-pcm16). Repeated and message-typed leaves are not settable here (the
// body carries the large inputs).
//
// Errors: InvalidArgument naming the query parameter as the field (FieldOf in
// status_mapping.h), with the value cut to a bounded length. Thread-safe.

#ifndef SPECINV_SERVER_HTTP_QUERY_FIELDS_H_
#define SPECINV_SERVER_HTTP_QUERY_FIELDS_H_

#include <map>
#include <set>
#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"

namespace specinv::server {

struct QueryFieldOptions {
  // alias -> field path, e.g. {"preset", "config.preset"}.
  std::map<std::string, std::string> aliases;
  // Keys the route reads itself; skipped here.
  std::set<std::string> reserved;
};

// Sets one field per parameter (a key given twice is an error).
absl::Status SetFieldsFromQuery(const std::multimap<std::string, std::string>& params,
                                const QueryFieldOptions& options, google::protobuf::Message* message);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_HTTP_QUERY_FIELDS_H_
