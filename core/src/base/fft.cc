// Copyright specinv authors.

#include "specinv/base/fft.h"

#include <fftw3.h>

#include <map>
#include <mutex>

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

std::shared_ptr<const RealFft> RealFft::Get(int n) {
  static std::mutex cache_mu;
  static std::map<int, std::shared_ptr<const RealFft>> cache;
  std::lock_guard<std::mutex> lock(cache_mu);
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  std::shared_ptr<const RealFft> fft(new RealFft(n));
  cache.emplace(n, fft);
  return fft;
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
  static std::mutex cache_mu;
  static std::map<int, std::shared_ptr<const RealFftDouble>> cache;
  std::lock_guard<std::mutex> lock(cache_mu);
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  std::shared_ptr<const RealFftDouble> fft(new RealFftDouble(n));
  cache.emplace(n, fft);
  return fft;
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

}  // namespace specinv
