/* kws serial link, device side: a framed, CRC-checked binary channel from
 * the host (streamed audio, commands) beside human-readable text lines to
 * the host. C99, no malloc, no board dependencies (the board's write and
 * clock functions are passed in), so it also builds and runs on the host.
 *
 * Host -> device frame (all integers little-endian):
 *     A5 5A | type u8 | seq u8 | len u16 | payload[len] | crc16 u16
 * crc16 is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over type..payload.
 *
 * Device -> host: text lines ending in "\n". Control lines start with '~'
 * and end with " *XXXX", the CRC-16 (4 hex digits) of the text between them:
 *     ~hello <protocol> <window> <max_payload>   answer to a HELLO frame
 *     ~ack <seq>                                 frame seq was processed
 *     ~nak <expected_seq> <reason>               frame lost: crc|order|length|timeout|hello
 * and the application's own (e.g. ~result ...). Every other line (boot
 * banner, "Heard ...", logs) is for people.
 *
 * Reliability: the device processes frames strictly in sequence order and
 * acknowledges each after processing it; the host keeps at most
 * KWS_LINK_WINDOW frames unacknowledged, fewer when the board's receive
 * buffer (its board file's [serial] rx_buffer) holds fewer frames of
 * KWS_LINK_FRAME_MAX bytes, and resends from the NAKed or timed-out frame
 * (go-back-N). A duplicate (already processed) frame is acknowledged again
 * without processing. After a CRC or length error the parser rescans the
 * bytes it held for the next A5 5A, so garbage, dropped bytes and corrupted
 * frames cost only a resend. A frame left incomplete for
 * KWS_LINK_FRAME_TIMEOUT_MS is dropped. Frames other than HELLO before the
 * first HELLO (e.g. after the device rebooted) are answered "~nak 0 hello".
 */
#ifndef KWS_LINK_H
#define KWS_LINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_LINK_PROTOCOL 1
#define KWS_LINK_MAX_PAYLOAD 256
#define KWS_LINK_WINDOW 3
#define KWS_LINK_FRAME_TIMEOUT_MS 500u
#define KWS_LINK_HEADER 6
#define KWS_LINK_FRAME_MAX (KWS_LINK_HEADER + KWS_LINK_MAX_PAYLOAD + 2)
#define KWS_LINK_LINE_MAX 256

enum {
  KWS_FRAME_HELLO = 'H', /* payload: host protocol version (u8) */
  KWS_FRAME_BEGIN = 'B', /* start of an evaluation clip (payload: u32 clip id) */
  KWS_FRAME_AUDIO = 'A', /* int16 little-endian samples */
  KWS_FRAME_END = 'E',   /* end of the clip: classify it */
  KWS_FRAME_RECORD = 'R' /* send the microphone's next N samples (payload: u32 N) */
};

typedef struct {
  uint8_t type;
  uint8_t seq;
  uint16_t len;
  const uint8_t *payload;
} kws_frame_t;

typedef void (*kws_link_write_fn)(const void *data, size_t n);
/* Called for each new in-order frame, which is acknowledged when it returns,
 * and for each HELLO before its answer. */
typedef void (*kws_link_frame_fn)(void *ctx, const kws_frame_t *frame);

typedef struct {
  uint32_t frames;       /* processed */
  uint32_t duplicates;   /* re-acknowledged without processing */
  uint32_t crc_errors;
  uint32_t length_errors;
  uint32_t order_errors; /* a frame arrived after a lost one */
  uint32_t timeouts;     /* incomplete frames dropped */
  uint32_t garbage;      /* bytes skipped while looking for A5 5A */
} kws_link_stats_t;

typedef struct {
  kws_link_write_fn write;
  kws_link_frame_fn on_frame;
  void *ctx;
  uint8_t buf[KWS_LINK_FRAME_MAX];
  size_t fill;
  uint32_t started_ms;
  uint8_t expected_seq;
  int connected; /* a HELLO was seen */
  kws_link_stats_t stats;
} kws_link_t;

void kws_link_init(kws_link_t *link, kws_link_write_fn write, kws_link_frame_fn on_frame, void *ctx);
/* Feed received bytes; calls on_frame for complete, valid, in-order frames. */
void kws_link_receive(kws_link_t *link, const uint8_t *data, size_t n, uint32_t now_ms);
/* Drop a frame that stopped arriving; call regularly (e.g. each main loop). */
void kws_link_poll(kws_link_t *link, uint32_t now_ms);
/* Send "~<body> *XXXX\n" (body is truncated to fit KWS_LINK_LINE_MAX). */
void kws_link_send_control(kws_link_t *link, const char *body);
uint16_t kws_crc16(const uint8_t *data, size_t n, uint16_t crc);

#ifdef __cplusplus
}
#endif

#endif /* KWS_LINK_H */
