// Copyright specinv authors.

#include "server/rpc/server_info.h"

#include "server/conversion.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/inversion/inversion.h"

namespace specinv::server {
namespace {

std::string PresetDescription(absl::string_view name) {
  if (name == "librosa") return "librosa 0.10.1 defaults: 22050 Hz, n_fft 2048, hop 512, 128 Slaney mels, power 2";
  if (name == "hifigan") {
    return "HiFi-GAN: 22050 Hz, n_fft 1024, hop 256, 80 mels 0-8000 Hz, reflect (n_fft-hop)/2 framing, "
           "ln(max(|X| mel, 1e-5))";
  }
  if (name == "tacotron2") return "Tacotron 2: 22050 Hz, n_fft 1024, hop 256, 80 mels 0-8000 Hz, ln(max(|X| mel, 1e-5))";
  if (name == "espnet") return "ESPnet: 16000 Hz, n_fft 1024, hop 256, 80 mels 80-7600 Hz, log10(max(|X| mel, 1e-10))";
  if (name == "whisper") return "Whisper: 16000 Hz, n_fft 400, hop 160, 80 mels, normalised log10 of power";
  if (name == "whisper-128") return "Whisper large-v3: as whisper with 128 mels";
  return "";
}

}  // namespace

void FillServerInfo(const ServerFacts& facts, v1::GetServerInfoResponse* response) {
  response->set_version(SPECINV_VERSION);
  for (const std::string& name : PresetNames()) {
    absl::StatusOr<FeatureConfig> preset = GetPreset(name);
    if (!preset.ok()) continue;
    v1::Preset* p = response->add_presets();
    p->set_name(name);
    p->set_description(PresetDescription(name));
    FromFeatureConfig(*preset, p->mutable_config());
  }
  for (InversionMethod m : {InversionMethod::kGriffinLim, InversionMethod::kFastGriffinLim, InversionMethod::kPghi,
                            InversionMethod::kPghiFgla, InversionMethod::kRefine, InversionMethod::kJoint}) {
    response->add_methods(ToProtoMethod(m));
  }
  const ServiceLimits& limits = *facts.limits;
  v1::ServerLimits* l = response->mutable_limits();
  l->set_max_message_bytes(limits.max_message_bytes);
  l->set_max_audio_duration_seconds(limits.max_audio_seconds);
  l->set_max_iterations(limits.max_iterations);
  l->set_max_n_fft(limits.max_n_fft);
  l->set_max_batch_size(limits.max_batch_size);
  l->set_max_image_side_pixels(limits.max_image_side_pixels);
  l->set_max_job_memory_bytes(limits.max_job_memory_bytes);
  l->set_max_streams(limits.max_streams);
  l->set_stream_idle_timeout_seconds(limits.stream_idle_timeout_seconds);
  response->set_worker_count(facts.pool->workers());
  response->set_queue_capacity(facts.pool->queue_capacity());
  for (const std::string& rpc : facts.implemented_rpcs) response->add_implemented_rpcs(rpc);
  response->set_uptime_seconds(absl::ToDoubleSeconds(absl::Now() - facts.start_time));
  response->set_tls_enabled(facts.tls_enabled);
  response->set_auth_required(facts.auth_required);
  response->set_busy_workers(facts.pool->busy());
  response->set_queued_jobs(facts.pool->queued());
}

}  // namespace specinv::server
