// Copyright specinv authors.

#include "server/http/query_fields.h"

#include <cctype>
#include <cmath>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "server/call.h"
#include "server/status_mapping.h"

namespace specinv::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// InversionMethod -> INVERSION_METHOD_
std::string EnumPrefix(const EnumDescriptor& e) {
  std::string out;
  for (size_t i = 0; i < e.name().size(); ++i) {
    const char c = e.name()[i];
    if (i > 0 && std::isupper(static_cast<unsigned char>(c))) out.push_back('_');
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  out.push_back('_');
  return out;
}

const EnumValueDescriptor* FindEnumValue(const EnumDescriptor& e, const std::string& value) {
  if (const EnumValueDescriptor* v = e.FindValueByName(value)) return v;
  std::string name = absl::AsciiStrToUpper(absl::StrReplaceAll(value, {{"-", "_"}}));
  if (const EnumValueDescriptor* v = e.FindValueByName(name)) return v;
  return e.FindValueByName(EnumPrefix(e) + name);
}

std::string ShortNames(const EnumDescriptor& e) {
  const std::string prefix = EnumPrefix(e);
  std::string out;
  for (int i = 0; i < e.value_count(); ++i) {
    std::string name = e.value(i)->name();
    if (name == prefix + "UNSPECIFIED") continue;
    if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
    absl::StrAppend(&out, out.empty() ? "" : ", ",
                    absl::StrReplaceAll(absl::AsciiStrToLower(name), {{"_", "-"}}));
  }
  return out;
}

absl::Status SetScalar(const std::string& key, const std::string& value, const FieldDescriptor& field,
                       Message* message) {
  const Reflection* r = message->GetReflection();
  auto bad = [&](absl::string_view what) {
    return InvalidField(BoundedEcho(key), absl::StrCat("must be ", what, ", got \"", BoundedEcho(value), "\""));
  };
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("an integer");
      r->SetInt32(message, &field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("an integer");
      r->SetInt64(message, &field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("a non-negative integer");
      r->SetUInt32(message, &field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("a non-negative integer");
      r->SetUInt64(message, &field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double v;
      if (!absl::SimpleAtod(value, &v) || !std::isfinite(v)) return bad("a finite number");
      r->SetDouble(message, &field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      float v;
      if (!absl::SimpleAtof(value, &v) || !std::isfinite(v)) return bad("a finite number");
      r->SetFloat(message, &field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v;
      if (!absl::SimpleAtob(value, &v)) return bad("true or false");
      r->SetBool(message, &field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_STRING:
      if (field.type() == FieldDescriptor::TYPE_BYTES) return bad("sent in the body, not the query");
      r->SetString(message, &field, value);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* v = FindEnumValue(*field.enum_type(), value);
      if (v == nullptr) return bad(absl::StrCat("one of ", ShortNames(*field.enum_type())));
      r->SetEnum(message, &field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return bad("a scalar field (a message is not settable from the query)");
}

}  // namespace

absl::Status SetFieldsFromQuery(const std::multimap<std::string, std::string>& params,
                                const QueryFieldOptions& options, Message* message) {
  std::set<std::string> seen;
  for (const auto& [key, value] : params) {
    if (options.reserved.count(key) != 0) continue;
    if (!seen.insert(key).second) {
      return InvalidField(BoundedEcho(key), "is given more than once");
    }
    auto alias = options.aliases.find(key);
    const std::string path = alias != options.aliases.end() ? alias->second : key;
    Message* target = message;
    const FieldDescriptor* field = nullptr;
    const std::vector<std::string> parts = absl::StrSplit(path, '.');
    for (size_t i = 0; i < parts.size(); ++i) {
      field = target->GetDescriptor()->FindFieldByName(parts[i]);
      if (field == nullptr) {
        return InvalidField(BoundedEcho(key), absl::StrCat("is not a parameter of this route (",
                                                           target->GetDescriptor()->full_name(),
                                                           " has no field \"", BoundedEcho(parts[i]), "\")"));
      }
      if (field->is_repeated()) {
        return InvalidField(BoundedEcho(key), "names a repeated field, not settable from the query");
      }
      if (i + 1 < parts.size()) {
        if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
          return InvalidField(BoundedEcho(key), absl::StrCat("is not a parameter of this route (\"",
                                                             BoundedEcho(parts[i]), "\" is not a message)"));
        }
        target = target->GetReflection()->MutableMessage(target, field);
      }
    }
    if (absl::Status s = SetScalar(key, value, *field, target); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace specinv::server
