/* The shared firmware core (see kws_app.h). C99, no malloc. */
#include "kws_app.h"

#include <stdio.h>
#include <string.h>

#include "kws_app_config.h"
#include "kws_board.h"
#include "kws_frontend.h"
#include "kws_link.h"
#include "kws_load.h"
#include "kws_model.h"
#include "kws_ring.h"
#include "kws_smoothing.h"

#if KWS_MODEL_INPUT_BYTES != KWS_FE_NUM_FRAMES * KWS_FE_NUM_CHANNELS
#error "the model input does not match the frontend's frames x channels; re-export the model with its frontend"
#endif
#if KWS_MODEL_STREAM_FRAMES > 0 && KWS_MODEL_STREAM_FRAMES != KWS_INFER_EVERY_FRAMES
#error "the model streams another inference period than the app runs; re-export the model and the project together"
#endif
#if KWS_MODEL_OUTPUT_COUNT != KWS_LABEL_COUNT
#error "the model has a different number of outputs than labels"
#endif
/* Features are int8 and go into the model's input as they are; scores are
 * the int8 softmax output, which smoothing reads as it is. */
typedef char kws_input_must_be_8_bit[sizeof(kws_input_t) == 1 ? 1 : -1];
typedef char kws_output_must_be_8_bit[sizeof(kws_output_t) == 1 ? 1 : -1];

#define MIC_CHUNK 256
/* Samples per "~pcm <base64>" line while recording: 180 bytes -> 240
 * characters, within a control line (KWS_LINK_LINE_MAX). */
#define PCM_LINE_SAMPLES 90

static const char *const labels[KWS_LABEL_COUNT] = KWS_LABELS;

static struct {
  kws_link_t link;
  kws_ring_t ring;
  kws_frontend_t frontend;
  kws_smoothing_t smoothing;
  int8_t window[KWS_FE_NUM_FRAMES][KWS_FE_NUM_CHANNELS]; /* circular, by frame */
  uint32_t next_row;    /* where the next frame goes = the oldest frame */
  uint32_t frames;      /* since the last reset */
  uint32_t audio_ms;    /* audio time since boot: the clock of smoothing and of "Heard ... @ms" */
  uint32_t since_infer; /* frames since the last inference */
  uint32_t frontend_us; /* frontend time since the last reset */
  uint32_t model_us;    /* time of the last inference */
  int8_t scores[KWS_LABEL_COUNT]; /* of the last inference */
  int evaluating;       /* inside a BEGIN ... END clip */
  uint32_t clip_id;
  uint32_t record_left; /* samples still to send for a RECORD request */
  int model_ready;
  int led_on;
  uint32_t led_off_ms;
} app;

static void print_line(const char *text)
{
  kws_board_write(text, strlen(text));
  kws_board_write("\n", 1);
}

static void reset_stream(void)
{
#if KWS_MODEL_STREAM_FRAMES > 0
  kws_model_stream_reset();
#endif
  kws_frontend_init(&app.frontend);
  memset(app.window, 0, sizeof app.window);
  app.next_row = 0;
  app.frames = 0;
  app.since_infer = 0;
  app.frontend_us = 0;
}

/* Copy the newest `count` frames of the window, oldest first, to `input`. */
static void copy_frames(int8_t *input, uint32_t count)
{
  for (uint32_t i = 0; i < count; i++) {
    uint32_t row = (app.next_row + KWS_FE_NUM_FRAMES - count + i) % KWS_FE_NUM_FRAMES;
    memcpy(input + i * KWS_FE_NUM_CHANNELS, app.window[row], KWS_FE_NUM_CHANNELS);
  }
}

/* Run the model: the whole window, or (streaming) only its newest frames. */
static int run_model(int streaming)
{
  uint32_t start = kws_board_micros();
  int status;
#if KWS_MODEL_STREAM_FRAMES > 0
  if (streaming) {
    copy_frames((int8_t *)kws_model_stream_input(), KWS_MODEL_STREAM_FRAMES);
    status = kws_model_stream_invoke();
  } else
#endif
  {
    (void)streaming;
    copy_frames((int8_t *)kws_model_input(), KWS_FE_NUM_FRAMES);
    status = kws_model_invoke();
  }
  app.model_us = kws_board_micros() - start;
  if (status != 0) {
    char line[KWS_LINK_LINE_MAX];
    snprintf(line, sizeof line, "Model error: %s", kws_model_error());
    print_line(line);
    return status;
  }
  memcpy(app.scores, kws_model_output(), sizeof app.scores);
  return 0;
}

void __attribute__((weak)) kws_on_keyword(const char *label, uint8_t score)
{
  (void)label;
  (void)score;
  kws_board_led(1);
  app.led_on = 1;
  app.led_off_ms = kws_board_millis() + KWS_LED_BLINK_MS;
}

static void detect(void)
{
  kws_detection_t heard;
  /* Audio time, not the board's clock: averaging windows and suppression are
   * spans of audio, also when a host streams faster or slower than real time. */
  if (kws_smoothing_update(&app.smoothing, app.scores, app.audio_ms, &heard) == 1) {
    char line[96];
    snprintf(line, sizeof line, "Heard %s (0.%02u) @%lums", labels[heard.label],
             (unsigned)(heard.score * 100u / 256u), (unsigned long)heard.time_ms);
    print_line(line);
    kws_on_keyword(labels[heard.label], heard.score);
  }
}

static void add_frame(const int8_t *frame)
{
  memcpy(app.window[app.next_row], frame, KWS_FE_NUM_CHANNELS);
  app.next_row = (app.next_row + 1u) % KWS_FE_NUM_FRAMES;
  app.frames++;
  app.since_infer++;
  app.audio_ms += KWS_FE_STRIDE_SAMPLES * 1000u / KWS_FE_SAMPLE_RATE;
  if (app.evaluating || !app.model_ready || app.since_infer < KWS_INFER_EVERY_FRAMES) {
    return;
  }
#if KWS_MODEL_STREAM_FRAMES > 0
  /* Streaming: every period from the reset on, so that the model's state
   * covers the window once the window is full. */
  app.since_infer = 0;
  if (run_model(1) == 0 && app.frames >= KWS_FE_NUM_FRAMES) {
    detect();
  }
#else
  if (app.frames >= KWS_FE_NUM_FRAMES) {
    app.since_infer = 0;
    if (run_model(0) == 0) {
      detect();
    }
  }
#endif
}

/* Run every buffered sample through the frontend. */
static int drain_ring(void)
{
  const int16_t *samples;
  size_t n;
  int worked = 0;
  while ((n = kws_ring_peek(&app.ring, &samples)) > 0) {
    int8_t frame[KWS_FE_NUM_CHANNELS];
    int ready = 0;
    uint32_t start = kws_board_micros();
    size_t used = kws_frontend_feed(&app.frontend, samples, n, frame, NULL, &ready);
    app.frontend_us += kws_board_micros() - start;
    kws_ring_consume(&app.ring, used);
    kws_load_audio(used);
    if (ready) {
      add_frame(frame);
    }
    worked = 1;
  }
  return worked;
}

static void push_audio(const uint8_t *bytes, size_t n)
{
  int16_t samples[KWS_LINK_MAX_PAYLOAD / 2];
  size_t count = n / 2;
  for (size_t i = 0; i < count; i++) {
    samples[i] = (int16_t)(uint16_t)(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  }
  kws_ring_write(&app.ring, samples, count);
  drain_ring();
}

static void finish_clip(void)
{
  char body[KWS_LINK_LINE_MAX];
  int used = snprintf(body, sizeof body, "result id=%lu frames=%lu scores=", (unsigned long)app.clip_id,
                      (unsigned long)app.frames);
  int ok = app.model_ready && run_model(0) == 0;
  for (int i = 0; i < KWS_LABEL_COUNT && used < (int)sizeof body; i++) {
    used += snprintf(body + used, sizeof body - (size_t)used, i ? ",%d" : "%d", ok ? app.scores[i] + 128 : 0);
  }
  if (used < (int)sizeof body) {
    snprintf(body + used, sizeof body - (size_t)used, " fe_us=%lu nn_us=%lu%s", (unsigned long)app.frontend_us,
             (unsigned long)app.model_us, ok ? "" : " error=model");
  }
  kws_link_send_control(&app.link, body);
  app.evaluating = 0;
  reset_stream();
}

/* One line with firmware and model identity; at boot and on each HELLO (a
 * host that opened the port after boot still learns what runs here). */
static void print_banner(void)
{
  char line[KWS_LINK_LINE_MAX];
  snprintf(line, sizeof line,
           "KWS fw=%s kws=%s board=%s model=%s runtime=%s labels=%d arena=%lu proto=%d mic=%d status=%s clock=%luMHz",
           KWS_FIRMWARE_ID, KWS_VERSION, KWS_BOARD_NAME, KWS_MODEL_ID, KWS_MODEL_RUNTIME, KWS_LABEL_COUNT,
           (unsigned long)(app.model_ready ? kws_model_arena_used_bytes() : 0u), KWS_LINK_PROTOCOL, KWS_HAS_MIC,
           app.model_ready ? "ok" : "model-error", (unsigned long)kws_load_clock_mhz());
  print_line(line);
  if (!app.model_ready) {
    snprintf(line, sizeof line, "Model error: %s", kws_model_error());
    print_line(line);
  }
}

static uint32_t read_u32(const kws_frame_t *frame)
{
  const uint8_t *p = frame->payload;
  return frame->len < 4 ? 0u : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t base64(const uint8_t *in, size_t n, char *out)
{
  static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0u) | (i + 2 < n ? in[i + 2] : 0u);
    out[o++] = digits[(v >> 18) & 63u];
    out[o++] = digits[(v >> 12) & 63u];
    out[o++] = i + 1 < n ? digits[(v >> 6) & 63u] : '=';
    out[o++] = i + 2 < n ? digits[v & 63u] : '=';
  }
  out[o] = '\0';
  return o;
}

/* While recording, microphone samples go to the host as "~pcm" lines. */
static int send_recording(void)
{
  const int16_t *samples;
  size_t n = kws_ring_peek(&app.ring, &samples);
  if (n > PCM_LINE_SAMPLES) {
    n = PCM_LINE_SAMPLES;
  }
  if (n > app.record_left) {
    n = app.record_left;
  }
  if (n > 0) {
    uint8_t bytes[2 * PCM_LINE_SAMPLES];
    char body[8 + 4 * PCM_LINE_SAMPLES]; /* "pcm " + 4 characters per 3 bytes */
    for (size_t i = 0; i < n; i++) {
      bytes[2 * i] = (uint8_t)((uint16_t)samples[i] & 0xFFu);
      bytes[2 * i + 1] = (uint8_t)((uint16_t)samples[i] >> 8);
    }
    memcpy(body, "pcm ", 4);
    base64(bytes, 2 * n, body + 4);
    kws_link_send_control(&app.link, body);
    kws_ring_consume(&app.ring, n);
    app.record_left -= (uint32_t)n;
  }
  if (app.record_left == 0) {
    char end[32];
    snprintf(end, sizeof end, "pcm end %lu", (unsigned long)app.ring.dropped);
    kws_link_send_control(&app.link, end);
  }
  return n > 0;
}

static void on_frame(void *ctx, const kws_frame_t *frame)
{
  (void)ctx;
  switch (frame->type) {
  case KWS_FRAME_HELLO: /* a new host session: forget any half-sent clip or recording */
    kws_ring_init(&app.ring);
    reset_stream();
    app.evaluating = 0;
    app.record_left = 0;
    print_banner();
    break;
  case KWS_FRAME_BEGIN:
    kws_ring_init(&app.ring);
    reset_stream();
    app.evaluating = 1;
    app.clip_id = read_u32(frame);
    break;
  case KWS_FRAME_AUDIO:
    push_audio(frame->payload, frame->len);
    break;
  case KWS_FRAME_END:
    finish_clip();
    break;
  case KWS_FRAME_RECORD:
    kws_ring_init(&app.ring);
    app.record_left = read_u32(frame);
    break;
  default:
    break;
  }
}

void kws_app_init(void)
{
  kws_ring_init(&app.ring);
  reset_stream();
  static const kws_smoothing_config_t smoothing = {
      KWS_APP_AVERAGE_WINDOW_MS, KWS_APP_SUPPRESSION_MS, KWS_APP_KEYWORD_MASK,
      KWS_APP_THRESHOLD,         KWS_APP_MINIMUM_COUNT,  KWS_LABEL_COUNT};
  kws_smoothing_init(&app.smoothing, &smoothing);
  kws_link_init(&app.link, kws_board_write, on_frame, NULL);
  app.model_ready = kws_model_init() == 0;
  print_banner();
}

void kws_app_poll(void)
{
  uint8_t bytes[64];
  size_t n;
  int worked = 0;
  uint32_t start = kws_load_begin();
  while ((n = kws_board_read(bytes, sizeof bytes)) > 0) {
    kws_link_receive(&app.link, bytes, n, kws_board_millis());
    worked = 1;
  }
  kws_link_poll(&app.link, kws_board_millis());
  /* A host session replaces the microphone (until reboot), except while
   * the host records from it. */
  if (!app.link.connected || app.record_left > 0) {
    int16_t samples[MIC_CHUNK];
    if ((n = kws_board_mic_read(samples, MIC_CHUNK)) > 0) {
      kws_ring_write(&app.ring, samples, n);
      worked = 1;
    }
    worked |= app.record_left > 0 ? send_recording() : drain_ring();
  }
  if (app.led_on && (int32_t)(kws_board_millis() - app.led_off_ms) >= 0) {
    kws_board_led(0);
    app.led_on = 0;
  }
  kws_load_report(app.ring.dropped);
  kws_load_end(start, worked);
  if (!worked) {
    kws_board_idle();
  }
}
