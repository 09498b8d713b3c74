// Copyright specinv authors.
//
// `specinv reorder AUDIO -o OUT.wav --strategy pca`: Reorder, writing the
// resynthesised audio and optionally the frame order and the 1-D embedding.

#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/commands/commands.h"
#include "client/files.h"
#include "client/payloads.h"
#include "client/status_format.h"

namespace specinv::client {
namespace {

// Frame indices separated by whitespace or commas.
absl::StatusOr<std::vector<int>> ReadOrderFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileBytes(path);
  if (!text.ok()) return text.status();
  std::vector<int> order;
  for (absl::string_view token :
       absl::StrSplit(*text, absl::ByAnyChar(" \t\r\n,"), absl::SkipEmpty())) {
    int index = 0;
    if (!absl::SimpleAtoi(token, &index)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": \"", std::string(token), "\" is not a frame index"));
    }
    order.push_back(index);
  }
  return order;
}

absl::Status RunReorder(CommandContext& ctx, const ReorderArgs& args) {
  absl::StatusOr<v1::ReorderRequest> request = BuildReorderRequest(args);
  if (!request.ok()) return request.status();
  absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(args.output);
  if (!plan.ok()) return plan.status();
  absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> stub = ctx.NewStub();
  if (!stub.ok()) return stub.status();
  grpc::ClientContext call;
  (*ctx.Connect())->Prepare(&call);
  v1::ReorderResponse response;
  if (grpc::Status s = (*stub)->Reorder(&call, *request, &response); !s.ok()) {
    return FromGrpcStatus(s);
  }
  if (absl::Status w = WriteAudio(response.audio(), plan->file_kind, args.output.output); !w.ok()) {
    return w;
  }
  if (!args.order_out.empty()) {
    std::string text;
    for (int index : response.order()) absl::StrAppend(&text, index, "\n");
    if (absl::Status w = WriteFileBytes(args.order_out, text); !w.ok()) return w;
  }
  if (!args.embedding_out.empty()) {
    const int64_t shape[1] = {response.embedding_size()};
    const std::string npy = Float32Npy(
        shape, std::span<const float>(response.embedding().data(), response.embedding().size()));
    if (absl::Status w = WriteFileBytes(args.embedding_out, npy); !w.ok()) return w;
  }
  ctx.Print("%s: %d frames reordered, %.3f s -> %s (%.1f ms on a worker)\n",
            EnumName(request->strategy()).c_str(), response.num_frames(),
            response.audio().duration_seconds(), args.output.output.c_str(),
            response.elapsed_milliseconds());
  return absl::OkStatus();
}

}  // namespace

void AddReorderFlags(CLI::App* app, ReorderArgs* args) {
  app->add_option("input", args->input, "audio file")->required();
  AddOutputFlags(app, &args->output);
  app->add_option("--strategy", args->strategy,
                  "pca, tsne, reverse-time, reverse-frequency, shuffle, sort-by, "
                  "nearest-neighbor-walk, custom")
      ->required();
  const std::string f = "Frame features";
  app->add_flag("--volume-normalize", args->volume_normalize,
                "divide each frame's mel by its sum before dB")
      ->group(f);
  app->add_flag("--frequency-weighting", args->frequency_weighting, "low bands count more")
      ->group(f);
  const std::string t = "t-SNE";
  app->add_option("--perplexity", args->perplexity, "(0, frames - 1), default 30")->group(t);
  app->add_option("--learning-rate", args->learning_rate, "> 0, default automatic")->group(t);
  app->add_option("--tsne-iterations", args->tsne_iterations, "[250, 10000], default 1000")
      ->group(t);
  app->add_option("--tsne-seed", args->tsne_seed, "seed of the initial embedding")->group(t);
  app->add_option("--tsne-algorithm", args->tsne_algorithm, "exact, barnes-hut")->group(t);
  app->add_option("--theta", args->theta, "Barnes-Hut accuracy, [0, 1]")->group(t);
  app->add_option("--seed", args->seed, "shuffle seed");
  app->add_option("--sort-key", args->sort_key, "rms, spectral-centroid, spectral-flatness");
  app->add_flag("--descending", args->descending, "sort descending (sort-by, pca, tsne)");
  app->add_option("--start-frame", args->start_frame, "first frame of nearest-neighbor-walk");
  app->add_option("--order", args->custom_order, "frame indices for custom")->delimiter(',');
  app->add_option("--order-file", args->order_file, "file of frame indices for custom");
  app->add_option("--order-out", args->order_out, "write the order, one index per line");
  app->add_option("--embedding-out", args->embedding_out, "write the 1-D embedding (.npy)");
  AddConfigFlags(app, &args->config);
}

absl::StatusOr<v1::ReorderRequest> BuildReorderRequest(const ReorderArgs& args) {
  v1::ReorderRequest request;
  absl::StatusOr<v1::ReorderStrategy> strategy =
      ParseEnum<v1::ReorderStrategy>("--strategy", args.strategy);
  if (!strategy.ok()) return strategy.status();
  request.set_strategy(*strategy);
  absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
  if (!config.ok()) return config.status();
  *request.mutable_config() = *std::move(config);
  request.mutable_features()->set_volume_normalize(args.volume_normalize);
  request.mutable_features()->set_frequency_weighting(args.frequency_weighting);
  v1::TsneOptions* tsne = request.mutable_tsne();
  if (args.perplexity) tsne->set_perplexity(*args.perplexity);
  if (args.learning_rate) tsne->set_learning_rate(*args.learning_rate);
  if (args.tsne_iterations) tsne->set_iterations(*args.tsne_iterations);
  tsne->set_seed(args.tsne_seed);
  if (!args.tsne_algorithm.empty()) {
    absl::StatusOr<v1::TsneAlgorithm> algorithm =
        ParseEnum<v1::TsneAlgorithm>("--tsne-algorithm", args.tsne_algorithm);
    if (!algorithm.ok()) return algorithm.status();
    tsne->set_algorithm(*algorithm);
  }
  if (args.theta) tsne->set_theta(*args.theta);
  request.set_seed(args.seed);
  if (!args.sort_key.empty()) {
    absl::StatusOr<v1::SortKey> key = ParseEnum<v1::SortKey>("--sort-key", args.sort_key);
    if (!key.ok()) return key.status();
    request.set_sort_key(*key);
  } else if (*strategy == v1::REORDER_STRATEGY_SORT_BY) {
    return absl::InvalidArgumentError(
        "--strategy sort-by needs --sort-key (rms, spectral-centroid, spectral-flatness)");
  }
  request.set_descending(args.descending);
  request.set_start_frame(args.start_frame);
  std::vector<int> order = args.custom_order;
  if (!args.order_file.empty()) {
    absl::StatusOr<std::vector<int>> from_file = ReadOrderFile(args.order_file);
    if (!from_file.ok()) return from_file.status();
    order.insert(order.end(), from_file->begin(), from_file->end());
  }
  if (*strategy == v1::REORDER_STRATEGY_CUSTOM && order.empty()) {
    return absl::InvalidArgumentError("--strategy custom needs --order or --order-file");
  }
  request.mutable_custom_order()->Assign(order.begin(), order.end());
  absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(args.output);
  if (!plan.ok()) return plan.status();
  *request.mutable_output() = plan->options;
  absl::StatusOr<v1::Audio> audio = AudioFromFile(args.input);
  if (!audio.ok()) return audio.status();
  *request.mutable_audio() = *std::move(audio);
  return request;
}

void RegisterReorder(CLI::App* app, CommandContext* context) {
  auto args = std::make_shared<ReorderArgs>();
  CLI::App* sub = app->add_subcommand(
      "reorder", "rearrange STFT frames (PCA, t-SNE, walks, ...) and resynthesise");
  AddReorderFlags(sub, args.get());
  sub->callback([context, args] {
    context->set_stdout_is_data(args->output.output == "-");
    context->action = [context, args] { return RunReorder(*context, *args); };
  });
}

}  // namespace specinv::client
