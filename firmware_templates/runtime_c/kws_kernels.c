/* kws runtime "c": int8 kernels bit-exact with TFLM's reference kernels.
 * See kws_kernels.h. The arithmetic follows TFLM's documented integer rules:
 * SaturatingRoundingDoublingHighMul + RoundingDivideByPOT (double rounding),
 * 32-bit accumulators, zero padding by skipping (here: by feeding the input
 * zero point, whose offset-corrected value is 0), gemmlowp fixed-point exp and
 * reciprocal for softmax. */
#include "kws_kernels.h"

#include <string.h>

/* The hot helpers are inlined even at -Os: a call per tap group or per
 * output value costs more than the few bytes of code saved. */
#if defined(__GNUC__)
#define KWS_HOT static inline __attribute__((always_inline))
#else
#define KWS_HOT static inline
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

/* MultiplyByQuantizedMultiplier (double rounding): x * multiplier / 2^31 * 2^shift. */
KWS_HOT int32_t requantize(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return divide_by_pot(high_mul(shift_left(x, left), multiplier), right);
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

static inline uint32_t sxtab16(uint32_t a, uint32_t x) { /* a + bytes 0 and 2, per half */
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(x));
  return r;
}

static inline uint32_t sxtab16_ror8(uint32_t a, uint32_t x) { /* a + bytes 1 and 3, per half */
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}

static inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc) { /* acc + a.lo*b.lo + a.hi*b.hi */
  int32_t r;
  __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}

#define KWS_MAC_WORD(acc, word)                         \
  do {                                                  \
    const uint32_t wv = (word);                         \
    acc = smlad(x02, sxtb16(wv), acc);                  \
    acc = smlad(x13, sxtb16_ror8(wv), acc);             \
  } while (0)
#endif

/* Four filter rows interleaved by words: for each group of 4 taps, 4 bytes of
 * row 0, then of rows 1, 2, 3 (kws export lays filters out so). */
static void dot4(const int8_t *x, const int8_t *w, int32_t k, int32_t offset, int32_t *acc) {
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t i = 0;
#if KWS_DSP
  const uint32_t offset2 = ((uint32_t)offset & 0xFFFFu) * 0x10001u;
  for (; i + 4 <= k; i += 4) {
    const int8_t *g = w + i * 4; /* the 16 bytes of this group of 4 taps */
    const uint32_t xv = load32(x + i);
    const uint32_t x02 = sxtab16(offset2, xv);
    const uint32_t x13 = sxtab16_ror8(offset2, xv);
    KWS_MAC_WORD(a0, load32(g));
    KWS_MAC_WORD(a1, load32(g + 4));
    KWS_MAC_WORD(a2, load32(g + 8));
    KWS_MAC_WORD(a3, load32(g + 12));
  }
#endif
  for (; i < k; ++i) {
    const int32_t v = x[i] + offset;
    const int8_t *t = w + (i & ~3) * 4 + (i & 3); /* tap i of row 0; rows are 4 bytes apart */
    a0 += v * t[0];
    a1 += v * t[4];
    a2 += v * t[8];
    a3 += v * t[12];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

static int32_t dot1(const int8_t *x, const int8_t *w, int32_t k, int32_t offset, int32_t a0) {
  int32_t i = 0;
#if KWS_DSP
  const uint32_t offset2 = ((uint32_t)offset & 0xFFFFu) * 0x10001u;
  for (; i + 4 <= k; i += 4) {
    const uint32_t xv = load32(x + i);
    const uint32_t x02 = sxtab16(offset2, xv);
    const uint32_t x13 = sxtab16_ror8(offset2, xv);
    KWS_MAC_WORD(a0, load32(w + i));
  }
#endif
  for (; i < k; ++i) {
    a0 += (x[i] + offset) * w[i];
  }
  return a0;
}

/* ------------------------------------------------------------------------ */
/* Convolution (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED)                 */

/* Copies the receptive field of output pixel (oy, ox), channels
 * [c0, c0 + group_c), into col as [k_h][k_w][group_c]; outside the image the
 * input zero point stands in, which contributes 0 like TFLM's skipped taps. */
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
  /* Locals, not p->..., in the loops: stores through int8_t* may alias *p. */
  const int32_t groups = p->in_c / p->group_c, per_group = p->out_c / groups;
  const int32_t k = p->k_h * p->k_w * p->group_c;
  const int32_t k4 = (k + 3) & ~3; /* bytes per filter row, zero padded */
  const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0 && groups == 1;
  const int32_t out_c = p->out_c, input_offset = p->input_offset, output_offset = p->output_offset;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  const int8_t *filter = p->filter, *shift = p->shift;
  const int32_t *bias = p->bias, *multiplier = p->multiplier;
  int32_t oy, ox, g, oc, r;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      int8_t *out = output + (oy * p->out_w + ox) * out_c;
      const int8_t *patch = direct ? input + (oy * p->stride_h * p->in_w + ox * p->stride_w) * p->in_c : col;
      for (g = 0; g < groups; ++g) {
        const int32_t end = (g + 1) * per_group;
        if (!direct) {
          load_patch(p, input, oy, ox, g * p->group_c, col);
        }
        for (oc = g * per_group; oc < end; oc += r) {
          int32_t acc[4] = {0, 0, 0, 0};
          const int32_t rows = end - oc >= 4 ? 4 : 1;
          for (r = 0; r < rows; ++r) {
            acc[r] = bias ? bias[oc + r] : 0;
          }
          if (rows == 4) {
            dot4(patch, filter + oc * k4, k, input_offset, acc);
          } else {
            acc[0] = dot1(patch, filter + oc * k4, k, input_offset, acc[0]);
          }
          for (r = 0; r < rows; ++r) {
            const int32_t v = requantize(acc[r], multiplier[oc + r], shift[oc + r]) + output_offset;
            out[oc + r] = (int8_t)clamp(v, act_min, act_max);
          }
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Pooling                                                                   */

static void pool(const kws_pool_t *p, const int8_t *input, int8_t *output, int average) {
  int32_t oy, ox, c, y, x;
  for (oy = 0; oy < p->out_h; ++oy) {
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t y0 = iy0 < 0 ? -iy0 : 0;
    const int32_t y1 = p->k_h < p->in_h - iy0 ? p->k_h : p->in_h - iy0;
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t ix0 = ox * p->stride_w - p->pad_w;
      const int32_t x0 = ix0 < 0 ? -ix0 : 0;
      const int32_t x1 = p->k_w < p->in_w - ix0 ? p->k_w : p->in_w - ix0;
      const int32_t count = (y1 - y0) * (x1 - x0);
      for (c = 0; c < p->channels; ++c) {
        int32_t acc = average ? 0 : -128;
        for (y = y0; y < y1; ++y) {
          const int8_t *row = input + ((iy0 + y) * p->in_w + ix0) * p->channels + c;
          for (x = x0; x < x1; ++x) {
            const int32_t v = row[x * p->channels];
            if (average) {
              acc += v;
            } else if (v > acc) {
              acc = v;
            }
          }
        }
        if (average && count > 0) {
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        }
        output[(oy * p->out_w + ox) * p->channels + c] = (int8_t)clamp(acc, p->act_min, p->act_max);
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
