// Copyright specinv authors.
//
// libFuzzer target over every unary request type, structured: inputs are
// serialized requests, and (in the libFuzzer build) a custom mutator changes
// them one field at a time through protobuf reflection (numbers to edge values
// such as 0, -1, 1 << 30, NaN, inf; enums to unknown values; strings and
// repeated fields grown or emptied; tensors' shapes lied about), so fuzzing
// explores valid messages with hostile fields rather than unparsable bytes.
//
// Each input runs the service's real path for its RPC under small limits:
// Prepare (conversion, core validation, the cost model), Admit, and, when
// admitted, the job itself with a 2 s deadline, then the status mapping. Any
// crash, sanitizer report, hang (-timeout) or allocation past -rss_limit_mb is
// a finding: admission must keep every admitted job within the limits.
//
// Input: byte 0 picks the request type (mod 7); the rest is the serialized
// request. A 1-byte input stands for a built-in valid request of that type
// (the seeds), so the kept corpus can name them without binary files.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/reflection.h"
#include "server/admission.h"
#include "server/extractor_cache.h"
#include "server/job.h"
#include "server/limits.h"
#include "server/rpc/rpc.h"
#include "server/status_mapping.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using specinv::server::ServiceLimits;

constexpr int kTypes = 7;

ServiceLimits FuzzLimits() {
  ServiceLimits limits;
  limits.max_message_bytes = 1 << 20;
  limits.max_audio_seconds = 2.0;
  limits.max_iterations = 50;
  limits.max_n_fft = 4096;
  limits.max_batch_size = 4;
  limits.max_image_side_pixels = 512;
  limits.max_job_memory_bytes = int64_t{256} << 20;
  return limits;
}

struct Env {
  ServiceLimits limits = FuzzLimits();
  specinv::server::ExtractorCache extractors;
  specinv::server::RpcEnv rpc{&limits, &extractors, 1};
};

Env& TheEnv() {
  static Env* env = new Env();
  return *env;
}

// ---- seeds: one small valid request per type ----

std::string SinePcm(double seconds, double rate) {
  const size_t n = static_cast<size_t>(seconds * rate);
  std::string bytes(n * sizeof(float), '\0');
  for (size_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(0.5 * std::sin(2.0 * M_PI * 440.0 * static_cast<double>(i) / rate));
    std::memcpy(bytes.data() + i * sizeof(float), &v, sizeof(float));
  }
  return bytes;
}

void SetAudio(specinv::v1::Audio* audio) {
  audio->set_pcm_data(SinePcm(0.25, 16000.0));
  audio->set_encoding(specinv::v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  audio->set_sample_rate_hertz(16000);
}

void SetTensor(specinv::v1::Tensor* tensor, int64_t rows, int64_t cols, float value) {
  tensor->add_shape(rows);
  tensor->add_shape(cols);
  std::vector<float> data(static_cast<size_t>(rows * cols), value);
  tensor->set_float32_data(std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float)));
}

void SetSmallConfig(specinv::v1::SpectrogramConfig* config) {
  config->set_preset("hifigan");
  config->set_sample_rate_hertz(16000);
  config->set_n_fft(512);
  config->set_hop_length(128);
  config->set_win_length(512);
  config->set_n_mels(40);
  config->set_fmax_hertz(8000);
}

std::unique_ptr<Message> Seed(int type) {
  switch (type) {
    case 0: {
      auto r = std::make_unique<specinv::v1::AnalyzeRequest>();
      SetAudio(r->mutable_audio());
      SetSmallConfig(r->mutable_config());
      r->set_kind(specinv::v1::SPECTROGRAM_KIND_LOG_MEL);
      return r;
    }
    case 1: {
      auto r = std::make_unique<specinv::v1::InvertMelRequest>();
      SetSmallConfig(r->mutable_config());
      SetTensor(r->mutable_mel(), 40, 20, -4.0f);
      r->mutable_options()->set_iterations(4);
      return r;
    }
    case 2: {
      auto r = std::make_unique<specinv::v1::InvertSpectrogramRequest>();
      SetSmallConfig(r->mutable_config());
      SetTensor(r->mutable_magnitude(), 257, 20, 0.1f);
      r->mutable_options()->set_iterations(4);
      return r;
    }
    case 3: {
      auto r = std::make_unique<specinv::v1::InvertMelBatchRequest>();
      for (int i = 0; i < 2; ++i) {
        auto* item = r->add_requests();
        SetSmallConfig(item->mutable_config());
        SetTensor(item->mutable_mel(), 40, 10, -3.0f);
        item->mutable_options()->set_iterations(2);
      }
      return r;
    }
    case 4: {
      auto r = std::make_unique<specinv::v1::ReorderRequest>();
      SetAudio(r->mutable_audio());
      SetSmallConfig(r->mutable_config());
      r->set_strategy(specinv::v1::REORDER_STRATEGY_NEAREST_NEIGHBOR_WALK);
      return r;
    }
    case 5: {
      auto r = std::make_unique<specinv::v1::TransformRequest>();
      SetAudio(r->mutable_audio());
      SetSmallConfig(r->mutable_config());
      auto* mute = r->add_band_mutes();
      mute->set_low_hertz(1000);
      mute->set_high_hertz(2000);
      r->mutable_inversion()->set_iterations(4);
      return r;
    }
    default: {
      auto r = std::make_unique<specinv::v1::RenderRequest>();
      SetAudio(r->mutable_audio());
      SetSmallConfig(r->mutable_config());
      r->set_view(specinv::v1::RENDER_VIEW_MEL);
      r->set_width_pixels(64);
      r->set_height_pixels(32);
      return r;
    }
  }
}

std::unique_ptr<Message> Empty(int type) {
  switch (type) {
    case 0: return std::make_unique<specinv::v1::AnalyzeRequest>();
    case 1: return std::make_unique<specinv::v1::InvertMelRequest>();
    case 2: return std::make_unique<specinv::v1::InvertSpectrogramRequest>();
    case 3: return std::make_unique<specinv::v1::InvertMelBatchRequest>();
    case 4: return std::make_unique<specinv::v1::ReorderRequest>();
    case 5: return std::make_unique<specinv::v1::TransformRequest>();
    default: return std::make_unique<specinv::v1::RenderRequest>();
  }
}

// The request an input stands for, or null when its bytes do not parse.
std::unique_ptr<Message> Decode(const uint8_t* data, size_t size, int* type) {
  if (size < 1) return nullptr;
  *type = data[0] % kTypes;
  if (size == 1) return Seed(*type);
  std::unique_ptr<Message> m = Empty(*type);
  if (!m->ParseFromArray(data + 1, static_cast<int>(size - 1))) return nullptr;
  return m;
}

// ---- the service path ----

template <typename Request, typename Response>
void Serve(const Message& message,
           absl::StatusOr<specinv::server::Prepared> (*prepare)(const specinv::server::RpcEnv&, const Request&,
                                                                 Response*)) {
  const auto& request = static_cast<const Request&>(message);
  Response response;
  Env& env = TheEnv();
  absl::StatusOr<specinv::server::Prepared> prepared = prepare(env.rpc, request, &response);
  absl::Status status = prepared.status();
  if (prepared.ok()) status = specinv::server::Admit(prepared->admission, env.limits);
  if (status.ok()) {
    for (int runner = 0; runner < prepared->runners && status.ok(); ++runner) {
      specinv::server::Job job(absl::Now() + absl::Seconds(2), 1);
      status = prepared->run(job);
    }
  }
  (void)specinv::server::ToGrpcStatus(status);
}

void Run(int type, const Message& m) {
  using namespace specinv::server;  // NOLINT: the Prepare functions
  switch (type) {
    case 0: Serve(m, &PrepareAnalyze); break;
    case 1: Serve(m, &PrepareInvertMel); break;
    case 2: Serve(m, &PrepareInvertSpectrogram); break;
    case 3: Serve(m, &PrepareInvertMelBatch); break;
    case 4: Serve(m, &PrepareReorder); break;
    case 5: Serve(m, &PrepareTransform); break;
    default: Serve(m, &PrepareRender); break;
  }
}

// ---- structured mutation (libFuzzer build only) ----

template <typename T>
T Pick(std::mt19937& rng, std::initializer_list<T> values) {
  std::uniform_int_distribution<size_t> d(0, values.size() - 1);
  return *(values.begin() + d(rng));
}

void MutateField(Message* m, const FieldDescriptor* f, std::mt19937& rng) {
  const Reflection* r = m->GetReflection();
  const double kInf = std::numeric_limits<double>::infinity();
  const double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (f->is_repeated()) {
    const int n = r->FieldSize(*m, f);
    switch (rng() % 3) {
      case 0: r->ClearField(m, f); return;
      case 1:
        if (n > 0) r->RemoveLast(m, f);
        return;
      default: break;
    }
    const int copies = Pick<int>(rng, {1, 2, 17, 1000});
    for (int i = 0; i < copies; ++i) {
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32: r->AddInt32(m, f, Pick<int32_t>(rng, {0, -1, 7, 1 << 30})); break;
        case FieldDescriptor::CPPTYPE_INT64: r->AddInt64(m, f, Pick<int64_t>(rng, {0, -1, 3, int64_t{1} << 40})); break;
        case FieldDescriptor::CPPTYPE_FLOAT: r->AddFloat(m, f, Pick<float>(rng, {0.f, -1.f, 1e30f})); break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (n > 0) {
            r->AddMessage(m, f)->CopyFrom(r->GetRepeatedMessage(*m, f, 0));
          } else {
            r->AddMessage(m, f);
          }
          break;
        default: return;
      }
    }
    return;
  }
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      r->SetInt32(m, f, Pick<int32_t>(rng, {0, -1, 1, 2, 3, 16, 4097, 65536, 1 << 30, -(1 << 30)}));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      r->SetInt64(m, f, Pick<int64_t>(rng, {0, -1, 1, 230000000, int64_t{1} << 40}));
      break;
    case FieldDescriptor::CPPTYPE_UINT64: r->SetUInt64(m, f, rng()); break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      r->SetDouble(m, f, Pick<double>(rng, {0.0, -1.0, 0.5, 1.0, 1e-300, 1e300, 384000.0, kInf, kNaN}));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT: r->SetFloat(m, f, Pick<float>(rng, {0.f, -1.f, 1e30f})); break;
    case FieldDescriptor::CPPTYPE_BOOL: r->SetBool(m, f, !r->GetBool(*m, f)); break;
    case FieldDescriptor::CPPTYPE_ENUM: r->SetEnumValue(m, f, Pick<int>(rng, {0, 1, 2, 3, 5, 8, 99, -1})); break;
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v = r->GetString(*m, f);
      switch (rng() % 4) {
        case 0: v.clear(); break;
        case 1: v.resize(v.size() / 2); break;
        case 2: v.append(std::string(200, 'x')); break;
        default:
          if (!v.empty()) v[rng() % v.size()] = static_cast<char>(rng());
          break;
      }
      r->SetString(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* sub = r->MutableMessage(m, f);
      const auto* d = sub->GetDescriptor();
      if (d->field_count() > 0 && rng() % 4 != 0) {
        MutateField(sub, d->field(static_cast<int>(rng() % static_cast<unsigned>(d->field_count()))), rng);
      } else {
        r->ClearField(m, f);
      }
      break;
    }
    default: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 20)) return 0;
  int type = 0;
  std::unique_ptr<Message> m = Decode(data, size, &type);
  if (m == nullptr) return 0;
  Run(type, *m);
  return 0;
}

#ifdef SPECINV_LIBFUZZER
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  std::mt19937 rng(seed);
  int type = size > 0 ? data[0] % kTypes : static_cast<int>(seed % kTypes);
  std::unique_ptr<Message> m = Decode(data, size, &type);
  if (m == nullptr || rng() % 16 == 0) {
    if (rng() % 2 == 0 && size > 1) return LLVMFuzzerMutate(data, size, max_size);  // raw bytes, sometimes
    m = Seed(type);
  }
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < edits; ++i) {
    const auto* d = m->GetDescriptor();
    MutateField(m.get(), d->field(static_cast<int>(rng() % static_cast<unsigned>(d->field_count()))), rng);
  }
  const std::string bytes = m->SerializeAsString();
  if (bytes.size() + 1 > max_size) return LLVMFuzzerMutate(data, size, max_size);
  data[0] = static_cast<uint8_t>(type);
  std::memcpy(data + 1, bytes.data(), bytes.size());
  return bytes.size() + 1;
}
#endif  // SPECINV_LIBFUZZER
