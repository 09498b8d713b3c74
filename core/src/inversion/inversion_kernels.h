// Copyright specinv authors.
//
// Vectorised inner loops of the inversion engine (internal header). The
// project builds at -O2, where GCC only vectorises loops whose trip count is
// a multiple of the vector width, so these loops are written with Eigen
// array maps (explicit SIMD packets) or SSE2 intrinsics, each with the same
// arithmetic as its scalar fallback.

#ifndef SPECINV_CORE_SRC_INVERSION_KERNELS_H_
#define SPECINV_CORE_SRC_INVERSION_KERNELS_H_

#include <cmath>
#include <cstddef>
#include <limits>

#include <Eigen/Core>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace specinv::kernels {

using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXf>;

// Asks the cache to fetch [p, p + bytes) for reading and writing.
inline void Prefetch(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off, 1, 3);
}

// out[j] = a[j] * b[j] * w[j]
inline void Multiply3(const float* a, const float* b, const float* w, float* out, int n) {
  ArrayMap(out, n) = ConstArrayMap(a, n) * ConstArrayMap(b, n) * ConstArrayMap(w, n);
}

// out[j] = a[j] * w[j]
inline void Multiply2(const float* a, const float* w, float* out, int n) {
  ArrayMap(out, n) = ConstArrayMap(a, n) * ConstArrayMap(w, n);
}

// out[j] += a[j] * w[j]
inline void MultiplyAdd(const float* a, const float* w, float* out, int n) {
  ArrayMap(out, n) += ConstArrayMap(a, n) * ConstArrayMap(w, n);
}

// How PhaseUpdate scales a to magnitude s.
enum class Normalize {
  kFast,   // SSE2: 1/|a| by rsqrt + a Newton step (within ~2 ulp of the division)
  kExact,  // (a * (1 / (sqrt(|a|^2) + eps))) * s with correctly rounded sqrt and
           // division in every lane, so the result equals the plain scalar formula
           // bit for bit
};

// Fast Griffin-Lim phase update on interleaved complex bins x (in: rebuilt,
// out: (a / (|a| + eps)) * s with a = rebuilt - beta * prev; the unit
// phasor first, as librosa does, so a bin with a = 0 gives 0, where
// s / eps * a would overflow to inf * 0 = NaN for s > about 4). When `prev` is
// non-null it receives the rebuilt values; `subtract` says whether it held
// the previous iteration's (else a = rebuilt).
template <Normalize kMode = Normalize::kFast>
inline void PhaseUpdate(float* x, float* prev, const float* s, float beta, bool subtract, int bins) {
  constexpr float kEps = std::numeric_limits<float>::min();  // librosa: tiny(complex64)
  int k = 0;
#if defined(__SSE2__)
  const __m128 vbeta = _mm_set1_ps(beta);
  const __m128 veps = _mm_set1_ps(kEps);
  if constexpr (kMode == Normalize::kExact) {
    // Four bins per step on de-interleaved lanes; the same IEEE operations
    // (correctly rounded sqrt and division) as the scalar tail.
    for (; k + 4 <= bins; k += 4) {
      float* xp = x + 2 * k;
      const __m128 r0 = _mm_loadu_ps(xp);      // re0 im0 re1 im1
      const __m128 r1 = _mm_loadu_ps(xp + 4);  // re2 im2 re3 im3
      __m128 a0 = r0, a1 = r1;
      if (prev != nullptr) {
        float* pp = prev + 2 * k;
        if (subtract) {
          a0 = _mm_sub_ps(r0, _mm_mul_ps(vbeta, _mm_loadu_ps(pp)));
          a1 = _mm_sub_ps(r1, _mm_mul_ps(vbeta, _mm_loadu_ps(pp + 4)));
        }
        _mm_storeu_ps(pp, r0);
        _mm_storeu_ps(pp + 4, r1);
      }
      const __m128 re = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0));
      const __m128 im = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1));
      const __m128 norm = _mm_add_ps(_mm_sqrt_ps(_mm_add_ps(_mm_mul_ps(re, re), _mm_mul_ps(im, im))), veps);
      const __m128 g = _mm_div_ps(_mm_set1_ps(1.0f), norm);
      const __m128 sk = _mm_loadu_ps(s + k);
      const __m128 ore = _mm_mul_ps(_mm_mul_ps(re, g), sk);
      const __m128 oim = _mm_mul_ps(_mm_mul_ps(im, g), sk);
      _mm_storeu_ps(xp, _mm_unpacklo_ps(ore, oim));
      _mm_storeu_ps(xp + 4, _mm_unpackhi_ps(ore, oim));
    }
  } else {
    const __m128 vhalf = _mm_set1_ps(0.5f);
    const __m128 vhalf3 = _mm_set1_ps(1.5f);
    const __m128 vfloor = _mm_set1_ps(1e-36f);
    for (; k + 2 <= bins; k += 2) {
      const __m128 r = _mm_loadu_ps(x + 2 * k);  // r0 i0 r1 i1
      __m128 a = r;
      if (prev != nullptr) {
        if (subtract) a = _mm_sub_ps(r, _mm_mul_ps(vbeta, _mm_loadu_ps(prev + 2 * k)));
        _mm_storeu_ps(prev + 2 * k, r);
      }
      const __m128 sq = _mm_mul_ps(a, a);
      const __m128 m2 = _mm_add_ps(sq, _mm_shuffle_ps(sq, sq, _MM_SHUFFLE(2, 3, 0, 1)));  // m0 m0 m1 m1
      // 1/|a| by rsqrt and one Newton step (~1 ulp; sqrt + div cost 3x more).
      // |a| below 1e-18 (|a|^2 near the float floor) takes the exact path.
      __m128 y = _mm_rsqrt_ps(m2);
      y = _mm_mul_ps(y, _mm_sub_ps(vhalf3, _mm_mul_ps(_mm_mul_ps(vhalf, m2), _mm_mul_ps(y, y))));
      const __m128 small = _mm_cmplt_ps(m2, vfloor);
      if (_mm_movemask_ps(small) != 0) {
        const __m128 exact = _mm_div_ps(_mm_set1_ps(1.0f), _mm_add_ps(_mm_sqrt_ps(m2), veps));
        y = _mm_or_ps(_mm_and_ps(small, exact), _mm_andnot_ps(small, y));
      }
      const __m128 sd = _mm_setr_ps(s[k], s[k], s[k + 1], s[k + 1]);
      _mm_storeu_ps(x + 2 * k, _mm_mul_ps(_mm_mul_ps(a, y), sd));
    }
  }
#endif
  for (; k < bins; ++k) {
    const float re = x[2 * k];
    const float im = x[2 * k + 1];
    float ar = re, ai = im;
    if (prev != nullptr) {
      if (subtract) {
        ar = re - beta * prev[2 * k];
        ai = im - beta * prev[2 * k + 1];
      }
      prev[2 * k] = re;
      prev[2 * k + 1] = im;
    }
    const float g = 1.0f / (std::sqrt(ar * ar + ai * ai) + kEps);
    x[2 * k] = (ar * g) * s[k];
    x[2 * k + 1] = (ai * g) * s[k];
  }
}

// sum_k (|x_k| - s_k)^2 over interleaved complex bins.
inline double MagnitudeError(const float* x, const float* s, int bins) {
  double total = 0.0;
  int k = 0;
#if defined(__SSE2__)
  __m128 acc = _mm_setzero_ps();
  for (; k + 4 <= bins; k += 4) {
    const __m128 a = _mm_loadu_ps(x + 2 * k);      // r0 i0 r1 i1
    const __m128 b = _mm_loadu_ps(x + 2 * k + 4);  // r2 i2 r3 i3
    const __m128 re = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 im = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    const __m128 mag = _mm_sqrt_ps(_mm_add_ps(_mm_mul_ps(re, re), _mm_mul_ps(im, im)));
    const __m128 e = _mm_sub_ps(mag, _mm_loadu_ps(s + k));
    acc = _mm_add_ps(acc, _mm_mul_ps(e, e));
  }
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, acc);
  total = static_cast<double>(lanes[0]) + static_cast<double>(lanes[1]) + static_cast<double>(lanes[2]) +
          static_cast<double>(lanes[3]);
#endif
  for (; k < bins; ++k) {
    const float re = x[2 * k];
    const float im = x[2 * k + 1];
    const float e = std::sqrt(re * re + im * im) - s[k];
    total += static_cast<double>(e * e);
  }
  return total;
}

// mag[k] = sqrt(|x_k|^2 + eps) over interleaved complex bins.
inline void Magnitude(const float* x, float eps, float* mag, int bins) {
  int k = 0;
#if defined(__SSE2__)
  const __m128 veps = _mm_set1_ps(eps);
  for (; k + 4 <= bins; k += 4) {
    const __m128 a = _mm_loadu_ps(x + 2 * k);
    const __m128 b = _mm_loadu_ps(x + 2 * k + 4);
    const __m128 re = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 im = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    _mm_storeu_ps(mag + k, _mm_sqrt_ps(_mm_add_ps(_mm_add_ps(_mm_mul_ps(re, re), _mm_mul_ps(im, im)), veps)));
  }
#endif
  for (; k < bins; ++k) {
    const float re = x[2 * k];
    const float im = x[2 * k + 1];
    mag[k] = std::sqrt(re * re + im * im + eps);
  }
}

// x_k *= coef[k] over interleaved complex bins.
inline void ScaleComplex(float* x, const float* coef, int bins) {
  int k = 0;
#if defined(__SSE2__)
  for (; k + 2 <= bins; k += 2) {
    const __m128 c = _mm_setr_ps(coef[k], coef[k], coef[k + 1], coef[k + 1]);
    _mm_storeu_ps(x + 2 * k, _mm_mul_ps(_mm_loadu_ps(x + 2 * k), c));
  }
#endif
  for (; k < bins; ++k) {
    x[2 * k] *= coef[k];
    x[2 * k + 1] *= coef[k];
  }
}

}  // namespace specinv::kernels

#endif  // SPECINV_CORE_SRC_INVERSION_KERNELS_H_
