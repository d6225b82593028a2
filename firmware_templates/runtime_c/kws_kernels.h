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

/* CONV_2D, DEPTHWISE_CONV_2D (as a grouped convolution with group_c == 1)
 * and FULLY_CONNECTED (as a 1x1 convolution over in_w = batches). */
typedef struct {
  int32_t in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t k_h, k_w, group_c;        /* filter rows of k_h * k_w * group_c taps (see kws_conv) */
  int32_t stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
  int32_t input_offset;             /* -input zero point */
  int32_t output_offset;            /* output zero point */
  int32_t act_min, act_max;
  const int8_t *filter;
  const int32_t *bias;              /* [out_c] or NULL */
  const int32_t *multiplier;        /* [out_c] */
  const int8_t *shift;              /* [out_c], > 0 shifts left */
} kws_conv_t;

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

/* Filter layout (written by kws export): each row (output channel) holds its
 * k = k_h * k_w * group_c taps zero padded to k4 = (k + 3) & ~3 bytes; within
 * each group of input channels, rows go in blocks of four interleaved by
 * words (taps 0-3 of rows 0..3, then taps 4-7 of rows 0..3, ...), any last
 * one to three rows plainly. `col` needs k bytes unless the filter is 1x1
 * without padding. */
void kws_conv(const kws_conv_t *p, const int8_t *input, int8_t *output, int8_t *col);
void kws_average_pool(const kws_pool_t *p, const int8_t *input, int8_t *output);
void kws_max_pool(const kws_pool_t *p, const int8_t *input, int8_t *output);
void kws_add(const kws_add_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void kws_mean(const kws_mean_t *p, const int8_t *input, int8_t *output);
void kws_softmax(const kws_softmax_t *p, const int8_t *input, int8_t *output);

#endif /* KWS_KERNELS_H */
