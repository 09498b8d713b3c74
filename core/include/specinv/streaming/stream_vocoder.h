// Copyright specinv authors.
//
// Streaming vocoder: mel frames in, final audio samples out, with bounded
// per-stream state (nothing grows with the utterance).
//
// Per frame, in arrival order:
//   1. mel -> linear magnitude with the per-frame NNLS / pseudo-inverse of
//      mel_inverse.h (each frame on its own, so chunking cannot matter);
//   2. Real-Time PGHI (Prusa & Holighaus, "Phase vocoder done right", EUSIPCO
//      2017): the phase of frame t is integrated from frame t-1's phase and
//      frame t's magnitude only. A max-heap over the log-magnitudes of frames
//      t-1 and t decides, bin by bin, whether the phase arrives in time
//      (trapezoid of the time-direction phase derivatives of t-1 and t, from
//      frame t-1's phase) or in frequency (trapezoid of the frequency-direction
//      derivatives between neighbouring bins of frame t). The derivatives are
//      pghi.h's Gaussian-window relations: the time-direction derivative comes
//      from the log-magnitude's slope across bins (frame t only), the
//      frequency-direction one from its slope across frames (log-magnitudes
//      clamped at gradient_floor_db under the frame's maximum):
//        kLookahead  centred difference (s[t+1] - s[t-1]) / 2: frame t's
//                    phase is known once frame t+1 has arrived (one frame of
//                    delay); one-sided at the first and the last frame;
//        kCausal     backward (3 s[t] - 4 s[t-1] + s[t-2]) / 2 (first-order
//                    at t = 1, zero at t = 0): no delay.
//      Bins more than -tolerance_db below the larger maximum of frames t-1
//      and t get a seeded random phase (RandomPhase of griffin_lim.h). The
//      first frame starts each connected region at its largest bin with
//      phase 0. The phase is reported in librosa's frame-start convention,
//      like PghiPhase.
//   3. optional online Griffin-Lim (RTISI-LA style, Zhu, Beauregard & Wyse
//      2007, with RTPGHI as the initial phase): frames whose phase is known
//      enter a window of lookahead_frames + 1 frames. On every entry the
//      window frames get online_iterations fast Griffin-Lim iterations
//      (Jacobi: all frames analyse the same estimate; momentum as in
//      griffin_lim.h, per frame) against the signal made of the committed
//      frames plus the window frames, normalised by the window sum of squares
//      of the frames present; then the oldest frame is committed once the
//      window is full. Analysis reads the padded-domain estimate directly
//      (no virtual edge padding). With mel_projection, each iteration's
//      target magnitude of a frame is the projection of its rebuilt spectrum
//      onto the frame's mel (MelProjection, mel_projection.h: the magnitude
//      nearest in a relative norm that reproduces the mel, as in the offline
//      `joint` method);
//      without, the mel inverse's magnitude of step 1. online_iterations = 0
//      commits every frame as soon as its phase is known. The defaults depend on the window
//      overlap (DefaultOnlineGriffinLim below).
//   4. synthesis: committed frames are overlap-added (irfft / n_fft times the
//      window, in frame order) and normalised by the window's sum of squares
//      (Stft::Inverse's arithmetic). A sample is final, and is emitted, once
//      no uncommitted frame overlaps it.
//
// Framing and length follow FeatureLayout (frame_processor.h): centred,
// HiFi-GAN reflect or uncentred framing, Whisper's dropped last frame; after
// Finish the emitted samples number exactly the default length InvertMel
// returns for the same frames (librosa istft without `length`).
//
// Equivalence: the samples depend only on the sequence of frames, never on
// how it was split into PushFrames calls (bit-identical for any chunking).
// With online_iterations = 0 they equal the offline
// Stft-inverse of MelToMagnitude(mel) * exp(i RtpghiPhase(...)) cropped to the
// framing (up to float summation order).
//
// Delay (frames pushed before a frame's samples start to be final): 1 for
// kLookahead, 0 for kCausal, plus lookahead_frames when online_iterations >
// 0, plus the window overlap (ceil(n_fft / hop) - 1 frames), less the
// framing's padding. With the defaults the samples emitted trail the frames
// pushed (frames_pushed() * hop - samples_emitted()) by 1664 samples for
// hifigan (75 ms), 1792 for tacotron2 and espnet (81 ms at 22050 Hz, 112 ms
// at 16000 Hz) and 1320 for Whisper (83 ms); RTPGHI alone (online_iterations
// 0): 640, 768 and 360 samples. Each look-ahead frame adds one hop.
//
// Cost per frame: the mel inverse (nnls_iterations sparse passes), one heap
// integration over 2 (n_fft/2+1) entries, online_iterations * (window frames)
// FFT pairs (each with a mel projection when on: about one more FFT pair's
// time at n_fft 1024), one FFT for the synthesis. Memory: O((lookahead_frames
// + 3) * n_fft) floats, fixed at Create.
//
// Thread safety: a StreamVocoder is one stream's state; it must not be used
// from two threads at once. Distinct vocoders are independent. RtpghiPhase is
// re-entrant.

#ifndef SPECINV_STREAM_VOCODER_H_
#define SPECINV_STREAM_VOCODER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/analysis/features.h"
#include "specinv/inversion/mel_inverse.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/types.h"

namespace specinv {

enum class RtpghiVariant {
  kCausal,     // backward time differences, no delay
  kLookahead,  // centred time differences, one frame of delay
};
absl::StatusOr<RtpghiVariant> ParseRtpghiVariant(std::string_view name);  // "causal", "lookahead"
std::string_view RtpghiVariantName(RtpghiVariant variant);

struct RtpghiOptions {
  RtpghiVariant variant = RtpghiVariant::kLookahead;
  // Relative floor in dB under the larger maximum of frames t-1 and t,
  // [-200, 0]; bins below it get a random phase.
  double tolerance_db = -100.0;
  // Log-magnitudes are clamped at the frame's maximum plus this, in dB,
  // [-200, 0], before they are differentiated: magnitudes from a mel inverse
  // have exact zeros (NNLS) whose logarithm would swamp the derivatives of
  // their neighbours. -30 dB suits 80-128 band mels, power 1 or 2.
  double gradient_floor_db = -30.0;
  std::optional<double> gamma;  // samples^2, (0, 1e12]; unset = PghiGamma(window, win_length)
  uint64_t seed = 0;            // random phase of the bins below the floor
};

// The real-time PGHI phase of a whole magnitude ((n_fft/2+1, frames), finite,
// >= 0), frame by frame exactly as the stream computes it (radians, librosa
// convention, (bins, frames)).
absl::StatusOr<RealMatrix> RtpghiPhase(const Stft& stft, const RealMatrix& magnitude,
                                       const RtpghiOptions& options = {});

// The online Griffin-Lim settings a StreamVocoder uses for the fields left
// unset in StreamVocoderOptions, chosen from the STFT's redundancy
// win_length / hop_length (the overlap of consecutive frames):
//   >= 4 (75 % overlap or more; hifigan, tacotron2, espnet, librosa):
//        2 iterations, 4 frames of look-ahead, momentum 0, mel projection
//        (2.4-3.5 dB lower SC_mel than without, for about 35 % more time);
//   <  4 (whisper and whisper-128: 400 / 160, 60 % overlap):
//        8 iterations, 7 frames of look-ahead, momentum 0.95, no mel
//        projection (0.3-0.4 dB better for 4 times the time: below 100x
//        real time).
// With these the streamed SC_mel of speech is better than the offline
// pghi_fgla's at 32 iterations, or within 1.5 dB of it. At low overlap PGHI's phase is a poor start
// (about 10 dB short of pghi_fgla, against 2-6 dB at 75 %) and Griffin-Lim
// converges slowly, so each frame needs about 50 online iterations with
// momentum instead of 8.
struct OnlineGriffinLimSettings {
  int online_iterations = 0;
  int lookahead_frames = 0;
  double momentum = 0.0;
  bool mel_projection = false;
};
OnlineGriffinLimSettings DefaultOnlineGriffinLim(const StftOptions& stft);

// The mel inverse a StreamVocoder uses when StreamVocoderOptions::mel_inverse
// is unset: kHarmonic when n_fft/2+1 >= 4 n_mels (the bins test of the
// offline DefaultMelInverse) and the spectrogram carries at most
// kStreamHarmonicValuesPerSecond values (bins x frames) per second of audio,
// else kNnls. Of the presets only espnet (513 bins x 62.5 frames/s = 32 063)
// takes kHarmonic: on the bench/quality corpus at 16 kHz (specinv-invert-bench
// --methods stream) STOI 0.968 -> 0.980 (speech) and 0.854 -> 0.868 (music)
// over kLobes at 20 iterations, for 10 % more time per chunk (about 125x real
// time on one core; kLobes had ESTOI +0.003 / +0.011 over kNnls). At 44 000
// values per second (hifigan, tacotron2: 513 x 86.1; librosa: 1025 x 43.1)
// kHarmonic runs at 108-119x real time and raises the corpus STOI, but its
// single fundamental misplaces a chord's partials: on the demo phrase the
// streamed SC_mel falls 1.6-2.0 dB short of the offline pghi_fgla, against
// the 1.5 dB bound (README, "Streaming vocoder"); Whisper's 201 bins fail the
// bins test (there kLobes lowered STOI, 0.738 -> 0.613 on the demo phrase).
inline constexpr double kStreamHarmonicValuesPerSecond = 40000.0;
MelInverseMethod DefaultStreamMelInverse(const FeatureConfig& config);
// FISTA iterations of a stream's kLobes or kHarmonic when nnls_iterations is
// unset (kHarmonic: 12 for the lobe fit, 6 for the comb). The offline
// default, 100, costs several times as much; 20 gained about 0.0003 STOI on
// speech and 0.005 on music for 20 % more time per chunk.
inline constexpr int kStreamMelInverseIterations = 12;

struct StreamVocoderOptions {
  RtpghiOptions rtpghi;
  // Fast Griffin-Lim iterations over the window per frame entering it,
  // [0, 32]; 0 = RTPGHI only. Unset: DefaultOnlineGriffinLim.
  std::optional<int> online_iterations;
  // Window frames beyond the one about to be committed, [0, 16]: the
  // algorithmic latency grows by lookahead_frames * hop samples. Unset:
  // DefaultOnlineGriffinLim.
  std::optional<int> lookahead_frames;
  // Fast Griffin-Lim momentum of the online iterations, [0, 2). Unset:
  // DefaultOnlineGriffinLim (0, plain Griffin-Lim, converges best over a
  // few iterations of a short window; 0.9 over many).
  std::optional<double> momentum;
  // With online iterations: every iteration re-estimates each window
  // frame's magnitude as the projection of its rebuilt spectrum onto the
  // frame's mel (mel_projection.h, the magnitude step of the offline `joint`
  // method) instead of keeping the mel inverse's magnitude, which then only
  // starts RTPGHI. No effect with online_iterations 0. Unset:
  // DefaultOnlineGriffinLim.
  std::optional<bool> mel_projection;
  // Mel -> magnitude per frame. Unset: DefaultStreamMelInverse.
  std::optional<MelInverseMethod> mel_inverse;
  // Its FISTA iterations, [0, 100000]. Unset: kStreamMelInverseIterations
  // for kLobes and kHarmonic, DefaultMelInverseIterations for the others.
  std::optional<int> nnls_iterations;
  // Polled by PushFrames before every 64 frames' mel inverse and every 8
  // frames entering the online window, and by Finish for every window frame
  // it flushes. A non-OK status (Cancelled, DeadlineExceeded) is returned and
  // ends the stream: the interrupted call's frames are partly consumed, so
  // later PushFrames / Finish calls return FailedPrecondition.
  std::function<absl::Status()> check;
};

// Errors name the field and its range, e.g.
// "online_iterations must be in [0, 32], got 40".
absl::Status ValidateStreamVocoderOptions(const StreamVocoderOptions& options);

class StreamVocoder {
 public:
  // Copies what it needs from `extractor` (framing, STFT, filterbank, power).
  static absl::StatusOr<StreamVocoder> Create(const FeatureExtractor& extractor,
                                              const StreamVocoderOptions& options = {});

  // Appends `mel` ((n_mels, frames >= 1), linear: W |X|^power before any
  // compression, finite, >= 0) to the stream and appends the samples that
  // became final to `out` (it is never cleared). On error nothing is
  // consumed. Errors: InvalidArgument for a wrong row count, no frames or a
  // bad value ("mel (bin 3, frame 17 of the stream) is nan; ..."),
  // FailedPrecondition after Finish.
  absl::Status PushFrames(Eigen::Ref<const RealMatrix> mel, std::vector<float>* out);

  // Ends the stream: integrates the held-back frame, runs the window's
  // remaining iterations and appends the tail, so the samples emitted in
  // total number the default length of frames_pushed() frames (0 samples for
  // no frames). FailedPrecondition when called twice.
  absl::Status Finish(std::vector<float>* out);

  int64_t frames_pushed() const;
  int64_t samples_emitted() const;
  bool finished() const;
  // Frames of delay (see the header comment), excluding the window overlap.
  int delay_frames() const;
  int sample_rate_hertz() const;
  // Bytes of per-stream buffers (fixed after Create: the bound on the state).
  size_t state_bytes() const;
  // The options in use: every optional field is set (the defaults resolved).
  const StreamVocoderOptions& options() const;

  StreamVocoder(StreamVocoder&&) noexcept;
  StreamVocoder& operator=(StreamVocoder&&) noexcept;
  ~StreamVocoder();

 private:
  struct State;
  explicit StreamVocoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace specinv

#endif  // SPECINV_STREAM_VOCODER_H_
