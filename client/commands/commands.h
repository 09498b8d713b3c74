// Copyright specinv authors.
//
// The `specinv` subcommands. Each has an Args struct filled by its Add*Flags
// function (CLI11), a Build* function turning the arguments into the request
// message (unit-tested without a server), and a Run* function doing the
// call(s) and writing the outputs. Register* wires a subcommand into the app:
// when it is selected, CommandContext::action runs it after parsing.
//
// Output conventions: result files go to -o; a short human summary goes to
// stdout (stderr when -o is "-"); progress goes to stderr.

#ifndef SPECINV_CLIENT_COMMANDS_COMMANDS_H_
#define SPECINV_CLIENT_COMMANDS_COMMANDS_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/bench.h"
#include "client/channel.h"
#include "client/flags.h"
#include "specinv/v1/spectrogram_service.grpc.pb.h"

namespace specinv::client {

// State shared by the subcommands of one invocation.
class CommandContext {
 public:
  ConnectionOptions connection;
  bool quiet = false;
  std::function<absl::Status()> action;  // set by the selected subcommand

  // Opens the connection on first use.
  absl::StatusOr<const Connection*> Connect();
  absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> NewStub();

  // Where summaries go: stdout, or stderr when stdout carries data.
  std::FILE* info() const { return stdout_is_data_ ? stderr : stdout; }
  void set_stdout_is_data(bool value) { stdout_is_data_ = value; }
  // printf to info() unless quiet.
  void Print(const char* format, ...) const __attribute__((format(printf, 2, 3)));

 private:
  std::unique_ptr<Connection> connection_;
  bool stdout_is_data_ = false;
};

// Adds --server, --deadline-ms, TLS, token, --lb and retry flags to the
// top-level app. Each has an environment equivalent SPECINV_CLIENT_<FLAG>
// (--tls-cert: SPECINV_CLIENT_TLS_CERT); the client prefix keeps them apart
// from specinv-server's SPECINV_<FLAG> variables, which share flag names
// (--tls-cert, --max-message-mb) with other meanings, so a client run next to
// a configured server (its container's health check) is not configured by it.
void AddConnectionFlags(CLI::App* app, ConnectionOptions* options);

// Builds the whole command-line interface into `app`.
void RegisterCommands(CLI::App* app, CommandContext* context);

// --- info / health -----------------------------------------------------------

struct InfoArgs {
  bool json = false;
};
void RegisterInfo(CLI::App* app, CommandContext* context);

struct HealthArgs {
  std::string service;   // "" = the whole server
  double wait_s = 0.0;   // keep asking until SERVING or this long has passed
};
void RegisterHealth(CLI::App* app, CommandContext* context);
// grpc.health.v1 wire format (hand-encoded: the two messages are tiny).
std::string EncodeHealthCheckRequest(const std::string& service);
// ServingStatus number (0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN).
absl::StatusOr<int> DecodeHealthCheckResponse(const std::string& bytes);
std::string ServingStatusName(int status);
// One Health/Check call; the ServingStatus number.
absl::StatusOr<int> HealthCheck(const Connection& connection, const std::string& service,
                                int64_t deadline_ms);

// --- analyze -----------------------------------------------------------------

struct AnalyzeArgs {
  std::string input;
  std::string output;
  std::string kind = "log-mel";
  std::string layout = "bins-frames";
  ConfigFlags config;
};
void AddAnalyzeFlags(CLI::App* app, AnalyzeArgs* args);
absl::StatusOr<v1::AnalyzeRequest> BuildAnalyzeRequest(const AnalyzeArgs& args);
void RegisterAnalyze(CLI::App* app, CommandContext* context);

// --- invert (mel) ------------------------------------------------------------

struct InvertArgs {
  std::string input;  // .npy mel, or an audio file (analysed first)
  OutputFlags output;
  ConfigFlags config;
  InversionFlags inversion;
  MelInputFlags mel;
  std::string progress = "auto";
  std::string save_mel;  // audio input: also write the analysed mel here
};
void AddInvertFlags(CLI::App* app, InvertArgs* args);
// The request for a mel tensor (everything but the mel itself is from args).
absl::StatusOr<v1::InvertMelRequest> BuildInvertMelRequest(const InvertArgs& args,
                                                           const v1::Tensor& mel);
void RegisterInvert(CLI::App* app, CommandContext* context);

// --- invert-spectrogram ----------------------------------------------------

struct InvertSpectrogramArgs {
  std::string input;  // .npy magnitude, or an audio file (analysed first)
  std::string phase;  // optional .npy phase
  std::string layout = "bins-frames";
  OutputFlags output;
  ConfigFlags config;
  InversionFlags inversion;
  std::string progress = "auto";
};
void AddInvertSpectrogramFlags(CLI::App* app, InvertSpectrogramArgs* args);
absl::StatusOr<v1::InvertSpectrogramRequest> BuildInvertSpectrogramRequest(
    const InvertSpectrogramArgs& args, const v1::Tensor& magnitude);
void RegisterInvertSpectrogram(CLI::App* app, CommandContext* context);

// --- reorder -----------------------------------------------------------------

struct ReorderArgs {
  std::string input;
  OutputFlags output;
  ConfigFlags config;
  std::string strategy;
  bool volume_normalize = false;
  bool frequency_weighting = false;
  std::optional<double> perplexity;
  std::optional<double> learning_rate;
  std::optional<int> tsne_iterations;
  uint64_t tsne_seed = 0;
  std::string tsne_algorithm;
  std::optional<double> theta;
  uint64_t seed = 0;
  std::string sort_key;
  bool descending = false;
  int start_frame = 0;
  std::vector<int> custom_order;
  std::string order_file;      // input: frame indices (text), for strategy custom
  std::string order_out;       // output: the order, one index per line
  std::string embedding_out;   // output: embedding values as .npy
};
void AddReorderFlags(CLI::App* app, ReorderArgs* args);
absl::StatusOr<v1::ReorderRequest> BuildReorderRequest(const ReorderArgs& args);
void RegisterReorder(CLI::App* app, CommandContext* context);

// --- transform -------------------------------------------------------------

struct TransformArgs {
  std::string input;
  OutputFlags output;
  ConfigFlags config;
  InversionFlags inversion;
  std::string phase;
  uint64_t seed = 0;
  bool checkerboard = false;
  std::vector<std::string> band_mutes;  // "LOW:HIGH" in Hz
  std::optional<double> gate_period_s;
  std::optional<double> gate_open_fraction;
  std::optional<int> mel_shift;
  bool mel_reverse_time = false;
  bool mel_flip_frequency = false;
};
void AddTransformFlags(CLI::App* app, TransformArgs* args);
absl::StatusOr<v1::TransformRequest> BuildTransformRequest(const TransformArgs& args);
void RegisterTransform(CLI::App* app, CommandContext* context);

// --- render ------------------------------------------------------------------

struct RenderArgs {
  std::string input;  // audio file, or .npy spectrogram with --spectrogram-kind
  std::string output;
  std::string spectrogram_kind;
  std::string layout = "bins-frames";
  ConfigFlags config;
  std::string view = "magnitude";
  std::string colormap;
  std::optional<double> range_db;
  int width = 0;
  int height = 0;
  std::string interpolation;
  std::optional<double> view_fmin;
  std::optional<double> view_fmax;
  bool color_bar = false;
  bool weight_by_magnitude = false;
  bool bare = false;
};
void AddRenderFlags(CLI::App* app, RenderArgs* args);
absl::StatusOr<v1::RenderRequest> BuildRenderRequest(const RenderArgs& args);
void RegisterRender(CLI::App* app, CommandContext* context);

// --- vocode (streaming) ----------------------------------------------------

struct VocodeArgs {
  std::string input;  // .npy mel
  OutputFlags output;
  ConfigFlags config;
  MelInputFlags mel;
  int chunk_frames = 8;
  double chunk_interval_ms = 0.0;  // pause between chunks (simulates a producer)
  std::string algorithm;
  std::optional<int> online_iterations;
  std::optional<bool> mel_projection;
  std::optional<int> lookahead_frames;
  std::string pcm = "f32";  // f32 or s16 chunks on the wire
};
void AddVocodeFlags(CLI::App* app, VocodeArgs* args);
// The first message of the stream.
absl::StatusOr<v1::StreamVocodeRequest> BuildVocodeConfigMessage(const VocodeArgs& args);
// Chunk boundaries: [first, first + count) pairs covering `frames`.
std::vector<std::pair<int64_t, int64_t>> ChunkFrames(int64_t frames, int chunk_frames);
void RegisterVocode(CLI::App* app, CommandContext* context);

// --- bench -------------------------------------------------------------------

struct BenchArgs {
  std::string rpc = "invert-mel";  // invert-mel, invert-spectrogram, analyze, info, health
  std::string input;               // audio or .npy; default: generated audio
  double seconds = 2.0;            // length of generated audio
  LoadOptions load;
  bool json = false;
  ConfigFlags config;
  InversionFlags inversion;
  // --in-process: no server; the same requests run through the service's
  // code in this process (server/in_process.h) on a pool of `workers`
  // threads with a `queue_depth` queue, to measure the core throughput the
  // service's is compared to.
  bool in_process = false;
  int workers = 0;       // 0 = hardware threads
  int queue_depth = -1;  // -1 = 2 x workers
};
void AddBenchFlags(CLI::App* app, BenchArgs* args);
void RegisterBench(CLI::App* app, CommandContext* context);
// A deterministic test signal: a harmonic tone with a slow vibrato and a
// little noise, `seconds` long at `sample_rate` Hz, peak below 0.9.
std::vector<float> GenerateBenchSignal(double seconds, int sample_rate);

}  // namespace specinv::client

#endif  // SPECINV_CLIENT_COMMANDS_COMMANDS_H_
