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

typedef struct {
  int32_t r;
  int32_t i;
} kws_fe_cpx;

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

/* C_FIXDIV(x, div): x * (32767 / div) in Q15, rounded. */
static int32_t kws_fe_fixdiv4(int32_t x) { return (x * 8191 + KWS_FE_ROUND15) >> 15; }
static int32_t kws_fe_fixdiv2(int32_t x) { return (x * 16383 + KWS_FE_ROUND15) >> 15; }

static kws_fe_cpx kws_fe_cmul(kws_fe_cpx a, const int16_t *w) {
  kws_fe_cpx out;
  out.r = (a.r * w[0] - a.i * w[1] + KWS_FE_ROUND15) >> 15;
  out.i = (a.r * w[1] + a.i * w[0] + KWS_FE_ROUND15) >> 15;
  return out;
}

/* One radix-4 butterfly on f[0], f[m], f[2m], f[3m] whose inputs were already
 * scaled by 1/4: s0..s2 are the (twiddled) f[m], f[2m], f[3m]. */
static void kws_fe_butterfly(int16_t (*f)[2], size_t m, kws_fe_cpx a0, kws_fe_cpx s0, kws_fe_cpx s1, kws_fe_cpx s2) {
  const int32_t t0r = a0.r + s1.r, t0i = a0.i + s1.i;
  const int32_t s5r = a0.r - s1.r, s5i = a0.i - s1.i;
  const int32_t s3r = s0.r + s2.r, s3i = s0.i + s2.i;
  const int32_t s4r = s0.r - s2.r, s4i = s0.i - s2.i;
  f[0][0] = kws_fe_wrap16(t0r + s3r);
  f[0][1] = kws_fe_wrap16(t0i + s3i);
  f[2 * m][0] = kws_fe_wrap16(t0r - s3r);
  f[2 * m][1] = kws_fe_wrap16(t0i - s3i);
  f[m][0] = kws_fe_wrap16(s5r + s4i);
  f[m][1] = kws_fe_wrap16(s5i - s4r);
  f[3 * m][0] = kws_fe_wrap16(s5r - s4i);
  f[3 * m][1] = kws_fe_wrap16(s5i + s4r);
}

static kws_fe_cpx kws_fe_load_div4(const int16_t *v) {
  kws_fe_cpx c;
  c.r = kws_fe_fixdiv4(v[0]);
  c.i = kws_fe_fixdiv4(v[1]);
  return c;
}

/* The FFT input scaled up by shift (int16 wrap), then by 1/4. */
static kws_fe_cpx kws_fe_load_shift_div4(const int16_t *v, int shift) {
  kws_fe_cpx c;
  c.r = kws_fe_fixdiv4(kws_fe_wrap16((int32_t)((uint32_t)(uint16_t)v[0] << shift)));
  c.i = kws_fe_fixdiv4(kws_fe_wrap16((int32_t)((uint32_t)(uint16_t)v[1] << shift)));
  return c;
}

/* In-place radix-4 decimation-in-time FFT of KWS_FE_NCFFT points in
 * digit-reversed order, the input still to be scaled up by shift. Each stage
 * scales its inputs by 1/4; twiddle 0 (32767 + 0i) is the identity for the
 * |x| <= 8191 that reach it, so the first stage and k = 0 skip the multiply. */
static void kws_fe_fft_complex(int16_t (*z)[2], int shift) {
  size_t m, group, k;
  for (group = 0; group < KWS_FE_NCFFT; group += 4) {
    int16_t (*f)[2] = z + group;
    kws_fe_butterfly(f, 1, kws_fe_load_shift_div4(f[0], shift), kws_fe_load_shift_div4(f[1], shift),
                     kws_fe_load_shift_div4(f[2], shift), kws_fe_load_shift_div4(f[3], shift));
  }
  for (m = 4; m < KWS_FE_NCFFT; m *= 4) {
    const size_t stride = KWS_FE_NCFFT / (4 * m);
    for (group = 0; group < KWS_FE_NCFFT; group += 4 * m) {
      int16_t (*f)[2] = z + group;
      kws_fe_butterfly(f, m, kws_fe_load_div4(f[0]), kws_fe_load_div4(f[m]), kws_fe_load_div4(f[2 * m]),
                       kws_fe_load_div4(f[3 * m]));
      for (k = 1; k < m; ++k) {
        kws_fe_butterfly(f + k, m, kws_fe_load_div4(f[k]),
                         kws_fe_cmul(kws_fe_load_div4(f[k + m]), kws_fe_twiddles[k * stride]),
                         kws_fe_cmul(kws_fe_load_div4(f[k + 2 * m]), kws_fe_twiddles[2 * k * stride]),
                         kws_fe_cmul(kws_fe_load_div4(f[k + 3 * m]), kws_fe_twiddles[3 * k * stride]));
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

/* Rounded integer square root as the frontend defines it: the exact floor
 * root, plus one when the remainder exceeds the root (values below 2**32
 * saturate at 0xFFFF). */
static uint32_t kws_fe_sqrt_rounded(uint64_t num) {
  const uint32_t high = (uint32_t)(num >> 32), low = (uint32_t)num;
  const uint32_t top = high ? high : low;
  const int lead = top ? (32 - kws_fe_msb32(top)) & ~1 : 30;
  uint32_t root = 0, rem = 0;
  kws_fe_sqrt_digits(top << lead, 16 - lead / 2, &root, &rem);
  if (high) kws_fe_sqrt_digits(low, 16, &root, &rem);
  if (rem > root && root != (high ? 0xFFFFFFFFu : 0xFFFFu)) ++root;
  return root;
}

/* Window -> filterbank energies (sqrt domain) for one window. */
static void kws_fe_filterbank(const int16_t *input, uint32_t out[KWS_FE_NUM_CHANNELS]) {
  static int16_t z[KWS_FE_NCFFT][2];
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
    z[i][0] = (int16_t)re;
    z[i][1] = (int16_t)im;
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
      if (z[i][0] != INT16_MIN && -z[i][0] > max_abs) max_abs = -z[i][0];
      if (z[i][1] != INT16_MIN && -z[i][1] > max_abs) max_abs = -z[i][1];
    }
  }
  shift = 15 - kws_fe_msb32((uint32_t)max_abs);
  kws_fe_fft_complex(z, shift);

  /* Split into the real FFT's bins and take their energy. */
  for (i = 1; i <= KWS_FE_NCFFT / 2; ++i) {
    const size_t j = KWS_FE_NCFFT - i;
    kws_fe_cpx fpk, fpnk, f1, f2, tw;
    int32_t out_r, out_i;
    fpk.r = kws_fe_fixdiv2(z[i][0]);
    fpk.i = kws_fe_fixdiv2(z[i][1]);
    fpnk.r = kws_fe_fixdiv2(z[j][0]);
    fpnk.i = kws_fe_fixdiv2(kws_fe_wrap16(-(int32_t)z[j][1]));
    f1.r = fpk.r + fpnk.r;
    f1.i = fpk.i + fpnk.i;
    f2.r = fpk.r - fpnk.r;
    f2.i = fpk.i - fpnk.i;
    tw = kws_fe_cmul(f2, kws_fe_super_twiddles[i - 1]);
    tw.r = kws_fe_wrap16(tw.r);
    tw.i = kws_fe_wrap16(tw.i);
    if (i >= KWS_FE_START_BIN && i < KWS_FE_END_BIN) {
      out_r = (int16_t)((f1.r + tw.r) >> 1);
      out_i = (int16_t)((f1.i + tw.i) >> 1);
      energy[i] = (uint32_t)(out_r * out_r) + (uint32_t)(out_i * out_i);
    }
    if (j >= KWS_FE_START_BIN && j < KWS_FE_END_BIN) {
      out_r = (int16_t)((f1.r - tw.r) >> 1);
      out_i = (int16_t)((tw.i - f1.i) >> 1);
      energy[j] = (uint32_t)(out_r * out_r) + (uint32_t)(out_i * out_i);
    }
  }

#if KWS_FE_END_BIN > KWS_FE_NCFFT
  { /* Nyquist bin, from the packed DC term. */
    const int32_t nyquist = kws_fe_wrap16(kws_fe_fixdiv2(z[0][0]) - kws_fe_fixdiv2(z[0][1]));
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
