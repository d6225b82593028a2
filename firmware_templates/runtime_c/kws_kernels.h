/* kws runtime "c": int8 kernels with TensorFlow Lite Micro's reference integer
 * arithmetic (double-rounding MultiplyByQuantizedMultiplier, gemmlowp-style
 * fixed-point softmax), so outputs are bit-exact with TFLM's reference kernels.
 *
 * C99, no malloc: every buffer comes from the caller (the generated model's
 * static memory plan). On Cortex-M cores with the DSP extension
 * (__ARM_FEATURE_DSP) the multiply-accumulate loops use SMLAD; elsewhere a
 * portable loop computes the same sums. All tensors are NHWC with batch 1.
 */
#ifndef KWS_KERNELS_H
#define KWS_KERNELS_H

#include <stdint.h>

/* CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (as a 1x1 convolution over
 * in_w = batches). Kernels read in_h, out_h, pad_h and the strides at run
 * time, so a caller may run a slice of rows: the same struct with fewer rows,
 * pad_h = 0 and the input pointer moved by whole rows. */
typedef struct {
  int32_t in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t k_h, k_w, group_c;        /* filter rows of k = k_h * k_w * group_c taps */
  int32_t stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
  int32_t input_offset;             /* -input zero point (fills padding) */
  int32_t output_offset;            /* output zero point */
  int32_t act_min, act_max;
  int32_t requant_kind;             /* KWS_REQUANT_WIDE or KWS_REQUANT_SHORT */
  const int32_t *filter;            /* int16 pairs, see the layouts below (doubled for SHORT) */
  const int32_t *bias;              /* [out_c]: bias + input_offset x filter row sum (doubled for SHORT) */
  const int32_t *requant;           /* [out_c][4], see KWS_REQUANT_* */
} kws_conv_t;

/* Requantization of a channel's sum (TFLM's double-rounding
 * MultiplyByQuantizedMultiplier, then + output zero point):
 * WIDE: multiplier, ~shift (shift > 0: left), and for shift = -e < 0 the
 *   rounding 2^30 + 2^(30 + e) (low, high) of one 64-bit sum.
 * SHORT: multiplier, 2^(e - 1) + output zero point x 2^e, e, 0; for layers
 *   whose every channel shifts right (1 <= e <= 30) and whose sums stay below
 *   2^30 for any input. Filters and bias are stored doubled, so the sum
 *   arrives doubled and the high multiply is one rounded 32-bit SMMULR. */
#define KWS_REQUANT_WIDE 0
#define KWS_REQUANT_SHORT 1

/* AVERAGE_POOL_2D and MAX_POOL_2D. */
typedef struct {
  int32_t in_h, in_w, channels, out_h, out_w;
  int32_t k_h, k_w, stride_h, stride_w, pad_h, pad_w;
  int32_t act_min, act_max;
} kws_pool_t;

/* ADD with broadcasting over up to 4 dimensions (a stride of 0 repeats). */
typedef struct {
  int32_t dims[4];
  int32_t stride1[4], stride2[4];
  int32_t offset1, offset2, output_offset, left_shift;
  int32_t multiplier1, multiplier2, output_multiplier;
  int32_t shift1, shift2, output_shift;
  int32_t act_min, act_max;
} kws_add_t;

/* MEAN over any set of axes: outer loops over the kept dimensions, inner
 * loops over the reduced ones (counts and input strides for each). */
typedef struct {
  int32_t keep_count[4], keep_stride[4];
  int32_t reduce_count[4], reduce_stride[4];
  int32_t zero_point_sum;           /* input zero point x elements reduced */
  int32_t multiplier, shift, output_offset;
} kws_mean_t;

/* SOFTMAX over the last dimension, int8 in, int8 out (scale 1/256, zp -128). */
typedef struct {
  int32_t rows, depth;
  int32_t input_multiplier, input_left_shift, diff_min;
} kws_softmax_t;

/* The input offset is folded into the bias by kws export, so the kernels
 * sum x * w only. Filters hold int16 pairs, one per word (low half first),
 * so a word feeds one SMLAD.
 *
 * kws_conv, kws_conv_1x1: per group of input channels, output channels in
 * blocks of four, then any last one to three singly; a block of R rows of k
 * taps holds, for each 4 taps i..i+3, per row the pairs (w[i], w[i+2]) and
 * (w[i+1], w[i+3]); then, for each of the last k % 4 taps, per row one word
 * holding the tap. kws_conv copies each patch to `col` (k bytes) and is the
 * general path; kws_conv_1x1 (1x1 filter, no padding, one group) reads the
 * input pixels in place. */
void kws_conv(const kws_conv_t *p, const int8_t *input, int8_t *output, int8_t *col);
void kws_conv_1x1(const kws_conv_t *p, const int8_t *input, int8_t *output);

/* kws_depthwise: DEPTHWISE_CONV_2D with depth multiplier 1 and at most
 * KWS_DEPTHWISE_MAX_TAPS taps. Taps go in pairs (t, t + 1) in raster order, a
 * last odd tap with a zero partner; channels in blocks of four, then singly;
 * a block of n channels holds per pair of taps, per channel, the pair
 * (w[t], w[t + 1]). `zero_row` (in_c bytes, filled with the input zero point)
 * stands in for taps outside the image. */
#define KWS_DEPTHWISE_MAX_TAPS 32
void kws_depthwise(const kws_conv_t *p, const int8_t *input, int8_t *output, int8_t *zero_row);

void kws_average_pool(const kws_pool_t *p, const int8_t *input, int8_t *output);
void kws_max_pool(const kws_pool_t *p, const int8_t *input, int8_t *output);
void kws_add(const kws_add_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void kws_mean(const kws_mean_t *p, const int8_t *input, int8_t *output);
void kws_softmax(const kws_softmax_t *p, const int8_t *input, int8_t *output);

#endif /* KWS_KERNELS_H */
