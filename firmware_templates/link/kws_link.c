/* kws serial link, device side (see kws_link.h for the protocol). */
#include "kws_link.h"

#include <stdio.h>
#include <string.h>

#define SYNC0 0xA5u
#define SYNC1 0x5Au
/* Frames this far behind the expected sequence number are resends of
 * frames already processed. */
#define DUPLICATE_SPAN (4u * KWS_LINK_WINDOW)

uint16_t kws_crc16(const uint8_t *data, size_t n, uint16_t crc)
{
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint16_t)((uint16_t)data[i] << 8);
    for (int bit = 0; bit < 8; bit++) {
      crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
  }
  return crc;
}

void kws_link_init(kws_link_t *link, kws_link_write_fn write, kws_link_frame_fn on_frame, void *ctx)
{
  memset(link, 0, sizeof *link);
  link->write = write;
  link->on_frame = on_frame;
  link->ctx = ctx;
}

void kws_link_send_control(kws_link_t *link, const char *body)
{
  char line[KWS_LINK_LINE_MAX];
  size_t room = sizeof line - 8; /* '~' + " *XXXX\n" */
  size_t n = strlen(body);
  if (n > room) {
    n = room;
  }
  line[0] = '~';
  memcpy(line + 1, body, n);
  uint16_t crc = kws_crc16((const uint8_t *)body, n, 0xFFFFu);
  snprintf(line + 1 + n, sizeof line - 1 - n, " *%04X\n", (unsigned)crc);
  link->write(line, n + 8);
}

static void send_seq(kws_link_t *link, const char *what, unsigned seq, const char *reason)
{
  char body[40];
  snprintf(body, sizeof body, reason ? "%s %u %s" : "%s %u", what, seq, reason);
  kws_link_send_control(link, body);
}

static void dispatch(kws_link_t *link, const kws_frame_t *frame)
{
  if (frame->type == KWS_FRAME_HELLO) {
    char body[48];
    link->on_frame(link->ctx, frame); /* e.g. the application repeats its boot banner */
    link->connected = 1;
    link->expected_seq = (uint8_t)(frame->seq + 1u);
    snprintf(body, sizeof body, "hello %d %d %d", KWS_LINK_PROTOCOL, KWS_LINK_WINDOW, KWS_LINK_MAX_PAYLOAD);
    kws_link_send_control(link, body);
    return;
  }
  if (!link->connected) {
    send_seq(link, "nak", 0, "hello");
    return;
  }
  uint8_t behind = (uint8_t)(link->expected_seq - frame->seq);
  if (behind == 0) {
    link->on_frame(link->ctx, frame);
    link->stats.frames++;
    link->expected_seq++;
    send_seq(link, "ack", frame->seq, NULL);
  } else if (behind <= DUPLICATE_SPAN) {
    link->stats.duplicates++;
    send_seq(link, "ack", frame->seq, NULL);
  } else {
    link->stats.order_errors++;
    send_seq(link, "nak", link->expected_seq, "order");
  }
}

static void drop_front(kws_link_t *link, size_t n)
{
  memmove(link->buf, link->buf + n, link->fill - n);
  link->fill -= n;
}

/* Take every complete frame out of buf. On a bad length or CRC drop one byte
 * and look for the next A5 5A among the bytes already held: a real frame may
 * hide behind garbage. Only when nothing is left to try is the loss NAKed
 * (a later frame arriving out of order NAKs it too). */
static void settle(kws_link_t *link)
{
  int lost = 0;
  for (;;) {
    size_t skip = 0;
    while (skip < link->fill &&
           !(link->buf[skip] == SYNC0 && (skip + 1 == link->fill || link->buf[skip + 1] == SYNC1))) {
      skip++;
    }
    if (skip) {
      link->stats.garbage += (uint32_t)skip;
      drop_front(link, skip);
    }
    if (link->fill < KWS_LINK_HEADER) {
      break;
    }
    size_t len = (size_t)link->buf[4] | ((size_t)link->buf[5] << 8);
    if (len > KWS_LINK_MAX_PAYLOAD) {
      link->stats.length_errors++;
      lost = 1;
      drop_front(link, 1);
      continue;
    }
    size_t total = KWS_LINK_HEADER + len + 2;
    if (link->fill < total) {
      break;
    }
    uint16_t want = (uint16_t)(link->buf[total - 2] | (link->buf[total - 1] << 8));
    if (kws_crc16(link->buf + 2, KWS_LINK_HEADER - 2 + len, 0xFFFFu) != want) {
      link->stats.crc_errors++;
      lost = 1;
      drop_front(link, 1);
      continue;
    }
    kws_frame_t frame = {link->buf[2], link->buf[3], (uint16_t)len, link->buf + KWS_LINK_HEADER};
    dispatch(link, &frame);
    drop_front(link, total);
    lost = 0;
  }
  if (lost && link->fill == 0) {
    send_seq(link, "nak", link->expected_seq, "crc");
  }
}

void kws_link_receive(kws_link_t *link, const uint8_t *data, size_t n, uint32_t now_ms)
{
  for (size_t i = 0; i < n; i++) {
    if (link->fill == 0) {
      link->started_ms = now_ms;
    }
    link->buf[link->fill++] = data[i];
    settle(link);
  }
}

void kws_link_poll(kws_link_t *link, uint32_t now_ms)
{
  if (link->fill > 0 && now_ms - link->started_ms > KWS_LINK_FRAME_TIMEOUT_MS) {
    link->stats.timeouts++;
    link->fill = 0;
    send_seq(link, "nak", link->expected_seq, "timeout");
  }
}
