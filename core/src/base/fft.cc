// Copyright specinv authors.

#include "specinv/base/fft.h"

#include <fftw3.h>

#include <mutex>

#include "specinv/base/fft_plan_cache.h"

namespace specinv {
namespace {

// FFTW's planner is not thread-safe: every plan creation and destruction
// happens under this mutex. Execution (fftwf_execute_dft_*) is thread-safe.
std::mutex& PlannerMutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

void* FftwMalloc(std::size_t bytes) { return fftwf_malloc(bytes); }
void FftwFree(void* p) noexcept { fftwf_free(p); }

// Fixed cost of one FFTW plan (structures, solver bookkeeping).
constexpr int64_t kPlanOverheadBytes = 4096;

int64_t EstimatedRealFftBytes(int n, int64_t bytes_per_real) {
  const int64_t bins = n / 2 + 1;
  const int64_t twiddles = 2 * bins * 2 * bytes_per_real;           // forward + inverse plans
  const int64_t buffers = n * bytes_per_real + bins * 2 * bytes_per_real;  // signal + spectrum
  return 2 * kPlanOverheadBytes + twiddles + buffers;
}

int64_t EstimatedComplexFft2dBytes(int rows, int cols) {
  const int64_t complex_bytes = 2 * static_cast<int64_t>(sizeof(float));
  const int64_t twiddles = (static_cast<int64_t>(rows) + cols) * complex_bytes;
  const int64_t buffers = static_cast<int64_t>(rows) * cols * complex_bytes;  // one output image
  return kPlanOverheadBytes + twiddles + buffers;
}

std::shared_ptr<const RealFft> RealFft::Get(int n) {
  return std::static_pointer_cast<const RealFft>(internal::FftPlanCacheGet(
      internal::FftKind::kRealFloat, n, 0, EstimatedRealFftBytes(n, sizeof(float)),
      [n] { return std::shared_ptr<const void>(std::shared_ptr<const RealFft>(new RealFft(n))); }));
}

RealFft::RealFft(int n) : n_(n) {
  AlignedVector<float> real(static_cast<size_t>(n));
  AlignedVector<std::complex<float>> spec(static_cast<size_t>(n / 2 + 1));
  auto* c = reinterpret_cast<fftwf_complex*>(spec.data());
  std::lock_guard<std::mutex> lock(PlannerMutex());
  // FFTW_ESTIMATE: deterministic plans (identical output bits across runs and
  // processes) and no planning delay; benchmarks compare against the same plans.
  forward_plan_ = fftwf_plan_dft_r2c_1d(n, real.data(), c, FFTW_ESTIMATE);
  inverse_plan_ = fftwf_plan_dft_c2r_1d(n, c, real.data(), FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
}

RealFft::~RealFft() {
  std::lock_guard<std::mutex> lock(PlannerMutex());
  fftwf_destroy_plan(static_cast<fftwf_plan>(forward_plan_));
  fftwf_destroy_plan(static_cast<fftwf_plan>(inverse_plan_));
}

void RealFft::Forward(const float* in, std::complex<float>* out) const {
  // r2c never modifies its input; the const_cast is required by FFTW's C API.
  fftwf_execute_dft_r2c(static_cast<fftwf_plan>(forward_plan_), const_cast<float*>(in),
                        reinterpret_cast<fftwf_complex*>(out));
}

void RealFft::Inverse(std::complex<float>* in, float* out) const {
  in[0].imag(0.0f);
  if (n_ % 2 == 0) in[n_ / 2].imag(0.0f);
  fftwf_execute_dft_c2r(static_cast<fftwf_plan>(inverse_plan_), reinterpret_cast<fftwf_complex*>(in),
                        out);
}

std::shared_ptr<const RealFftDouble> RealFftDouble::Get(int n) {
  return std::static_pointer_cast<const RealFftDouble>(internal::FftPlanCacheGet(
      internal::FftKind::kRealDouble, n, 0, EstimatedRealFftBytes(n, sizeof(double)),
      [n] { return std::shared_ptr<const void>(std::shared_ptr<const RealFftDouble>(new RealFftDouble(n))); }));
}

RealFftDouble::RealFftDouble(int n) : n_(n) {
  AlignedVector<double> real(static_cast<size_t>(n));
  AlignedVector<std::complex<double>> spec(static_cast<size_t>(n / 2 + 1));
  std::lock_guard<std::mutex> lock(PlannerMutex());
  plan_ = fftw_plan_dft_r2c_1d(n, real.data(), reinterpret_cast<fftw_complex*>(spec.data()), FFTW_ESTIMATE);
  inverse_plan_ = fftw_plan_dft_c2r_1d(n, reinterpret_cast<fftw_complex*>(spec.data()), real.data(),
                                       FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
}

RealFftDouble::~RealFftDouble() {
  std::lock_guard<std::mutex> lock(PlannerMutex());
  fftw_destroy_plan(static_cast<fftw_plan>(plan_));
  fftw_destroy_plan(static_cast<fftw_plan>(inverse_plan_));
}

void RealFftDouble::Forward(const double* in, std::complex<double>* out) const {
  fftw_execute_dft_r2c(static_cast<fftw_plan>(plan_), const_cast<double*>(in),
                       reinterpret_cast<fftw_complex*>(out));
}

void RealFftDouble::Inverse(std::complex<double>* in, double* out) const {
  in[0].imag(0.0);
  if (n_ % 2 == 0) in[n_ / 2].imag(0.0);
  fftw_execute_dft_c2r(static_cast<fftw_plan>(inverse_plan_), reinterpret_cast<fftw_complex*>(in), out);
}

std::shared_ptr<const ComplexFft2d> ComplexFft2d::Get(int rows, int cols) {
  return std::static_pointer_cast<const ComplexFft2d>(internal::FftPlanCacheGet(
      internal::FftKind::kComplex2d, rows, cols, EstimatedComplexFft2dBytes(rows, cols), [rows, cols] {
        return std::shared_ptr<const void>(std::shared_ptr<const ComplexFft2d>(new ComplexFft2d(rows, cols)));
      }));
}

ComplexFft2d::ComplexFft2d(int rows, int cols) : rows_(rows), cols_(cols) {
  // FFTW_ESTIMATE neither reads nor writes the arrays while planning; two
  // buffers of the full size must still exist (they are freed right after).
  const size_t count = static_cast<size_t>(rows) * static_cast<size_t>(cols);
  AlignedVector<std::complex<float>> in(count), out(count);
  std::lock_guard<std::mutex> lock(PlannerMutex());
  // Column-major (rows, cols) is row-major [cols][rows]; the 2-D DFT is the same.
  plan_ = fftwf_plan_dft_2d(cols, rows, reinterpret_cast<fftwf_complex*>(in.data()),
                            reinterpret_cast<fftwf_complex*>(out.data()), FFTW_FORWARD,
                            FFTW_ESTIMATE | FFTW_UNALIGNED | FFTW_PRESERVE_INPUT);
}

ComplexFft2d::~ComplexFft2d() {
  std::lock_guard<std::mutex> lock(PlannerMutex());
  fftwf_destroy_plan(static_cast<fftwf_plan>(plan_));
}

void ComplexFft2d::Forward(const std::complex<float>* in, std::complex<float>* out) const {
  // Out of place with FFTW_PRESERVE_INPUT: `in` is only read.
  fftwf_execute_dft(static_cast<fftwf_plan>(plan_),
                    reinterpret_cast<fftwf_complex*>(const_cast<std::complex<float>*>(in)),
                    reinterpret_cast<fftwf_complex*>(out));
}

}  // namespace specinv
