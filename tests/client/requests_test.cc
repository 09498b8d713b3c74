// Copyright specinv authors.
//
// Command line -> request message, for every subcommand, without a server.

#include <unistd.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "client/commands/commands.h"
#include "client/files.h"
#include "client/payloads.h"
#include "specinv/io/audio_io.h"
#include "specinv/io/npy.h"

namespace specinv::client {
namespace {

class RequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("specinv_requests_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    std::vector<float> samples(2205);
    for (size_t i = 0; i < samples.size(); ++i) {
      samples[i] = 0.5f * std::sin(2.0f * 3.14159265f * 440.0f * static_cast<float>(i) / 22050.0f);
    }
    absl::StatusOr<std::string> wav = EncodeAudio(samples, 22050.0, AudioEncoding::kWavPcm16);
    ASSERT_TRUE(wav.ok()) << wav.status();
    wav_bytes_ = *wav;
    ASSERT_TRUE(WriteFileBytes(Path("in.wav"), wav_bytes_).ok());
    RealMatrix mel(80, 12);
    for (int b = 0; b < 80; ++b) {
      for (int t = 0; t < 12; ++t) mel(b, t) = static_cast<float>(b * 100 + t);
    }
    mel_ = mel;
    ASSERT_TRUE(WriteFileBytes(Path("mel.npy"), RealMatrixToNpy(mel, MatrixLayout::kBinsFrames)).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
  std::string wav_bytes_;
  RealMatrix mel_;
};

TEST_F(RequestsTest, AnalyzeRequestFromArguments) {
  CLI::App app;
  AnalyzeArgs args;
  AddAnalyzeFlags(&app, &args);
  app.parse(Path("in.wav") + " -o out.npy --kind complex-stft --layout frames-bins --preset "
                             "tacotron2 --hop-length 200",
            false);
  absl::StatusOr<v1::AnalyzeRequest> r = BuildAnalyzeRequest(args);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->audio().encoded_data(), wav_bytes_);
  EXPECT_EQ(r->kind(), v1::SPECTROGRAM_KIND_COMPLEX_STFT);
  EXPECT_EQ(r->layout(), v1::TENSOR_LAYOUT_FRAMES_BINS);
  EXPECT_EQ(r->tensor_format(), v1::TENSOR_FORMAT_FLOAT32);
  EXPECT_EQ(r->config().preset(), "tacotron2");
  EXPECT_EQ(r->config().hop_length(), 200);
  EXPECT_FALSE(r->config().has_n_fft());
}

TEST_F(RequestsTest, AnalyzeDefaultsToLogMel) {
  CLI::App app;
  AnalyzeArgs args;
  AddAnalyzeFlags(&app, &args);
  app.parse(Path("in.wav") + " -o out.npy", false);
  absl::StatusOr<v1::AnalyzeRequest> r = BuildAnalyzeRequest(args);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind(), v1::SPECTROGRAM_KIND_LOG_MEL);
  EXPECT_EQ(r->layout(), v1::TENSOR_LAYOUT_BINS_FRAMES);
}

TEST_F(RequestsTest, AnalyzeMissingInputIsNotFound) {
  AnalyzeArgs args;
  args.input = Path("missing.wav");
  args.output = "out.npy";
  absl::StatusOr<v1::AnalyzeRequest> r = BuildAnalyzeRequest(args);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("missing.wav"), absl::string_view::npos);
}

TEST_F(RequestsTest, AnalyzeUnknownKind) {
  AnalyzeArgs args;
  args.input = Path("in.wav");
  args.kind = "cqt";
  absl::StatusOr<v1::AnalyzeRequest> r = BuildAnalyzeRequest(args);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--kind must be one of"), absl::string_view::npos);
}

TEST_F(RequestsTest, InvertMelRequestFromArguments) {
  const std::vector<float> mean(80, 0.5f);
  const std::vector<float> stddev(80, 2.0f);
  ASSERT_TRUE(WriteFileBytes(Path("mean.npy"), RealVectorToNpy(mean)).ok());
  ASSERT_TRUE(WriteFileBytes(Path("std.npy"), RealVectorToNpy(stddev)).ok());
  CLI::App app;
  InvertArgs args;
  AddInvertFlags(&app, &args);
  app.parse(Path("mel.npy") + " -o out.flac --preset hifigan --method pghi-fgla --iterations 16 "
                              "--domain linear --mel-mean " +
                Path("mean.npy") + " --mel-std " + Path("std.npy") + " --length-samples 3000",
            false);
  absl::StatusOr<v1::Tensor> mel = TensorFromNpyFile(args.input, v1::TENSOR_LAYOUT_BINS_FRAMES);
  ASSERT_TRUE(mel.ok()) << mel.status();
  absl::StatusOr<v1::InvertMelRequest> r = BuildInvertMelRequest(args, *mel);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->mel().shape_size(), 2);
  EXPECT_EQ(r->mel().shape(0), 80);
  EXPECT_EQ(r->mel().shape(1), 12);
  EXPECT_TRUE(r->mel().has_npy_data());
  EXPECT_EQ(r->config().preset(), "hifigan");
  EXPECT_EQ(r->input_domain(), v1::MEL_DOMAIN_LINEAR);
  ASSERT_EQ(r->normalization().mean_size(), 80);
  EXPECT_FLOAT_EQ(r->normalization().mean(3), 0.5f);
  EXPECT_FLOAT_EQ(r->normalization().std(79), 2.0f);
  EXPECT_EQ(r->options().method(), v1::INVERSION_METHOD_PGHI_FGLA);
  EXPECT_EQ(r->options().iterations(), 16);
  EXPECT_EQ(r->output().encoding(), v1::AUDIO_ENCODING_FLAC);
  EXPECT_EQ(r->output().length_samples(), 3000);
}

TEST_F(RequestsTest, MelFileMustBeTwoDimensional) {
  ASSERT_TRUE(WriteFileBytes(Path("vector.npy"), RealVectorToNpy(std::vector<float>(10, 1.0f))).ok());
  absl::StatusOr<v1::Tensor> t = TensorFromNpyFile(Path("vector.npy"), v1::TENSOR_LAYOUT_BINS_FRAMES);
  ASSERT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("expected a 2-D real array, got 1-D shape (10)"),
            absl::string_view::npos);
  ASSERT_TRUE(WriteFileBytes(Path("garbage.npy"), "not an npy file").ok());
  t = TensorFromNpyFile(Path("garbage.npy"), v1::TENSOR_LAYOUT_BINS_FRAMES);
  ASSERT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("garbage.npy: "), absl::string_view::npos);
}

TEST_F(RequestsTest, InvertSpectrogramWithPhase) {
  ASSERT_TRUE(WriteFileBytes(Path("phase.npy"), RealMatrixToNpy(mel_, MatrixLayout::kFramesBins)).ok());
  CLI::App app;
  InvertSpectrogramArgs args;
  AddInvertSpectrogramFlags(&app, &args);
  app.parse(Path("mel.npy") + " -o out.wav --phase " + Path("phase.npy") +
                " --layout frames-bins --iterations 0 --n-fft 158",
            false);
  absl::StatusOr<v1::Tensor> magnitude = TensorFromNpyFile(args.input, v1::TENSOR_LAYOUT_FRAMES_BINS);
  ASSERT_TRUE(magnitude.ok());
  absl::StatusOr<v1::InvertSpectrogramRequest> r = BuildInvertSpectrogramRequest(args, *magnitude);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->phase().layout(), v1::TENSOR_LAYOUT_FRAMES_BINS);
  EXPECT_EQ(r->phase().shape(0), 12);
  EXPECT_EQ(r->phase().shape(1), 80);
  EXPECT_EQ(r->options().iterations(), 0);
  EXPECT_EQ(r->config().n_fft(), 158);
  EXPECT_EQ(r->output().encoding(), v1::AUDIO_ENCODING_WAV_PCM16);
}

TEST_F(RequestsTest, ReorderRequestFromArguments) {
  CLI::App app;
  ReorderArgs args;
  AddReorderFlags(&app, &args);
  app.parse(Path("in.wav") + " -o out.wav --strategy tsne --perplexity 12 --tsne-iterations 500 "
                             "--tsne-seed 3 --tsne-algorithm barnes-hut --theta 0.3 "
                             "--volume-normalize --frequency-weighting --descending "
                             "--hop-length 400 --win-length 2000 --n-fft 2048",
            false);
  absl::StatusOr<v1::ReorderRequest> r = BuildReorderRequest(args);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->strategy(), v1::REORDER_STRATEGY_TSNE);
  EXPECT_DOUBLE_EQ(r->tsne().perplexity(), 12.0);
  EXPECT_EQ(r->tsne().iterations(), 500);
  EXPECT_EQ(r->tsne().seed(), 3u);
  EXPECT_EQ(r->tsne().algorithm(), v1::TSNE_ALGORITHM_BARNES_HUT);
  EXPECT_DOUBLE_EQ(r->tsne().theta(), 0.3);
  EXPECT_FALSE(r->tsne().has_learning_rate());
  EXPECT_TRUE(r->features().volume_normalize());
  EXPECT_TRUE(r->features().frequency_weighting());
  EXPECT_TRUE(r->descending());
  EXPECT_EQ(r->config().hop_length(), 400);
  EXPECT_EQ(r->config().win_length(), 2000);
  EXPECT_EQ(r->audio().encoded_data(), wav_bytes_);
}

TEST_F(RequestsTest, ReorderCustomOrder) {
  ASSERT_TRUE(WriteFileBytes(Path("order.txt"), "3\n1, 2\n0\n").ok());
  CLI::App app;
  ReorderArgs args;
  AddReorderFlags(&app, &args);
  app.parse(Path("in.wav") + " -o out.wav --strategy custom --order 5,4 --order-file " +
                Path("order.txt"),
            false);
  absl::StatusOr<v1::ReorderRequest> r = BuildReorderRequest(args);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::vector<int>(r->custom_order().begin(), r->custom_order().end()),
            std::vector<int>({5, 4, 3, 1, 2, 0}));
}

TEST_F(RequestsTest, ReorderInvalidArguments) {
  ReorderArgs args;
  args.input = Path("in.wav");
  args.output.output = "out.wav";
  args.strategy = "sort-by";
  absl::StatusOr<v1::ReorderRequest> r = BuildReorderRequest(args);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--sort-key"), absl::string_view::npos);
  args.strategy = "custom";
  EXPECT_EQ(BuildReorderRequest(args).status().code(), absl::StatusCode::kInvalidArgument);
  args.strategy = "zigzag";
  EXPECT_EQ(BuildReorderRequest(args).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(WriteFileBytes(Path("bad_order.txt"), "1 two 3").ok());
  args.strategy = "custom";
  args.order_file = Path("bad_order.txt");
  r = BuildReorderRequest(args);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("\"two\" is not a frame index"), absl::string_view::npos);
}

TEST_F(RequestsTest, TransformRequestFromArguments) {
  CLI::App app;
  TransformArgs args;
  AddTransformFlags(&app, &args);
  app.parse(Path("in.wav") + " -o out.wav --phase random --phase-seed 9 --checkerboard "
                             "--band-mute 100:200 --band-mute 1000.5:2000 --gate-period-s 0.5 "
                             "--gate-open-fraction 0.25 --mel-shift -3 --mel-flip-frequency "
                             "--method gl --iterations 10",
            false);
  absl::StatusOr<v1::TransformRequest> r = BuildTransformRequest(args);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->phase(), v1::PHASE_OPERATION_RANDOM);
  EXPECT_EQ(r->seed(), 9u);
  EXPECT_TRUE(r->checkerboard());
  ASSERT_EQ(r->band_mutes_size(), 2);
  EXPECT_DOUBLE_EQ(r->band_mutes(1).low_hertz(), 1000.5);
  EXPECT_DOUBLE_EQ(r->band_mutes(1).high_hertz(), 2000.0);
  EXPECT_DOUBLE_EQ(r->time_gate().period_seconds(), 0.5);
  EXPECT_DOUBLE_EQ(r->time_gate().open_fraction(), 0.25);
  ASSERT_TRUE(r->has_mel_warp());
  EXPECT_EQ(r->mel_warp().shift_bins(), -3);
  EXPECT_TRUE(r->mel_warp().flip_frequency());
  EXPECT_FALSE(r->mel_warp().reverse_time());
  EXPECT_EQ(r->inversion().method(), v1::INVERSION_METHOD_GL);
  EXPECT_EQ(r->inversion().iterations(), 10);
}

TEST_F(RequestsTest, TransformWithoutWarpOrGate) {
  TransformArgs args;
  args.input = Path("in.wav");
  args.output.output = "out.wav";
  absl::StatusOr<v1::TransformRequest> r = BuildTransformRequest(args);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->has_mel_warp());
  EXPECT_FALSE(r->has_time_gate());
  EXPECT_EQ(r->phase(), v1::PHASE_OPERATION_UNSPECIFIED);
}

TEST_F(RequestsTest, TransformInvalidArguments) {
  TransformArgs args;
  args.input = Path("in.wav");
  args.output.output = "out.wav";
  args.band_mutes = {"100-200"};
  absl::StatusOr<v1::TransformRequest> r = BuildTransformRequest(args);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--band-mute must be LOW:HIGH"), absl::string_view::npos);
  args.band_mutes.clear();
  args.gate_period_s = 1.0;
  EXPECT_EQ(BuildTransformRequest(args).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RequestsTest, RenderFromAudioAndFromNpy) {
  {
    CLI::App app;
    RenderArgs args;
    AddRenderFlags(&app, &args);
    app.parse(Path("in.wav") + " -o out.png --view phase-deinterleaved --colormap red-blue "
                               "--width 640 --height 480 --interpolation bilinear --range-db 60 "
                               "--view-fmin 100 --view-fmax 4000 --color-bar --weight-by-magnitude",
              false);
    absl::StatusOr<v1::RenderRequest> r = BuildRenderRequest(args);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->view(), v1::RENDER_VIEW_PHASE_DEINTERLEAVED);
    EXPECT_EQ(r->colormap(), v1::COLORMAP_RED_BLUE);
    EXPECT_EQ(r->width_pixels(), 640);
    EXPECT_EQ(r->height_pixels(), 480);
    EXPECT_EQ(r->interpolation(), v1::INTERPOLATION_BILINEAR);
    EXPECT_DOUBLE_EQ(r->top_db(), 60.0);
    EXPECT_DOUBLE_EQ(r->fmin_hertz(), 100.0);
    EXPECT_DOUBLE_EQ(r->fmax_hertz(), 4000.0);
    EXPECT_TRUE(r->color_bar());
    EXPECT_TRUE(r->weight_by_magnitude());
    EXPECT_FALSE(r->bare());  // a figure unless --bare
    EXPECT_TRUE(r->has_audio());
  }
  {
    CLI::App app;
    RenderArgs args;
    AddRenderFlags(&app, &args);
    app.parse(Path("in.wav") + " -o out.png --bare", false);
    absl::StatusOr<v1::RenderRequest> r = BuildRenderRequest(args);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->bare());
  }
  {
    RenderArgs args;
    args.input = Path("mel.npy");
    args.output = "out.png";
    args.view = "mel";
    absl::StatusOr<v1::RenderRequest> r = BuildRenderRequest(args);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("--spectrogram-kind"), absl::string_view::npos);
    args.spectrogram_kind = "log-mel";
    r = BuildRenderRequest(args);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->spectrogram_kind(), v1::SPECTROGRAM_KIND_LOG_MEL);
    EXPECT_TRUE(r->has_spectrogram());
    EXPECT_FALSE(r->has_top_db());
  }
}

TEST_F(RequestsTest, VocodeConfigMessage) {
  CLI::App app;
  VocodeArgs args;
  AddVocodeFlags(&app, &args);
  app.parse(Path("mel.npy") + " -o out.wav --preset hifigan --chunk-frames 7 --algorithm "
                              "rtpghi-causal --online-iterations 2 --lookahead-frames 3 --pcm s16",
            false);
  EXPECT_EQ(args.chunk_frames, 7);
  absl::StatusOr<v1::StreamVocodeRequest> m = BuildVocodeConfigMessage(args);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->has_config());
  EXPECT_EQ(m->config().config().preset(), "hifigan");
  EXPECT_EQ(m->config().algorithm(), v1::VOCODE_ALGORITHM_RTPGHI_CAUSAL);
  EXPECT_EQ(m->config().online_iterations(), 2);
  EXPECT_EQ(m->config().lookahead_frames(), 3);
  EXPECT_EQ(m->config().encoding(), v1::AUDIO_ENCODING_PCM_INT16_LE);
  EXPECT_EQ(m->config().layout(), v1::TENSOR_LAYOUT_BINS_FRAMES);
  EXPECT_FALSE(m->end_of_utterance());
}

TEST_F(RequestsTest, VocodeChunkSizeIsValidated) {
  CLI::App app;
  VocodeArgs args;
  AddVocodeFlags(&app, &args);
  EXPECT_THROW(app.parse(Path("mel.npy") + " -o out.wav --chunk-frames 0", false), CLI::ParseError);
}

TEST(ChunkFramesTest, CoversAllFramesInOrder) {
  for (int chunk : {1, 7, 8, 64, 1000}) {
    const auto chunks = ChunkFrames(100, chunk);
    int64_t next = 0;
    for (const auto& [first, count] : chunks) {
      EXPECT_EQ(first, next);
      EXPECT_GE(count, 1);
      EXPECT_LE(count, chunk);
      next = first + count;
    }
    EXPECT_EQ(next, 100);
    EXPECT_EQ(chunks.size(), static_cast<size_t>((100 + chunk - 1) / chunk));
  }
  EXPECT_TRUE(ChunkFrames(0, 8).empty());
}

TEST(HealthCodecTest, RequestEncoding) {
  EXPECT_EQ(EncodeHealthCheckRequest(""), "");
  EXPECT_EQ(EncodeHealthCheckRequest("specinv.v1.Spectrogram"),
            std::string("\x0a\x16specinv.v1.Spectrogram", 24));
}

TEST(HealthCodecTest, ResponseDecoding) {
  EXPECT_EQ(*DecodeHealthCheckResponse(""), 0);
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x08\x01", 2)), 1);
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x08\x02", 2)), 2);
  // Unknown length-delimited field before the status is skipped.
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x12\x02xy\x08\x01", 6)), 1);
  EXPECT_EQ(DecodeHealthCheckResponse(std::string("\x12\x05xy", 4)).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeHealthCheckResponse(std::string("\x08", 1)).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ServingStatusName(1), "SERVING");
  EXPECT_EQ(ServingStatusName(2), "NOT_SERVING");
}

TEST(BenchSignalTest, LengthAndPeak) {
  const std::vector<float> x = GenerateBenchSignal(0.5, 16000);
  ASSERT_EQ(x.size(), 8000u);
  float peak = 0.0f;
  double energy = 0.0;
  for (float v : x) {
    peak = std::max(peak, std::abs(v));
    energy += static_cast<double>(v) * static_cast<double>(v);
  }
  EXPECT_LT(peak, 0.9f);
  EXPECT_GT(energy / static_cast<double>(x.size()), 1e-3);
  EXPECT_EQ(GenerateBenchSignal(0.5, 16000), x);  // deterministic
}

}  // namespace
}  // namespace specinv::client
