// Copyright specinv authors.
//
// Reorder, Transform and Render over the wire: identical to the core calls.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/test_server.h"
#include "specinv/io/audio_io.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/render/png_image.h"
#include "specinv/render/render.h"
#include "specinv/creative/reorder.h"
#include "specinv/creative/transform.h"
#include "testing/signals.h"

namespace specinv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class CreativeTest : public ::testing::Test {
 protected:
  static FeatureExtractor Extractor() { return *FeatureExtractor::Create(*GetPreset("librosa")); }
  const std::vector<float> audio_ = ToneSequence({440.0, 880.0, 660.0, 440.0, 880.0, 660.0}, 0.15, 22050.0);
  TestServer server_;
};

TEST_F(CreativeTest, ReorderMatchesCore) {
  for (v1::ReorderStrategy strategy : {v1::REORDER_STRATEGY_PCA, v1::REORDER_STRATEGY_REVERSE_TIME,
                                       v1::REORDER_STRATEGY_SHUFFLE, v1::REORDER_STRATEGY_SORT_BY}) {
    v1::ReorderRequest request;
    *request.mutable_audio() = PcmAudio(audio_, 22050);
    request.set_strategy(strategy);
    request.set_seed(7);
    request.set_sort_key(v1::SORT_KEY_SPECTRAL_CENTROID);
    request.mutable_features()->set_volume_normalize(true);
    request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
    v1::ReorderResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Reorder, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();

    ReorderOptions options;
    options.strategy = strategy == v1::REORDER_STRATEGY_PCA            ? ReorderStrategy::kPca
                       : strategy == v1::REORDER_STRATEGY_REVERSE_TIME ? ReorderStrategy::kReverseTime
                       : strategy == v1::REORDER_STRATEGY_SHUFFLE      ? ReorderStrategy::kShuffle
                                                                       : ReorderStrategy::kSortBy;
    options.seed = 7;
    options.sort_key = SortKey::kSpectralCentroid;
    options.features.volume_normalize = true;
    auto expected = Reorder(Extractor(), audio_, options);
    ASSERT_TRUE(expected.ok()) << expected.status();
    EXPECT_EQ(std::vector<int>(response.order().begin(), response.order().end()), expected->order);
    EXPECT_EQ(std::vector<float>(response.embedding().begin(), response.embedding().end()), expected->embedding);
    EXPECT_EQ(DecodeFloatAudio(response.audio()), expected->audio);
    EXPECT_EQ(response.num_frames(), expected->num_frames);
  }
}

TEST_F(CreativeTest, ReorderErrorsNameTheField) {
  v1::ReorderRequest request;
  *request.mutable_audio() = PcmAudio(audio_, 22050);
  v1::ReorderResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Reorder, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "strategy");

  request.set_strategy(v1::REORDER_STRATEGY_SORT_BY);
  auto ctx2 = Context();
  status = server_.stub().Reorder(ctx2.get(), request, &response);
  EXPECT_EQ(BadRequestField(status), "sort_key");

  request.set_strategy(v1::REORDER_STRATEGY_TSNE);
  request.mutable_tsne()->set_perplexity(1e6);
  auto ctx3 = Context();
  status = server_.stub().Reorder(ctx3.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "tsne.perplexity") << status.error_message();
  EXPECT_THAT(status.error_message(), StartsWith("tsne.perplexity"));

  request.set_strategy(v1::REORDER_STRATEGY_CUSTOM);
  request.add_custom_order(0);
  request.add_custom_order(100000);
  auto ctx4 = Context();
  status = server_.stub().Reorder(ctx4.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadRequestField(status), StartsWith("custom_order")) << status.error_message();
}

TEST_F(CreativeTest, TransformMatchesCore) {
  v1::TransformRequest request;
  *request.mutable_audio() = PcmAudio(audio_, 22050);
  request.set_phase(v1::PHASE_OPERATION_RANDOM);
  request.set_seed(3);
  request.set_checkerboard(true);
  v1::BandMute* band = request.add_band_mutes();
  band->set_low_hertz(600.0);
  band->set_high_hertz(700.0);
  request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  v1::TransformResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Transform, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  TransformOptions options;
  options.phase = PhaseOperation::kRandom;
  options.seed = 3;
  options.checkerboard = true;
  options.band_mutes.push_back({600.0, 700.0});
  auto expected = Transform(Extractor(), audio_, options);
  ASSERT_TRUE(expected.ok()) << expected.status();
  EXPECT_EQ(DecodeFloatAudio(response.audio()), expected->audio);

  // A mel warp goes through the inversion engine.
  v1::TransformRequest warp;
  *warp.mutable_audio() = PcmAudio(audio_, 22050);
  warp.mutable_mel_warp()->set_shift_bins(3);
  warp.mutable_inversion()->set_iterations(4);
  warp.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  auto ctx2 = Context();
  status = server_.stub().Transform(ctx2.get(), warp, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  TransformOptions warp_options;
  warp_options.mel_warp = MelWarp{3, false, false};
  warp_options.inversion.iterations = 4;
  expected = Transform(Extractor(), audio_, warp_options);
  ASSERT_TRUE(expected.ok()) << expected.status();
  EXPECT_EQ(DecodeFloatAudio(response.audio()), expected->audio);

  warp.mutable_mel_warp()->set_shift_bins(1000);
  auto ctx3 = Context();
  status = server_.stub().Transform(ctx3.get(), warp, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "mel_warp.shift_bins") << status.error_message();
}

TEST_F(CreativeTest, RenderMatchesCore) {
  v1::RenderRequest request;
  *request.mutable_audio() = PcmAudio(audio_, 22050);
  request.set_view(v1::RENDER_VIEW_MAGNITUDE);
  request.set_colormap(v1::COLORMAP_MAGMA);
  request.set_width_pixels(200);
  request.set_height_pixels(120);
  v1::RenderResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Render, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  RenderOptions options;
  options.view = RenderView::kMagnitude;
  options.colormap = Colormap::kMagma;
  options.width = 200;
  options.height = 120;
  auto expected = RenderSpectrogram(std::span<const float>(audio_), *GetPreset("librosa"), options);
  ASSERT_TRUE(expected.ok()) << expected.status();
  EXPECT_EQ(response.png_data(), *EncodePng(expected->image));
  // A figure by default: the heatmap inside a fixed frame.
  EXPECT_EQ(response.width_pixels(), 200 + kFigureFrameWidth);
  EXPECT_EQ(response.height_pixels(), 120 + kFigureFrameHeight);
  EXPECT_EQ(response.value_unit(), "dB");
  auto decoded = DecodePng(response.png_data());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->width, 200 + kFigureFrameWidth);
}

TEST_F(CreativeTest, RenderBareIsTheHeatmapAlone) {
  v1::RenderRequest request;
  *request.mutable_audio() = PcmAudio(audio_, 22050);
  request.set_view(v1::RENDER_VIEW_MAGNITUDE);
  request.set_colormap(v1::COLORMAP_MAGMA);
  request.set_width_pixels(200);
  request.set_height_pixels(120);
  request.set_color_bar(true);
  request.set_bare(true);
  v1::RenderResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Render, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  RenderOptions options;
  options.view = RenderView::kMagnitude;
  options.colormap = Colormap::kMagma;
  options.width = 200;
  options.height = 120;
  options.color_bar = true;
  options.figure = false;
  auto expected = RenderSpectrogram(std::span<const float>(audio_), *GetPreset("librosa"), options);
  ASSERT_TRUE(expected.ok()) << expected.status();
  EXPECT_EQ(response.png_data(), *EncodePng(expected->image));
  EXPECT_EQ(response.width_pixels(), 220);
  EXPECT_EQ(response.height_pixels(), 120);
  auto decoded = DecodePng(response.png_data());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->width, 220);
  EXPECT_EQ(decoded->height, 120);
  // The same pixels sit in the default figure's plot area.
  request.set_bare(false);
  request.set_color_bar(false);
  v1::RenderResponse figure;
  auto ctx2 = Context();
  ASSERT_TRUE(server_.stub().Render(ctx2.get(), request, &figure).ok());
  auto framed = DecodePng(figure.png_data());
  ASSERT_TRUE(framed.ok());
  int differing = 0;
  for (int y = 0; y < 120; ++y) {
    for (int x = 0; x < 200; ++x) {
      differing += decoded->at(x, y) == framed->at(kFigurePlotLeft + x, kFigurePlotTop + y) ? 0 : 1;
    }
  }
  EXPECT_EQ(differing, 0);
}

TEST_F(CreativeTest, RenderFromAComplexTensor) {
  const ComplexMatrix stft = *Extractor().ComplexSpectrogram(audio_);
  v1::AnalyzeRequest analyze;
  *analyze.mutable_audio() = PcmAudio(audio_, 22050);
  analyze.set_kind(v1::SPECTROGRAM_KIND_COMPLEX_STFT);
  v1::AnalyzeResponse analyzed;
  ASSERT_TRUE(Call(server_, &v1::Spectrogram::Stub::Analyze, analyze, &analyzed).ok());

  v1::RenderRequest request;
  *request.mutable_spectrogram() = analyzed.spectrogram();
  request.set_spectrogram_kind(v1::SPECTROGRAM_KIND_COMPLEX_STFT);
  request.set_view(v1::RENDER_VIEW_PHASE_DEINTERLEAVED);
  v1::RenderResponse response;
  auto ctx2 = Context();
  grpc::Status status = server_.stub().Render(ctx2.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  RenderOptions options;
  options.view = RenderView::kPhaseDeinterleaved;
  auto expected = RenderSpectrogram(stft, *GetPreset("librosa"), options);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(response.png_data(), *EncodePng(expected->image));
  EXPECT_EQ(response.width_pixels(), stft.cols() + kFigureFrameWidth);
  EXPECT_EQ(response.height_pixels(), stft.rows() + kFigureFrameHeight);
}

TEST_F(CreativeTest, RenderErrorsNameTheField) {
  v1::RenderRequest request;
  *request.mutable_audio() = PcmAudio(audio_, 22050);
  v1::RenderResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Render, request, &response);
  EXPECT_EQ(BadRequestField(status), "view");
  request.set_view(v1::RENDER_VIEW_MEL);
  request.set_width_pixels(100000);
  auto ctx2 = Context();
  status = server_.stub().Render(ctx2.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "width_pixels") << status.error_message();
  EXPECT_THAT(status.error_message(), StartsWith("width_pixels"));
  request.set_width_pixels(0);
  request.clear_audio();
  RealMatrix wrong = RealMatrix::Constant(10, 5, 1.0f);
  *request.mutable_spectrogram() = MatrixTensor(wrong);
  request.set_spectrogram_kind(v1::SPECTROGRAM_KIND_MEL);
  auto ctx3 = Context();
  status = server_.stub().Render(ctx3.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "spectrogram") << status.error_message();
}

}  // namespace
}  // namespace specinv::testing
