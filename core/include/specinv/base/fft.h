// Copyright specinv authors.
//
// Real FFTs of one size, backed by FFTW3 in single precision.
//
// Plans are created on first use of a size (FFTW planning is not thread-safe,
// so it is serialised by a global mutex) and kept in a process-wide cache
// bounded by bytes (fft_plan_cache.h): least recently used sizes are evicted,
// and a transform stays valid for as long as someone holds its shared_ptr.
// FFTW handles every length (mixed radix, Rader, Bluestein internally).
// Execution is thread-safe: any number of threads may call Forward/Inverse on
// the same RealFft at once, each with its own buffers. Buffers must be
// SIMD-aligned: allocate them with AlignedVector.

#ifndef SPECINV_FFT_H_
#define SPECINV_FFT_H_

#include <complex>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace specinv {

// Allocator returning FFTW-aligned memory (fftwf_malloc).
template <typename T>
struct FftwAllocator {
  using value_type = T;
  FftwAllocator() = default;
  template <typename U>
  FftwAllocator(const FftwAllocator<U>&) {}  // NOLINT: allocator conversion
  T* allocate(std::size_t n);
  void deallocate(T* p, std::size_t) noexcept;
  template <typename U>
  bool operator==(const FftwAllocator<U>&) const { return true; }
};

void* FftwMalloc(std::size_t bytes);
void FftwFree(void* p) noexcept;

template <typename T>
T* FftwAllocator<T>::allocate(std::size_t n) {
  void* p = FftwMalloc(n * sizeof(T));
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<T*>(p);
}
template <typename T>
void FftwAllocator<T>::deallocate(T* p, std::size_t) noexcept {
  FftwFree(p);
}

template <typename T>
using AlignedVector = std::vector<T, FftwAllocator<T>>;

class RealFft {
 public:
  // Returns the shared transform pair for size n (n >= 1). Plans are made on
  // first use and cached; later calls return the same object.
  static std::shared_ptr<const RealFft> Get(int n);

  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  int size() const { return n_; }
  int num_bins() const { return n_ / 2 + 1; }

  // out[k] = sum_t in[t] exp(-2 pi i k t / n), k in [0, n/2]. Unnormalised.
  // `in` (n floats) is preserved; both pointers aligned.
  void Forward(const float* in, std::complex<float>* out) const;
  // out[t] = sum_k X[k] exp(+2 pi i k t / n) over the Hermitian extension,
  // unnormalised (divide by n for the inverse). `in` (n/2+1 values) IS
  // OVERWRITTEN (FFTW c2r). The imaginary parts of DC (and Nyquist for even n)
  // are ignored. Both pointers aligned.
  void Inverse(std::complex<float>* in, float* out) const;

 private:
  explicit RealFft(int n);
  int n_;
  void* forward_plan_ = nullptr;
  void* inverse_plan_ = nullptr;
};

// Estimated bytes a cached transform of this kind and size costs: the FFTW
// plans (~ one complex twiddle table per plan plus fixed overhead) and one
// set of work buffers. Used to charge the plan cache.
int64_t EstimatedRealFftBytes(int n, int64_t bytes_per_real);
int64_t EstimatedComplexFft2dBytes(int rows, int cols);

// Forward real FFT in double precision (FFTW double). Used by the analysis
// path, which, like librosa, windows and transforms in double and rounds the
// spectrum to float: quiet bins next to loud ones keep their relative
// accuracy (float32 transforms carry ~1e-7 * max|X| of absolute noise).
// Same caching and thread-safety rules as RealFft.
class RealFftDouble {
 public:
  static std::shared_ptr<const RealFftDouble> Get(int n);
  ~RealFftDouble();
  RealFftDouble(const RealFftDouble&) = delete;
  RealFftDouble& operator=(const RealFftDouble&) = delete;

  int size() const { return n_; }
  int num_bins() const { return n_ / 2 + 1; }
  // Unnormalised forward transform; aligned buffers (AlignedVector<double>).
  void Forward(const double* in, std::complex<double>* out) const;
  // Unnormalised inverse (c2r) over the Hermitian extension; `in` (n/2+1
  // values) IS OVERWRITTEN; imaginary parts of DC (and Nyquist for even n)
  // are ignored. Aligned buffers.
  void Inverse(std::complex<double>* in, double* out) const;

 private:
  explicit RealFftDouble(int n);
  int n_;
  void* plan_ = nullptr;
  void* inverse_plan_ = nullptr;
};

// Unnormalised forward 2-D complex DFT of a column-major (rows, cols) array
// (the layout of ComplexMatrix), single precision, any rows, cols >= 1:
//   out(k, l) = sum_{r,c} in(r, c) exp(-2 pi i (k r / rows + l c / cols)).
// Cached like RealFft (keyed by shape); execution thread-safe. Buffers need
// no particular alignment (plans are made FFTW_UNALIGNED); `in` is preserved,
// `in` and `out` must not overlap.
class ComplexFft2d {
 public:
  static std::shared_ptr<const ComplexFft2d> Get(int rows, int cols);
  ~ComplexFft2d();
  ComplexFft2d(const ComplexFft2d&) = delete;
  ComplexFft2d& operator=(const ComplexFft2d&) = delete;

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  void Forward(const std::complex<float>* in, std::complex<float>* out) const;

 private:
  ComplexFft2d(int rows, int cols);
  int rows_;
  int cols_;
  void* plan_ = nullptr;
};

}  // namespace specinv

#endif  // SPECINV_FFT_H_
