// Copyright specinv authors.
//
// specinv_admission_bench: what admission costs a call. For a 2 s InvertMel
// request (hifigan, 80 x 173 log-mel, fgla with its default iterations):
//   BM_PrepareAndAdmit  the work done before a job is queued: the small
//                       fields converted, the tensor's shape read, the cost
//                       model evaluated and compared with the limits;
//   BM_WholeJob         the same plus the job itself (the mel converted,
//                       the inversion, the response filled).
// Admission's share is the ratio of the two times (target < 1 %).

#include <benchmark/benchmark.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "server/extractor_cache.h"
#include "server/job.h"
#include "server/limits.h"
#include "server/admission.h"
#include "server/rpc/rpc.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"

namespace specinv::server {
namespace {

v1::InvertMelRequest TwoSecondRequest() {
  constexpr double kRate = 22050.0;
  std::vector<float> y(static_cast<size_t>(2 * kRate));
  for (size_t i = 0; i < y.size(); ++i) {
    const double t = static_cast<double>(i) / kRate;
    y[i] = static_cast<float>(0.3 * std::sin(2.0 * std::numbers::pi * (150.0 + 200.0 * t) * t));
  }
  const FeatureExtractor fx = *FeatureExtractor::Create(*GetPreset("hifigan"));
  const RealMatrix mel = *fx.LogMel(y);
  v1::InvertMelRequest r;
  r.mutable_mel()->add_shape(mel.rows());
  r.mutable_mel()->add_shape(mel.cols());
  std::vector<float> row_major(static_cast<size_t>(mel.size()));
  for (Eigen::Index m = 0; m < mel.rows(); ++m) {
    for (Eigen::Index f = 0; f < mel.cols(); ++f) row_major[static_cast<size_t>(m * mel.cols() + f)] = mel(m, f);
  }
  r.mutable_mel()->mutable_float32_data()->assign(reinterpret_cast<const char*>(row_major.data()),
                                                  row_major.size() * sizeof(float));
  r.mutable_config()->set_preset("hifigan");
  r.mutable_options()->set_method(v1::INVERSION_METHOD_FGLA);
  return r;
}

struct Fixture {
  ServiceLimits limits;
  ExtractorCache extractors;
  RpcEnv env{&limits, &extractors, 1};
  v1::InvertMelRequest request = TwoSecondRequest();
};

void BM_PrepareAndAdmit(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    v1::InvertMelResponse response;
    absl::StatusOr<Prepared> prepared = PrepareInvertMel(f.env, f.request, &response);
    if (!prepared.ok() || !Admit(prepared->admission, f.limits).ok()) state.SkipWithError("refused");
    benchmark::DoNotOptimize(prepared);
  }
}
BENCHMARK(BM_PrepareAndAdmit)->Unit(benchmark::kMicrosecond);

void BM_WholeJob(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    v1::InvertMelResponse response;
    absl::StatusOr<Prepared> prepared = PrepareInvertMel(f.env, f.request, &response);
    if (!prepared.ok() || !Admit(prepared->admission, f.limits).ok()) state.SkipWithError("refused");
    Job job(absl::InfiniteFuture(), 1);
    if (!prepared->run(job).ok()) state.SkipWithError("job failed");
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_WholeJob)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace specinv::server
