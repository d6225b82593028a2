/* kws runtime "c": int8 kernels bit-exact with TFLM's reference kernels.
 * See kws_kernels.h. The arithmetic follows TFLM's documented integer rules:
 * SaturatingRoundingDoublingHighMul + RoundingDivideByPOT (double rounding),
 * 32-bit accumulators, zero padding by skipping (here: by feeding the input
 * zero point, which cancels its share of the input offset folded into the
 * bias), gemmlowp fixed-point exp and reciprocal for softmax. */
#include "kws_kernels.h"

#include <string.h>

/* The hot helpers are inlined even at -Os: a call per tap group or per
 * output value costs more than the few bytes of code saved. */
#if defined(__GNUC__)
#define KWS_HOT static inline __attribute__((always_inline))
#define KWS_UNROLL _Pragma("GCC unroll 4") /* keeps per-row sums in registers */
#else
#define KWS_HOT static inline
#define KWS_UNROLL
#endif

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define KWS_DSP 1
#else
#define KWS_DSP 0
#endif

/* ------------------------------------------------------------------------ */
/* Fixed-point helpers                                                       */

/* SaturatingRoundingDoublingHighMul. gemmlowp adds a nudge of 2^30 (or
 * 1 - 2^30 below zero) and divides by 2^31 truncating; that equals adding
 * 2^30 and shifting right arithmetically, which is two instructions fewer. */
KWS_HOT int32_t high_mul(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) {
    return INT32_MAX;
  }
  return (int32_t)(((int64_t)a * (int64_t)b + (1 << 30)) >> 31);
}

KWS_HOT int32_t divide_by_pot(int32_t x, int exponent) { /* RoundingDivideByPOT */
  const int32_t mask = (int32_t)((1u << exponent) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t shift_left(int32_t x, int exponent) { /* wrapping x * 2^exponent */
  return (int32_t)((uint32_t)x << exponent);
}

static int32_t saturating_shift_left(int32_t x, int exponent) { /* SaturatingRoundingMultiplyByPOT, exponent > 0 */
  const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
  if (x > threshold) {
    return INT32_MAX;
  }
  if (x < -threshold) {
    return INT32_MIN;
  }
  return shift_left(x, exponent);
}

/* MultiplyByQuantizedMultiplier (double rounding): x * multiplier / 2^31 *
 * 2^shift. For a right shift e, both roundings fold into one 64-bit sum,
 * floor((x * m + 2^30 + (2^(e-1) - [x < 0]) * 2^31) / 2^(31 + e)): the
 * nudged high_mul floors at 2^31, RoundingDivideByPOT adds 2^(e-1), less one
 * below zero, and floors again; floors of floors by powers of two are one
 * floor. `round` is 2^30 + 2^(30 + e), precomputed by kws export for convs;
 * `not_shift` is ~shift (e - 1 for a right shift). multiplier >= 0, so
 * high_mul never saturates. */
KWS_HOT int32_t requantize_rounded(int32_t x, int32_t multiplier, int32_t not_shift, int64_t round) {
  if (not_shift < 0) {
    return (int32_t)(((int64_t)shift_left(x, ~not_shift) * multiplier + (1 << 30)) >> 31);
  }
  return (int32_t)(((int64_t)x * multiplier + round + (x < 0 ? -((int64_t)1 << 31) : 0)) >> 32) >> not_shift;
}

/* KWS_REQUANT_SHORT (kws_kernels.h): `twice` is the sum doubled, q the
 * channel's record. smmulr(2x, m) = floor((x * m + 2^30) / 2^31), TFLM's
 * nudged high multiply; RoundingDivideByPOT adds 2^(e-1), less one below
 * zero, and floors. */
KWS_HOT int32_t requantize_short(int32_t twice, const int32_t *q) {
#if KWS_DSP
  int32_t high;
  __asm__("smmulr %0, %1, %2" : "=r"(high) : "r"(twice), "r"(q[0]));
#else
  const int32_t high = (int32_t)(((int64_t)twice * q[0] + ((int64_t)1 << 31)) >> 32);
#endif
  return (high + q[1] + (high >> 31)) >> q[2];
}

static int32_t requantize(int32_t x, int32_t multiplier, int32_t shift) {
  return requantize_rounded(x, multiplier, ~shift, (1 << 30) + ((int64_t)1 << (shift < 0 ? 30 - shift : 0)));
}

KWS_HOT int32_t clamp(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/* Element offset of flat index `index` in a 4-d iteration space (last
 * dimension fastest) whose dimensions have the given counts and strides. */
static int32_t offset_of(int32_t index, const int32_t count[4], const int32_t stride[4]) {
  int32_t offset = 0;
  int d;
  for (d = 3; d >= 0; --d) {
    offset += (index % count[d]) * stride[d];
    index /= count[d];
  }
  return offset;
}

/* ------------------------------------------------------------------------ */
/* Multiply-accumulate: acc[r] += sum_i (x[i] + offset) * w[r * k + i]        */

/* Multiply-accumulate on filters of int16 pairs (kws_kernels.h, layout)     */

static inline int32_t low16(int32_t w) { return (int32_t)(((uint32_t)w & 0xFFFFu) ^ 0x8000u) - 0x8000; }

static inline int32_t high16(int32_t w) { return w >> 16; }

#if KWS_DSP
static inline uint32_t load32(const int8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v); /* one LDR: Cortex-M allows unaligned words */
  return v;
}

static inline uint32_t sxtb16(uint32_t x) { /* bytes 0 and 2, sign-extended to halves */
  uint32_t r;
  __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
  return r;
}

static inline uint32_t sxtb16_ror8(uint32_t x) { /* bytes 1 and 3 */
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}

static inline uint32_t pack_low(uint32_t a, uint32_t b) { /* (a.lo, b.lo) */
  uint32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

static inline uint32_t pack_high(uint32_t a, uint32_t b) { /* (a.hi, b.hi) */
  uint32_t r;
  __asm__("pkhtb %0, %2, %1, asr #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

/* Two filter words, stepping past them. Filters are const data that nothing
 * writes, so the asm need not tell the compiler which memory it reads (that
 * would keep the sums in memory too). */
static inline void load_pair(const int32_t **w, int32_t *first, int32_t *second) {
  __asm__("ldrd %0, %1, [%2], #8" : "=&r"(*first), "=&r"(*second), "+r"(*w));
}

static inline int32_t smlad(uint32_t a, int32_t b, int32_t acc) { /* acc + a.lo*b.lo + a.hi*b.hi */
  int32_t r;
  __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
#endif

/* acc[r] += sum_i x[i] * row_r[i] for i < k, over `rows` (4 or 1) filter
 * rows stored as kws_conv_t's filter says. */
KWS_HOT void dot_rows(const int8_t *x, const int32_t *w, int32_t k, int32_t *acc, const int rows) {
  int32_t i = 0, r;
  for (; i + 4 <= k; i += 4) {
#if KWS_DSP
    const uint32_t xv = load32(x + i), x02 = sxtb16(xv), x13 = sxtb16_ror8(xv);
    KWS_UNROLL for (r = 0; r < rows; ++r) {
      int32_t w02, w13;
      load_pair(&w, &w02, &w13);
      acc[r] = smlad(x13, w13, smlad(x02, w02, acc[r]));
    }
#else
    KWS_UNROLL for (r = 0; r < rows; ++r, w += 2) {
      acc[r] += x[i] * low16(w[0]) + x[i + 2] * high16(w[0]) + x[i + 1] * low16(w[1]) + x[i + 3] * high16(w[1]);
    }
#endif
  }
  for (; i < k; ++i, w += rows) {
    KWS_UNROLL for (r = 0; r < rows; ++r) {
      acc[r] += x[i] * w[r];
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Convolution (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED)                 */

/* The per-channel output stage, copied out of *p: stores through int8_t*
 * may alias *p, which would reload every field after each output. */
typedef struct {
  const int32_t *bias, *requant;
  int32_t offset, act_min, act_max, kind;
} output_stage_t;

static output_stage_t output_stage(const kws_conv_t *p) {
  output_stage_t s;
  s.bias = p->bias;
  s.requant = p->requant;
  s.offset = p->output_offset;
  s.act_min = p->act_min;
  s.act_max = p->act_max;
  s.kind = p->requant_kind;
  return s;
}

/* Requantizes acc[0..n) of output channels oc.. into out[oc..]. */
KWS_HOT void store_outputs(const output_stage_t *s, const int32_t *acc, int32_t oc, const int n, int8_t *out) {
  const int32_t *q = s->requant + 4 * oc, offset = s->offset, act_min = s->act_min, act_max = s->act_max;
  int r;
  if (s->kind == KWS_REQUANT_SHORT) {
    KWS_UNROLL for (r = 0; r < n; ++r, q += 4) {
      out[oc + r] = (int8_t)clamp(requantize_short(acc[r], q), act_min, act_max);
    }
    return;
  }
  KWS_UNROLL for (r = 0; r < n; ++r, q += 4) {
    const int64_t round = (int64_t)((uint64_t)(uint32_t)q[3] << 32 | (uint32_t)q[2]);
    out[oc + r] = (int8_t)clamp(requantize_rounded(acc[r], q[0], q[1], round) + offset, act_min, act_max);
  }
}

KWS_HOT void load_bias(const output_stage_t *s, int32_t oc, const int n, int32_t *acc) {
  int r;
  KWS_UNROLL for (r = 0; r < n; ++r) {
    acc[r] = s->bias[oc + r];
  }
}

/* Output channels [oc, end) of one pixel from its k input values x (a patch
 * or, for a 1x1 filter, the input pixel itself). */
static void conv_pixel(const output_stage_t *s, const int32_t *filter, const int8_t *x, int32_t k, int32_t oc,
                       int32_t end, int8_t *out) {
  const int32_t row_words = (k >> 2) * 2 + (k & 3);
  int32_t acc[4];
  for (; oc + 4 <= end; oc += 4) {
    load_bias(s, oc, 4, acc);
    dot_rows(x, filter + oc * row_words, k, acc, 4);
    store_outputs(s, acc, oc, 4, out);
  }
  for (; oc < end; ++oc) {
    load_bias(s, oc, 1, acc);
    dot_rows(x, filter + oc * row_words, k, acc, 1);
    store_outputs(s, acc, oc, 1, out);
  }
}

/* Copies the receptive field of output pixel (oy, ox), channels
 * [c0, c0 + group_c), into col as [k_h][k_w][group_c]; outside the image the
 * input zero point stands in (the bias holds -zero point x the filter sum,
 * so it adds 0 like TFLM's skipped taps). */
static void copy_run(int8_t *dst, const int8_t *src, int32_t n) {
  for (; n >= 4; n -= 4, dst += 4, src += 4) {
    memcpy(dst, src, 4); /* one word load and store */
  }
  for (; n > 0; --n) {
    *dst++ = *src++;
  }
}

static void fill_run(int8_t *dst, int8_t value, int32_t n) {
  if (n > 0) {
    memset(dst, value, (size_t)n);
  }
}

static void load_patch(const kws_conv_t *p, const int8_t *input, int32_t oy, int32_t ox, int32_t c0, int8_t *col) {
  /* Locals, not p->..., in the loops: stores through int8_t* may alias *p. */
  const int8_t zero = (int8_t)(-p->input_offset);
  const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, k_h = p->k_h, k_w = p->k_w;
  const int32_t group_c = p->group_c, dil_h = p->dil_h, dil_w = p->dil_w, row_bytes = k_w * group_c;
  const int32_t iy0 = oy * p->stride_h - p->pad_h;
  const int32_t ix0 = ox * p->stride_w - p->pad_w;
  int32_t ky, kx, c;
  if (dil_w == 1 && group_c == in_c) { /* the valid taps of each row are one run */
    const int32_t lo = clamp(-ix0, 0, k_w) * in_c;
    const int32_t hi = clamp(in_w - ix0, lo / in_c, k_w) * in_c;
    if (lo == 0 && hi == row_bytes && iy0 >= 0 && iy0 + (k_h - 1) * dil_h < in_h) { /* all inside */
      const int32_t stride = dil_h * in_w * in_c;
      const int8_t *src = input + (iy0 * in_w + ix0) * in_c;
      for (ky = 0; ky < k_h; ++ky, col += row_bytes, src += stride) {
        copy_run(col, src, row_bytes);
      }
      return;
    }
    for (ky = 0; ky < k_h; ++ky, col += row_bytes) {
      const int32_t iy = iy0 + ky * dil_h;
      if (iy < 0 || iy >= in_h) {
        fill_run(col, zero, row_bytes);
      } else {
        fill_run(col, zero, lo);
        copy_run(col + lo, input + (iy * in_w + ix0) * in_c + lo, hi - lo);
        fill_run(col + hi, zero, row_bytes - hi);
      }
    }
    return;
  }
  for (ky = 0; ky < k_h; ++ky) {
    const int32_t iy = iy0 + ky * dil_h;
    for (kx = 0; kx < k_w; ++kx) {
      const int32_t ix = ix0 + kx * dil_w;
      const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
      const int8_t *src = input + (inside ? (iy * in_w + ix) * in_c + c0 : 0);
      for (c = 0; c < group_c; ++c) {
        *col++ = inside ? src[c] : zero;
      }
    }
  }
}

void kws_conv(const kws_conv_t *p, const int8_t *input, int8_t *output, int8_t *col) {
  const output_stage_t s = output_stage(p);
  const int32_t groups = p->in_c / p->group_c, per_group = p->out_c / groups;
  const int32_t k = p->k_h * p->k_w * p->group_c, out_c = p->out_c;
  int32_t oy, ox, g;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox, output += out_c) {
      for (g = 0; g < groups; ++g) {
        load_patch(p, input, oy, ox, g * p->group_c, col);
        conv_pixel(&s, p->filter, col, k, g * per_group, (g + 1) * per_group, output);
      }
    }
  }
}

void kws_conv_1x1(const kws_conv_t *p, const int8_t *input, int8_t *output) {
  const output_stage_t s = output_stage(p);
  const int32_t in_c = p->in_c, out_c = p->out_c, out_w = p->out_w, out_h = p->out_h;
  const int32_t step = p->stride_w * in_c, row = p->stride_h * p->in_w * in_c;
  const int32_t *filter = p->filter;
  int32_t oy, ox;
  for (oy = 0; oy < out_h; ++oy) {
    const int8_t *x = input + oy * row;
    for (ox = 0; ox < out_w; ++ox, x += step, output += out_c) {
      conv_pixel(&s, filter, x, in_c, 0, out_c, output);
    }
  }
}

/* Points tap[ky * k_w + kx] at the input pixel under tap (ky, kx) of output
 * pixel (oy, ox), or at the zero point row outside the image. */
static void window_taps(const kws_conv_t *p, const int8_t *input, const int8_t *zero_row, int32_t oy, int32_t ox,
                        const int8_t **tap) {
  const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, k_w = p->k_w;
  const int32_t iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
  int32_t ky, kx;
  for (ky = 0; ky < p->k_h; ++ky) {
    const int32_t iy = iy0 + ky * p->dil_h;
    for (kx = 0; kx < k_w; ++kx) {
      const int32_t ix = ix0 + kx * p->dil_w;
      *tap++ = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w ? input + (iy * in_w + ix) * in_c : zero_row;
    }
  }
}

/* acc[j] += sum over taps t of tap[t][c + j] * w_t for channels c.. c + n - 1
 * (n = 4 or 1), taps paired as kws_conv_t's depthwise filter says. */
KWS_HOT void depthwise_channels(const int8_t *const *tap, int32_t pairs, int32_t c, const int32_t *w, int32_t *acc,
                                const int n) {
  int32_t t;
  int j;
#if KWS_DSP
  if (n == 4) { /* four channels of two taps: two SMLADs a channel pair */
    const int8_t *const *end = tap + 2 * pairs;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (; tap < end; tap += 2) {
      const uint32_t a = load32(tap[0] + c), b = load32(tap[1] + c);
      const uint32_t a02 = sxtb16(a), a13 = sxtb16_ror8(a), b02 = sxtb16(b), b13 = sxtb16_ror8(b);
      int32_t w0, w1, w2, w3;
      load_pair(&w, &w0, &w1);
      load_pair(&w, &w2, &w3);
      a0 = smlad(pack_low(a02, b02), w0, a0);
      a1 = smlad(pack_low(a13, b13), w1, a1);
      a2 = smlad(pack_high(a02, b02), w2, a2);
      a3 = smlad(pack_high(a13, b13), w3, a3);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    return;
  }
#endif
  for (t = 0; t < pairs; ++t, tap += 2, w += n) {
    KWS_UNROLL for (j = 0; j < n; ++j) {
      acc[j] += tap[0][c + j] * low16(w[j]) + tap[1][c + j] * high16(w[j]);
    }
  }
}

void kws_depthwise(const kws_conv_t *p, const int8_t *input, int8_t *output, int8_t *zero_row) {
  const output_stage_t s = output_stage(p);
  const int32_t channels = p->out_c, taps = p->k_h * p->k_w, pairs = (taps + 1) / 2;
  const int32_t *filter = p->filter;
  const int8_t *tap[KWS_DEPTHWISE_MAX_TAPS + 1];
  int32_t oy, ox, c, acc[4];
  memset(zero_row, -p->input_offset, (size_t)channels);
  tap[taps] = zero_row; /* partner of an odd last tap, whose weights are 0 */
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox, output += channels) {
      window_taps(p, input, zero_row, oy, ox, tap);
      for (c = 0; c + 4 <= channels; c += 4) {
        load_bias(&s, c, 4, acc);
        depthwise_channels(tap, pairs, c, filter + c * pairs, acc, 4);
        store_outputs(&s, acc, c, 4, output);
      }
      for (; c < channels; ++c) {
        load_bias(&s, c, 1, acc);
        depthwise_channels(tap, pairs, c, filter + c * pairs, acc, 1);
        store_outputs(&s, acc, c, 1, output);
      }
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Pooling                                                                   */

/* Inlined into both pools, so `average` is a constant in the inner loop;
 * locals, not p->..., as output stores may alias *p. */
KWS_HOT void pool(const kws_pool_t *p, const int8_t *input, int8_t *output, const int average) {
  const int32_t in_h = p->in_h, in_w = p->in_w, channels = p->channels, k_h = p->k_h, k_w = p->k_w;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  int32_t oy, ox, c, y, x;
  for (oy = 0; oy < p->out_h; ++oy) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t y0 = iy0 < 0 ? -iy0 : 0;
    const int32_t y1 = k_h < in_h - iy0 ? k_h : in_h - iy0;
    for (ox = 0; ox < p->out_w; ++ox, output += channels) {
      const int32_t ix0 = ox * p->stride_w - p->pad_w;
      const int32_t x0 = ix0 < 0 ? -ix0 : 0;
      const int32_t x1 = k_w < in_w - ix0 ? k_w : in_w - ix0;
      const int32_t count = (y1 - y0) * (x1 - x0);
      for (c = 0; c < channels; ++c) {
        int32_t acc = average ? 0 : -128;
        for (y = y0; y < y1; ++y) {
          const int8_t *v = input + ((iy0 + y) * in_w + ix0 + x0) * channels + c;
          for (x = x0; x < x1; ++x, v += channels) {
            acc = average ? acc + *v : (*v > acc ? *v : acc);
          }
        }
        if (average && count > 0) {
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        }
        output[c] = (int8_t)clamp(acc, act_min, act_max);
      }
    }
  }
}

void kws_average_pool(const kws_pool_t *p, const int8_t *input, int8_t *output) { pool(p, input, output, 1); }

void kws_max_pool(const kws_pool_t *p, const int8_t *input, int8_t *output) { pool(p, input, output, 0); }

/* ------------------------------------------------------------------------ */
/* ADD, MEAN                                                                 */

static int32_t scale_down(int32_t x, int32_t multiplier, int32_t shift) { /* ...SmallerThanOneExp */
  return divide_by_pot(high_mul(x, multiplier), -shift);
}

void kws_add(const kws_add_t *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  const int32_t total = p->dims[0] * p->dims[1] * p->dims[2] * p->dims[3];
  int32_t i;
  for (i = 0; i < total; ++i) {
    const int32_t a = (input1[offset_of(i, p->dims, p->stride1)] + p->offset1) * (1 << p->left_shift);
    const int32_t b = (input2[offset_of(i, p->dims, p->stride2)] + p->offset2) * (1 << p->left_shift);
    const int32_t sum = scale_down(a, p->multiplier1, p->shift1) + scale_down(b, p->multiplier2, p->shift2);
    const int32_t v = scale_down(sum, p->output_multiplier, p->output_shift) + p->output_offset;
    output[i] = (int8_t)clamp(v, p->act_min, p->act_max);
  }
}

void kws_mean(const kws_mean_t *p, const int8_t *input, int8_t *output) {
  const int32_t outputs = p->keep_count[0] * p->keep_count[1] * p->keep_count[2] * p->keep_count[3];
  const int32_t reduced = p->reduce_count[0] * p->reduce_count[1] * p->reduce_count[2] * p->reduce_count[3];
  int32_t o, r;
  for (o = 0; o < outputs; ++o) {
    const int8_t *base = input + offset_of(o, p->keep_count, p->keep_stride);
    int32_t sum = 0;
    for (r = 0; r < reduced; ++r) {
      sum += base[offset_of(r, p->reduce_count, p->reduce_stride)];
    }
    sum = requantize(sum - p->zero_point_sum, p->multiplier, p->shift);
    output[o] = (int8_t)clamp(sum + p->output_offset, -128, 127);
  }
}

/* ------------------------------------------------------------------------ */
/* SOFTMAX: gemmlowp fixed point, as TFLM's int8 reference softmax           */

/* exp(a) for a in [-1/4, 0), Q0.31 in and out (Taylor series around -1/8). */
static int32_t exp_on_interval(int32_t a) {
  const int32_t constant_term = 1895147668;     /* exp(-1/8) */
  const int32_t one_third = 715827883;
  const int32_t x = a + (1 << 28);
  const int32_t x2 = high_mul(x, x);
  const int32_t x3 = high_mul(x2, x);
  const int32_t x4 = high_mul(x2, x2);
  const int32_t poly = divide_by_pot(high_mul(divide_by_pot(x4, 2) + x3, one_third) + x2, 1);
  return constant_term + high_mul(constant_term, x + poly);
}

/* exp(a) for a <= 0 given in Q5.26; result in Q0.31. */
static int32_t exp_on_negative(int32_t a) {
  static const int32_t exp_of_minus_pot[7] = { /* exp(-1/4), exp(-1/2), ... exp(-16) */
    1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  const int32_t quarter = 1 << 24;
  const int32_t a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter;
  const int32_t remainder = a_mod_quarter_minus_quarter - a;
  int32_t result = exp_on_interval(a_mod_quarter_minus_quarter * 32); /* Q5.26 -> Q0.31 */
  int i;
  for (i = 0; i < 7; ++i) {
    if (remainder & (1 << (24 + i))) {
      result = high_mul(result, exp_of_minus_pot[i]);
    }
  }
  return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out (Newton-Raphson in Q2.29). */
static int32_t one_over_one_plus(int32_t a) {
  const int64_t sum = (int64_t)a + INT32_MAX;
  const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  int32_t x = 1515870810 + high_mul(half_denominator, -1010580540); /* 48/17 - 32/17 d */
  int i;
  for (i = 0; i < 3; ++i) {
    const int32_t one_minus_dx = (1 << 29) - high_mul(half_denominator, x);
    x += saturating_shift_left(high_mul(x, one_minus_dx), 2);
  }
  return saturating_shift_left(x, 1);
}

static int32_t leading_zeros(uint32_t x) {
  int32_t n = 0;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
}

static int32_t softmax_exp(const kws_softmax_t *p, int32_t diff) {
  return exp_on_negative(high_mul(shift_left(diff, p->input_left_shift), p->input_multiplier));
}

void kws_softmax(const kws_softmax_t *p, const int8_t *input, int8_t *output) {
  int32_t row, c;
  for (row = 0; row < p->rows; ++row) {
    const int8_t *in = input + row * p->depth;
    int8_t *out = output + row * p->depth;
    int32_t max = -128, sum = 0, headroom, scale, exponent;
    for (c = 0; c < p->depth; ++c) {
      max = in[c] > max ? in[c] : max;
    }
    for (c = 0; c < p->depth; ++c) {
      if (in[c] - max >= p->diff_min) {
        sum += divide_by_pot(softmax_exp(p, in[c] - max), 12); /* Q12.19 accumulator */
      }
    }
    headroom = leading_zeros((uint32_t)sum); /* sum > 0: the maximum contributes exp(0) */
    scale = one_over_one_plus((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
    exponent = (12 - headroom) + 31 - 8;
    for (c = 0; c < p->depth; ++c) {
      int32_t v = -128;
      if (in[c] - max >= p->diff_min) {
        v = clamp(divide_by_pot(high_mul(scale, softmax_exp(p, in[c] - max)), exponent) - 128, -128, 127);
      }
      out[c] = (int8_t)v;
    }
  }
}
