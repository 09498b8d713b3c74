// Copyright specinv authors.
//
// libFuzzer target: request validation. The first byte picks a request type,
// the rest is parsed as that message; the service layer's conversions and
// checks (config, audio, tensors, inversion/render/reorder options, status
// mapping) must answer with a status for any message, never crash, hang or
// allocate without bound. DSP itself is not run.

#include <cstddef>
#include <cstdint>
#include <string>

#include "server/conversion.h"
#include "server/limits.h"
#include "server/status_mapping.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace {

using specinv::server::ServiceLimits;

ServiceLimits FuzzLimits() {
  ServiceLimits limits;
  limits.max_message_bytes = 1 << 20;
  limits.max_audio_seconds = 2.0;  // bounds decoding work
  limits.max_iterations = 100;
  limits.max_n_fft = 4096;
  return limits;
}

void Consume(const absl::Status& status) {
  // Exercise the mapping of every error to its gRPC form.
  (void)specinv::server::ToGrpcStatus(status);
}

void Config(const specinv::v1::SpectrogramConfig& config, bool mel) {
  auto c = specinv::server::ToFeatureConfig(config, FuzzLimits(), "config", mel);
  Consume(c.status());
  if (c.ok()) {
    specinv::v1::SpectrogramConfig back;
    specinv::server::FromFeatureConfig(*c, &back);
  }
}

void Analyze(const std::string& bytes) {
  specinv::v1::AnalyzeRequest r;
  if (!r.ParseFromString(bytes)) return;
  Config(r.config(), true);
  Consume(specinv::server::DecodeAudioMessage(r.audio(), 16000.0, FuzzLimits(), "audio").status());
}

void InvertMel(const std::string& bytes) {
  specinv::v1::InvertMelRequest r;
  if (!r.ParseFromString(bytes)) return;
  Config(r.config(), true);
  auto mel = specinv::server::TensorToRealMatrix(r.mel(), "mel");
  Consume(mel.status());
  const int64_t frames = mel.ok() ? mel->cols() : 1;
  Consume(specinv::server::ToInversionOptions(r.options(), true, 513, frames, FuzzLimits(), "options").status());
  Consume(specinv::server::ValidateAudioOutput(r.output(), 22050.0, FuzzLimits(), "output"));
}

void InvertSpectrogram(const std::string& bytes) {
  specinv::v1::InvertSpectrogramRequest r;
  if (!r.ParseFromString(bytes)) return;
  Config(r.config(), false);
  Consume(specinv::server::TensorToRealMatrix(r.magnitude(), "magnitude").status());
  Consume(specinv::server::TensorToRealMatrix(r.phase(), "phase").status());
  Consume(specinv::server::ToInversionOptions(r.options(), false, 513, 4, FuzzLimits(), "options").status());
}

void Render(const std::string& bytes) {
  specinv::v1::RenderRequest r;
  if (!r.ParseFromString(bytes)) return;
  Config(r.config(), true);
  Consume(specinv::server::TensorToComplexMatrix(r.spectrogram(), "spectrogram").status());
  Consume(specinv::server::TensorToRealMatrix(r.spectrogram(), "spectrogram").status());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1 << 20)) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: Analyze(bytes); break;
    case 1: InvertMel(bytes); break;
    case 2: InvertSpectrogram(bytes); break;
    default: Render(bytes); break;
  }
  return 0;
}
