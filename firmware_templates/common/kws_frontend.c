/* kws streaming audio frontend (see kws_frontend.h). C99, integer-only.
 * Python twin: kws/audio/frontend.py - keep the two in step. */
#include "kws_frontend.h"

#include <string.h>

#include "kws_frontend_tables.h"

/* The fixed-point code relies on arithmetic right shifts of negative values
 * and on two's-complement narrowing (as every supported compiler does). */
typedef char kws_fe_arithmetic_shift_check[((-1) >> 1) == -1 ? 1 : -1];

#define KWS_FE_ROUND15 (1 << 14)
#define KWS_FE_NR_BITS 14
#define KWS_FE_PCAN_SNR_BITS 12
#define KWS_FE_PCAN_OUTPUT_BITS 6
#define KWS_FE_LOG_SCALE_LOG2 16
#define KWS_FE_LOG_SEGMENTS_LOG2 7
#define KWS_FE_LOG_COEFF 45426u


/* Highest set bit index plus one; 0 for 0. */
static int kws_fe_msb32(uint32_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return x ? 32 - __builtin_clz(x) : 0;
#else
  int bits = 0;
  while (x) {
    ++bits;
    x >>= 1;
  }
  return bits;
#endif
}

static int16_t kws_fe_wrap16(int32_t x) { return (int16_t)x; }

/* Complex values are packed in 32-bit words: real part in the low half,
 * imaginary part in the high half (int16 each). On Cortex-M cores with the
 * DSP extension the packed helpers map to single SIMD instructions (ACLE
 * intrinsics); elsewhere the portable versions compute the same values. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__ARM_FEATURE_SIMD32) && __ARM_FEATURE_SIMD32
#include <arm_acle.h>
#define KWS_FE_SIMD 1
#else
#define KWS_FE_SIMD 0
#endif

static int32_t kws_fe_lo(uint32_t w) { return (int16_t)(w & 0xFFFFu); }
static int32_t kws_fe_hi(uint32_t w) { return (int16_t)(w >> 16); }
static uint32_t kws_fe_pack(int32_t re, int32_t im) { return ((uint32_t)re & 0xFFFFu) | ((uint32_t)im << 16); }

#if KWS_FE_SIMD
/* C_FIXDIV(x, 4): x * 8191 in Q15, rounded, for each half. */
static int32_t kws_fe_div4_lo(uint32_t w) { return __smlabb((int32_t)w, 8191, KWS_FE_ROUND15) >> 15; }
static int32_t kws_fe_div4_hi(uint32_t w) { return __smlatb((int32_t)w, 8191, KWS_FE_ROUND15) >> 15; }
/* Q15 complex multiply with rounding. */
static uint32_t kws_fe_cmul(uint32_t a, uint32_t w) {
  return kws_fe_pack(__smlsd((int32_t)a, (int32_t)w, KWS_FE_ROUND15) >> 15,
                     __smladx((int32_t)a, (int32_t)w, KWS_FE_ROUND15) >> 15);
}
static uint32_t kws_fe_add16(uint32_t a, uint32_t b) { return (uint32_t)__sadd16((int16x2_t)a, (int16x2_t)b); }
static uint32_t kws_fe_sub16(uint32_t a, uint32_t b) { return (uint32_t)__ssub16((int16x2_t)a, (int16x2_t)b); }
/* (a.re + b.im, a.im - b.re) and (a.re - b.im, a.im + b.re). */
static uint32_t kws_fe_add_rot(uint32_t a, uint32_t b) { return (uint32_t)__ssax((int16x2_t)a, (int16x2_t)b); }
static uint32_t kws_fe_sub_rot(uint32_t a, uint32_t b) { return (uint32_t)__sasx((int16x2_t)a, (int16x2_t)b); }
#else
static int32_t kws_fe_div4_lo(uint32_t w) { return (kws_fe_lo(w) * 8191 + KWS_FE_ROUND15) >> 15; }
static int32_t kws_fe_div4_hi(uint32_t w) { return (kws_fe_hi(w) * 8191 + KWS_FE_ROUND15) >> 15; }
static uint32_t kws_fe_cmul(uint32_t a, uint32_t w) {
  const int32_t ar = kws_fe_lo(a), ai = kws_fe_hi(a), wr = kws_fe_lo(w), wi = kws_fe_hi(w);
  return kws_fe_pack((ar * wr - ai * wi + KWS_FE_ROUND15) >> 15, (ar * wi + ai * wr + KWS_FE_ROUND15) >> 15);
}
static uint32_t kws_fe_add16(uint32_t a, uint32_t b) {
  return kws_fe_pack(kws_fe_lo(a) + kws_fe_lo(b), kws_fe_hi(a) + kws_fe_hi(b));
}
static uint32_t kws_fe_sub16(uint32_t a, uint32_t b) {
  return kws_fe_pack(kws_fe_lo(a) - kws_fe_lo(b), kws_fe_hi(a) - kws_fe_hi(b));
}
static uint32_t kws_fe_add_rot(uint32_t a, uint32_t b) {
  return kws_fe_pack(kws_fe_lo(a) + kws_fe_hi(b), kws_fe_hi(a) - kws_fe_lo(b));
}
static uint32_t kws_fe_sub_rot(uint32_t a, uint32_t b) {
  return kws_fe_pack(kws_fe_lo(a) - kws_fe_hi(b), kws_fe_hi(a) + kws_fe_lo(b));
}
#endif

/* A packed complex value scaled by 1/4 (C_FIXDIV(x, 4) on both halves). */
static uint32_t kws_fe_div4(uint32_t w) { return kws_fe_pack(kws_fe_div4_lo(w), kws_fe_div4_hi(w)); }

/* C_FIXDIV(x, 2). */
static int32_t kws_fe_fixdiv2(int32_t x) { return (x * 16383 + KWS_FE_ROUND15) >> 15; }

/* One radix-4 butterfly on f[0], f[m], f[2m], f[3m]: a0 and s0..s2 are the
 * inputs already scaled by 1/4 (s0..s2 twiddled). The halfword adds wrap
 * exactly like the int16 stores of the reference; intermediate sums stay in
 * range (|a| <= 8191 after scaling, |s| <= 11585 after a twiddle). */
static void kws_fe_butterfly(uint32_t *f, size_t m, uint32_t a0, uint32_t s0, uint32_t s1, uint32_t s2) {
  const uint32_t t0 = kws_fe_add16(a0, s1), s5 = kws_fe_sub16(a0, s1);
  const uint32_t s3 = kws_fe_add16(s0, s2), s4 = kws_fe_sub16(s0, s2);
  f[0] = kws_fe_add16(t0, s3);
  f[2 * m] = kws_fe_sub16(t0, s3);
  f[m] = kws_fe_add_rot(s5, s4);
  f[3 * m] = kws_fe_sub_rot(s5, s4);
}

/* In-place radix-4 decimation-in-time FFT of KWS_FE_NCFFT packed points in
 * digit-reversed order, the input still to be scaled up by shift (with int16
 * wrap). Each stage scales its inputs by 1/4; twiddle 0 (32767 + 0i) is the
 * identity for the |x| <= 8191 that reach it, so the first stage and k = 0
 * skip the multiply. */
static void kws_fe_fft_complex(uint32_t *z, int shift) {
  size_t m, group, k, i;
  for (i = 0; i < KWS_FE_NCFFT; ++i) {
    z[i] = kws_fe_div4(kws_fe_pack((int32_t)((uint32_t)kws_fe_lo(z[i]) << shift),
                                   (int32_t)((uint32_t)kws_fe_hi(z[i]) << shift)));
  }
  for (group = 0; group < KWS_FE_NCFFT; group += 4) {
    kws_fe_butterfly(z + group, 1, z[group], z[group + 1], z[group + 2], z[group + 3]);
  }
  for (m = 4; m < KWS_FE_NCFFT; m *= 4) {
    const size_t stride = KWS_FE_NCFFT / (4 * m);
    for (group = 0; group < KWS_FE_NCFFT; group += 4 * m) {
      uint32_t *f = z + group;
      kws_fe_butterfly(f, m, kws_fe_div4(f[0]), kws_fe_div4(f[m]), kws_fe_div4(f[2 * m]), kws_fe_div4(f[3 * m]));
      for (k = 1; k < m; ++k) {
        kws_fe_butterfly(f + k, m, kws_fe_div4(f[k]),
                         kws_fe_cmul(kws_fe_div4(f[k + m]), kws_fe_twiddles[k * stride]),
                         kws_fe_cmul(kws_fe_div4(f[k + 2 * m]), kws_fe_twiddles[2 * k * stride]),
                         kws_fe_cmul(kws_fe_div4(f[k + 3 * m]), kws_fe_twiddles[3 * k * stride]));
      }
    }
  }
}

/* Square-root digits: feeds the top `pairs` bit pairs of word into the
 * running root and remainder (the remainder stays below 2 * root + 2). */
static void kws_fe_sqrt_digits(uint32_t word, int pairs, uint32_t *root, uint32_t *rem) {
  uint32_t r = *root, m = *rem;
  while (pairs-- > 0) {
    const uint32_t trial = (r << 2) | 1u;
    m = (m << 2) | (word >> 30);
    word <<= 2;
    r <<= 1;
    if (m >= trial) {
      m -= trial;
      r |= 1u;
    }
  }
  *root = r;
  *rem = m;
}

/* Floor square root of a 32-bit value (Newton's method from above). */
static uint32_t kws_fe_isqrt32(uint32_t y) {
  uint32_t root, next;
  if (y == 0) return 0;
  root = 1u << ((kws_fe_msb32(y) + 1) / 2);
  for (;;) {
    next = (root + y / root) >> 1;
    if (next >= root) return root;
    root = next;
  }
}

/* Rounded integer square root as the frontend defines it: the exact floor
 * root, plus one when the remainder exceeds the root (values below 2**32
 * saturate at 0xFFFF). The top 32 bits go through Newton's method, the bit
 * pairs below them through square-root digits. */
static uint32_t kws_fe_sqrt_rounded(uint64_t num) {
  const uint32_t high = (uint32_t)(num >> 32);
  const int pairs = (kws_fe_msb32(high) + 1) / 2;
  const uint32_t top = (uint32_t)(num >> (2 * pairs));
  uint32_t root = kws_fe_isqrt32(top);
  uint32_t rem = top - root * root;
  if (pairs > 0) kws_fe_sqrt_digits((uint32_t)num << (32 - 2 * pairs), pairs, &root, &rem);
  if (rem > root && root != (high ? 0xFFFFFFFFu : 0xFFFFu)) ++root;
  return root;
}

/* Window -> filterbank energies (sqrt domain) for one window. */
static void kws_fe_filterbank(const int16_t *input, uint32_t out[KWS_FE_NUM_CHANNELS]) {
  static uint32_t z[KWS_FE_NCFFT];
  static uint32_t energy[KWS_FE_END_BIN];
  uint64_t acc[KWS_FE_NUM_CHANNELS + 1];
  int32_t hi = 0, lo = 0, max_abs;
  int shift;
  size_t i;

  /* Window the samples straight into the FFT's packed (even, odd) complex
   * points in digit-reversed order; the zero window past the end pads. */
  for (i = 0; i < KWS_FE_NCFFT; ++i) {
    const size_t s = kws_fe_fft_src[i];
    const int32_t re = ((int32_t)input[s] * kws_fe_window[s]) >> 12;
    const int32_t im = ((int32_t)input[s + 1] * kws_fe_window[s + 1]) >> 12;
    z[i] = kws_fe_pack(re, im);
    if (re > hi) hi = re;
    if (im > hi) hi = im;
    if (re < lo) lo = re;
    if (im < lo) lo = im;
  }
  /* The largest magnitude; like an int16 abs, -32768 does not count. */
  if (lo != INT16_MIN) {
    max_abs = hi > -lo ? hi : -lo;
  } else {
    max_abs = hi;
    for (i = 0; i < KWS_FE_NCFFT; ++i) {
      const int32_t re = kws_fe_lo(z[i]), im = kws_fe_hi(z[i]);
      if (re != INT16_MIN && -re > max_abs) max_abs = -re;
      if (im != INT16_MIN && -im > max_abs) max_abs = -im;
    }
  }
  shift = 15 - kws_fe_msb32((uint32_t)max_abs);
  kws_fe_fft_complex(z, shift);

  /* Split into the real FFT's bins and take their energy. */
  for (i = 1; i <= KWS_FE_NCFFT / 2; ++i) {
    const size_t j = KWS_FE_NCFFT - i;
    const int32_t pkr = kws_fe_fixdiv2(kws_fe_lo(z[i])), pki = kws_fe_fixdiv2(kws_fe_hi(z[i]));
    const int32_t pnr = kws_fe_fixdiv2(kws_fe_lo(z[j])), pni = kws_fe_fixdiv2(kws_fe_wrap16(-kws_fe_hi(z[j])));
    const int32_t f1r = pkr + pnr, f1i = pki + pni;
    const uint32_t tw = kws_fe_cmul(kws_fe_pack(pkr - pnr, pki - pni), kws_fe_super_twiddles[i - 1]);
    const int32_t twr = kws_fe_lo(tw), twi = kws_fe_hi(tw);
    if (i >= KWS_FE_START_BIN && i < KWS_FE_END_BIN) {
      const int32_t re = (f1r + twr) >> 1, im = (f1i + twi) >> 1;
      energy[i] = (uint32_t)(re * re) + (uint32_t)(im * im);
    }
    if (j >= KWS_FE_START_BIN && j < KWS_FE_END_BIN) {
      const int32_t re = (f1r - twr) >> 1, im = (twi - f1i) >> 1;
      energy[j] = (uint32_t)(re * re) + (uint32_t)(im * im);
    }
  }

#if KWS_FE_END_BIN > KWS_FE_NCFFT
  { /* Nyquist bin, from the packed DC term. */
    const int32_t nyquist = kws_fe_wrap16(kws_fe_fixdiv2(kws_fe_lo(z[0])) - kws_fe_fixdiv2(kws_fe_hi(z[0])));
    energy[KWS_FE_NCFFT] = (uint32_t)(nyquist * nyquist);
  }
#endif

  /* Mel filterbank: band k feeds channel k-1 (weight) and channel k (unweight). */
  memset(acc, 0, sizeof(acc));
  {
    size_t band;
    for (band = 0; band <= KWS_FE_NUM_CHANNELS; ++band) {
      uint64_t w = 0, u = 0;
      size_t b;
      for (b = kws_fe_band_start[band]; b < kws_fe_band_start[band + 1]; ++b) {
        w += (uint64_t)energy[b] * (uint16_t)kws_fe_weight[b - KWS_FE_START_BIN];
        u += (uint64_t)energy[b] * (uint16_t)kws_fe_unweight[b - KWS_FE_START_BIN];
      }
      if (band > 0) acc[band - 1] += w;
      acc[band] += u;
    }
  }

  /* Rounded integer square root, then undo the FFT input scaling. */
  for (i = 0; i < KWS_FE_NUM_CHANNELS; ++i) out[i] = kws_fe_sqrt_rounded(acc[i]) >> shift;
}

static void kws_fe_noise_reduction(kws_frontend_t *fe, uint32_t *signal) {
  size_t i;
  for (i = 0; i < KWS_FE_NUM_CHANNELS; ++i) {
    const uint32_t smoothing = (i & 1) == 0 ? KWS_FE_EVEN_SMOOTHING : KWS_FE_ODD_SMOOTHING;
    const uint32_t scaled = signal[i] << KWS_FE_SMOOTHING_BITS;
    uint32_t estimate = (uint32_t)(((uint64_t)scaled * smoothing +
                                    (uint64_t)fe->estimate[i] * ((1u << KWS_FE_NR_BITS) - smoothing)) >>
                                   KWS_FE_NR_BITS);
    const uint32_t floor = (uint32_t)(((uint64_t)signal[i] * KWS_FE_MIN_SIGNAL_REMAINING) >> KWS_FE_NR_BITS);
    uint32_t subtracted;
    fe->estimate[i] = estimate;
    if (estimate > scaled) estimate = scaled;
    subtracted = (scaled - estimate) >> KWS_FE_SMOOTHING_BITS;
    signal[i] = subtracted > floor ? subtracted : floor;
  }
}

#if KWS_FE_ENABLE_PCAN
static int16_t kws_fe_pcan_gain(uint32_t x) {
  const int16_t *lut;
  int interval;
  int32_t frac, result;
  if (x <= 2) return kws_fe_pcan_lut[x];
  interval = kws_fe_msb32(x);
  lut = kws_fe_pcan_lut + 4 * interval - 6;
  frac = (int32_t)((interval < 11 ? x << (11 - interval) : x >> (interval - 11)) & 0x3FF);
  result = ((int32_t)lut[2] * frac) >> 5;
  result += (int32_t)lut[1] * 32;
  result *= frac;
  result = (result + (1 << 14)) >> 15;
  result += lut[0];
  return (int16_t)result;
}

static void kws_fe_pcan(const kws_frontend_t *fe, uint32_t *signal) {
  size_t i;
  for (i = 0; i < KWS_FE_NUM_CHANNELS; ++i) {
    const uint32_t gain = (uint32_t)(int32_t)kws_fe_pcan_gain(fe->estimate[i]);
    const uint32_t snr = (uint32_t)(((uint64_t)signal[i] * gain) >> KWS_FE_PCAN_SNR_SHIFT);
    if (snr < (2u << KWS_FE_PCAN_SNR_BITS)) {
      signal[i] = (snr * snr) >> (2 + 2 * KWS_FE_PCAN_SNR_BITS - KWS_FE_PCAN_OUTPUT_BITS);
    } else {
      signal[i] = (snr >> (KWS_FE_PCAN_SNR_BITS - KWS_FE_PCAN_OUTPUT_BITS)) - (1u << KWS_FE_PCAN_OUTPUT_BITS);
    }
  }
}
#endif

#if KWS_FE_ENABLE_LOG
static uint32_t kws_fe_log(uint32_t x) {
  const int integer = kws_fe_msb32(x) - 1;
  int32_t frac = (int32_t)(x - (1u << integer));
  int32_t seg, c0, c1, rel;
  uint32_t log2, loge;
  if (integer < KWS_FE_LOG_SCALE_LOG2) {
    frac <<= KWS_FE_LOG_SCALE_LOG2 - integer;
  } else {
    frac >>= integer - KWS_FE_LOG_SCALE_LOG2;
  }
  seg = frac >> (KWS_FE_LOG_SCALE_LOG2 - KWS_FE_LOG_SEGMENTS_LOG2);
  c0 = kws_fe_log_lut[seg];
  c1 = kws_fe_log_lut[seg + 1];
  rel = ((c1 - c0) * (frac - (seg << (KWS_FE_LOG_SCALE_LOG2 - KWS_FE_LOG_SEGMENTS_LOG2)))) >> KWS_FE_LOG_SCALE_LOG2;
  log2 = ((uint32_t)integer << KWS_FE_LOG_SCALE_LOG2) + (uint32_t)(frac + c0 + rel);
  loge = (uint32_t)(((uint64_t)KWS_FE_LOG_COEFF * log2 + (1u << 15)) >> KWS_FE_LOG_SCALE_LOG2);
  return ((loge << KWS_FE_LOG_SCALE_SHIFT) + (1u << 15)) >> KWS_FE_LOG_SCALE_LOG2;
}
#endif

static void kws_fe_process_window(kws_frontend_t *fe, int8_t *out, uint16_t *raw) {
  uint32_t signal[KWS_FE_NUM_CHANNELS];
  size_t i;
  kws_fe_filterbank(fe->input, signal);
  kws_fe_noise_reduction(fe, signal);
#if KWS_FE_ENABLE_PCAN
  kws_fe_pcan(fe, signal);
#endif
  for (i = 0; i < KWS_FE_NUM_CHANNELS; ++i) {
    uint32_t value = signal[i];
    int32_t scaled;
#if KWS_FE_ENABLE_LOG
#if KWS_FE_CORRECTION_BITS >= 0
    value <<= KWS_FE_CORRECTION_BITS;
#else
    value >>= -KWS_FE_CORRECTION_BITS;
#endif
    value = value > 1 ? kws_fe_log(value) : 0;
#endif
    if (value > 0xFFFF) value = 0xFFFF;
    if (raw) raw[i] = (uint16_t)value;
    scaled = ((int32_t)value * 256 + 333) / 666 - 128;
    out[i] = (int8_t)(scaled < -128 ? -128 : scaled > 127 ? 127 : scaled);
  }
}

void kws_frontend_init(kws_frontend_t *fe) { memset(fe, 0, sizeof(*fe)); }

size_t kws_frontend_feed(kws_frontend_t *fe, const int16_t *samples, size_t n,
                         int8_t out[KWS_FE_NUM_CHANNELS], uint16_t *raw, int *frame_ready) {
  size_t take = KWS_FE_WINDOW_SAMPLES - fe->input_used;
  if (take > n) take = n;
  memcpy(fe->input + fe->input_used, samples, take * sizeof(*samples));
  fe->input_used += take;
  *frame_ready = 0;
  if (fe->input_used == KWS_FE_WINDOW_SAMPLES) {
    kws_fe_process_window(fe, out, raw);
    memmove(fe->input, fe->input + KWS_FE_STRIDE_SAMPLES,
            (KWS_FE_WINDOW_SAMPLES - KWS_FE_STRIDE_SAMPLES) * sizeof(*fe->input));
    fe->input_used -= KWS_FE_STRIDE_SAMPLES;
    *frame_ready = 1;
  }
  return take;
}
