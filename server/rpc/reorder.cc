// Copyright specinv authors.
//
// Reorder: rearranges a signal's STFT frames (PCA, t-SNE, sort, walk,
// shuffle, reversal or a custom order) and resynthesises them.

#include "absl/strings/str_format.h"
#include "server/conversion.h"
#include "server/field_paths.h"
#include "server/rpc/common.h"
#include "server/rpc/invert_mel.h"
#include "server/rpc/rpc.h"
#include "server/status_mapping.h"
#include "specinv/analysis/analysis_cost.h"
#include "specinv/analysis/features.h"
#include "specinv/creative/creative_cost.h"
#include "specinv/creative/reorder.h"

namespace specinv::server {
namespace {

absl::Status ToReorderOptions(const v1::ReorderRequest& request, ReorderOptions* options) {
  switch (request.strategy()) {
    case v1::REORDER_STRATEGY_PCA: options->strategy = ReorderStrategy::kPca; break;
    case v1::REORDER_STRATEGY_TSNE: options->strategy = ReorderStrategy::kTsne; break;
    case v1::REORDER_STRATEGY_REVERSE_TIME: options->strategy = ReorderStrategy::kReverseTime; break;
    case v1::REORDER_STRATEGY_REVERSE_FREQUENCY: options->strategy = ReorderStrategy::kReverseFrequency; break;
    case v1::REORDER_STRATEGY_SHUFFLE: options->strategy = ReorderStrategy::kShuffle; break;
    case v1::REORDER_STRATEGY_SORT_BY: options->strategy = ReorderStrategy::kSortBy; break;
    case v1::REORDER_STRATEGY_NEAREST_NEIGHBOR_WALK: options->strategy = ReorderStrategy::kNearestNeighborWalk; break;
    case v1::REORDER_STRATEGY_CUSTOM: options->strategy = ReorderStrategy::kCustom; break;
    default:
      return InvalidField("strategy", absl::StrFormat("is required: one of REORDER_STRATEGY_PCA, _TSNE, _REVERSE_TIME, "
                                                      "_REVERSE_FREQUENCY, _SHUFFLE, _SORT_BY, "
                                                      "_NEAREST_NEIGHBOR_WALK, _CUSTOM; got %d",
                                                      static_cast<int>(request.strategy())));
  }
  options->features.volume_normalize = request.features().volume_normalize();
  options->features.frequency_weighting = request.features().frequency_weighting();
  const v1::TsneOptions& tsne = request.tsne();
  if (tsne.has_perplexity()) options->tsne.perplexity = tsne.perplexity();
  if (tsne.has_learning_rate()) options->tsne.learning_rate = tsne.learning_rate();
  if (tsne.has_iterations()) options->tsne.iterations = tsne.iterations();
  if (tsne.has_theta()) options->tsne.theta = tsne.theta();
  options->tsne.seed = tsne.seed();
  switch (tsne.algorithm()) {
    case v1::TSNE_ALGORITHM_UNSPECIFIED: options->tsne.algorithm = TsneAlgorithm::kAuto; break;
    case v1::TSNE_ALGORITHM_EXACT: options->tsne.algorithm = TsneAlgorithm::kExact; break;
    case v1::TSNE_ALGORITHM_BARNES_HUT: options->tsne.algorithm = TsneAlgorithm::kBarnesHut; break;
    default:
      return InvalidField("tsne.algorithm", absl::StrFormat("has unknown value %d", static_cast<int>(tsne.algorithm())));
  }
  options->seed = request.seed();
  switch (request.sort_key()) {
    case v1::SORT_KEY_UNSPECIFIED:
      if (options->strategy == ReorderStrategy::kSortBy) {
        return InvalidField("sort_key", "is required with REORDER_STRATEGY_SORT_BY: SORT_KEY_RMS, "
                                        "SORT_KEY_SPECTRAL_CENTROID or SORT_KEY_SPECTRAL_FLATNESS");
      }
      break;
    case v1::SORT_KEY_RMS: options->sort_key = SortKey::kRms; break;
    case v1::SORT_KEY_SPECTRAL_CENTROID: options->sort_key = SortKey::kSpectralCentroid; break;
    case v1::SORT_KEY_SPECTRAL_FLATNESS: options->sort_key = SortKey::kSpectralFlatness; break;
    default: return InvalidField("sort_key", absl::StrFormat("has unknown value %d", static_cast<int>(request.sort_key())));
  }
  options->descending = request.descending();
  options->start_frame = request.start_frame();
  options->custom_order.assign(request.custom_order().begin(), request.custom_order().end());
  if (request.output().has_length_samples()) options->length = request.output().length_samples();
  return absl::OkStatus();
}

struct Plan {
  FeatureConfig config;
  ReorderOptions options;
  AudioInput input;
};

absl::Status Run(const RpcEnv& env, Job& job, Plan& plan, const v1::ReorderRequest& request,
                 v1::ReorderResponse* response) {
  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> cached = env.extractors->Get(plan.config);
  if (!cached.ok()) return ToRequestField(cached.status(), CoreFields::kFeatureConfig, "config");
  absl::StatusOr<specinv::Audio> audio = DecodeAudioInput(plan.input, *env.limits, job.Checker());
  if (!audio.ok()) return audio.status();
  job.audio_seconds = static_cast<double>(audio->samples.size()) / plan.config.sample_rate;
  plan.options.check = job.Checker();
  plan.options.max_threads = job.max_threads;
  absl::StatusOr<ReorderResult> result = specinv::Reorder(**cached, audio->samples, plan.options);
  if (!result.ok()) return ToRequestField(result.status(), CoreFields::kReorder, "");
  if (absl::Status s = EncodeAudioMessage(result->audio, plan.config.sample_rate, request.output(),
                                          response->mutable_audio(), job.Checker());
      !s.ok()) {
    return s;
  }
  response->mutable_order()->Assign(result->order.begin(), result->order.end());
  response->mutable_embedding()->Assign(result->embedding.begin(), result->embedding.end());
  response->set_num_frames(result->num_frames);
  FromFeatureConfig(plan.config, response->mutable_effective_config());
  response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Prepared> PrepareReorder(const RpcEnv& env, const v1::ReorderRequest& request,
                                        v1::ReorderResponse* response) {
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), *env.limits, "config");
  if (!config.ok()) return config.status();
  ReorderOptions options;
  if (absl::Status s = ToReorderOptions(request, &options); !s.ok()) return s;
  if (absl::Status s = ValidateAudioOutput(request.output(), config->sample_rate, "output"); !s.ok()) return s;
  absl::StatusOr<AudioInput> input = ToAudioInput(request.audio(), config->sample_rate, *env.limits, "audio");
  if (!input.ok()) return input.status();

  const int64_t samples = input->samples();
  const int64_t out_samples = ReorderOutputSamples(*config, samples, options);
  const int64_t frames = FeatureFrames(*config, samples);
  Prepared prepared;
  Admission& a = prepared.admission;
  a.input_seconds = input->source_seconds();
  a.input_field = input->field;
  a.output_seconds = static_cast<double>(out_samples) / config->sample_rate;
  a.output_field = request.output().has_length_samples()        ? "output.length_samples"
                   : options.strategy == ReorderStrategy::kCustom ? "custom_order"
                                                                  : input->field;
  // Resampled to output.sample_rate_hertz (or the codec's rate) before encoding.
  const EncodedShape out = OutputAudioShape(request.output(), config->sample_rate, out_samples);
  a.response_bytes = SaturatingAdd(EncodedAudioBytes(out.samples, request.output().encoding()),
                                   SaturatingMul(frames, 12));  // order + embedding
  a.cost = DecodeCost(input->shape).Then(ReorderCost(*config, samples, options), 0);
  a.cost.peak_bytes = SaturatingAdd(a.cost.peak_bytes, a.response_bytes);
  if (out.sample_rate != config->sample_rate) {
    a.cost.peak_bytes = SaturatingAdd(a.cost.peak_bytes, SaturatingMul(out.samples, 4));  // resampled copy
  }
  a.cost_field = options.strategy == ReorderStrategy::kCustom ? "custom_order"
                 : config->stft.hop_length * 4 < config->stft.n_fft ? "config.hop_length"
                                                                     : input->field;
  a.cost_detail = absl::StrFormat("%d samples -> %d frames x %d bins at config.n_fft=%d, config.hop_length=%d; %d "
                                  "frames out",
                                  samples, frames, config->stft.n_fft / 2 + 1, config->stft.n_fft,
                                  config->stft.hop_length,
                                  options.strategy == ReorderStrategy::kCustom
                                      ? static_cast<int64_t>(options.custom_order.size())
                                      : frames);
  prepared.run = [&env, plan = Plan{*std::move(config), std::move(options), *std::move(input)}, &request,
                  response](Job& job) mutable { return Run(env, job, plan, request, response); };
  return prepared;
}

}  // namespace specinv::server
