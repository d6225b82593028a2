/* Host driver for firmware_templates/boards/arduino/kws_mic_i2s.cpp built
 * against the stand-in I2S.h in tests/c/arduino: an I2S input that behaves
 * as arduino-pico's (fdd7557) AudioBufferManager does for input: a fixed set
 * of buffers of bufferWords 32-bit words; the DMA fills one at a time and, at
 * each completed buffer, its interrupt queues it for the program if an empty
 * buffer is left (else flags an overflow and the buffer is overwritten), then
 * calls the onReceive callback. The program reads words from the queued
 * buffers. The driver plays 1 s of a counting signal while the main loop
 * (kws_board_mic_read) runs only between long "inferences", and prints what
 * arrived for tests/test_board_arduino_firmware.py. */
#include <stdio.h>

#include "I2S.h"
#include "kws_board.h"

void kws_mic_init(void);

static const size_t MAX_BUFFERS = 64, MAX_WORDS = 1024;
static int32_t buffers[MAX_BUFFERS][MAX_WORDS];
static size_t count, words;           /* setBuffers */
static size_t queued, read_buffer, read_word; /* filled buffers: queued of them from read_buffer on */
static bool overflow;
static void (*callback)(void);
static int32_t next_sample = 1;       /* the signal: 1, 2, 3, ... in the left slot */
static bool running;

I2S::I2S(PinMode direction) { (void)direction; }
I2S::~I2S() {}
bool I2S::setBCLK(pin_size_t pin) { return pin == KWS_TEST_SCK; }
bool I2S::setDATA(pin_size_t pin) { return pin == KWS_TEST_SD; }
bool I2S::setBitsPerSample(int bps) { return bps == 32; }
bool I2S::setBuffers(size_t buffers_, size_t buffer_words, int32_t silence)
{
  (void)silence;
  count = buffers_;
  words = buffer_words;
  return count >= 3 && count <= MAX_BUFFERS && words >= 8 && words <= MAX_WORDS && !running;
}
bool I2S::begin(long rate)
{
  running = rate == 16000 && count > 0;
  return running;
}
int I2S::available() { return (int)(queued * words - read_word) * 4; }
int I2S::read() { return 0; }
size_t I2S::write(const uint8_t *buffer, size_t size) { (void)buffer; return size; }
bool I2S::getOverUnderflow()
{
  bool was = overflow;
  overflow = false;
  return was;
}
size_t I2S::read(int32_t *val, bool sync)
{
  if (queued == 0) {
    if (sync) {
      printf("blocking read from the interrupt\n");
    }
    return 0;
  }
  *val = buffers[read_buffer][read_word++];
  if (read_word == words) {
    read_word = 0;
    read_buffer = (read_buffer + 1) % count;
    queued--;
  }
  return 1;
}
void I2S::onReceive(void (*fn)(void)) { callback = fn; }

/* The DMA completes a buffer of words / 2 stereo frames; its interrupt
 * queues it and calls the callback (unless ``calls_back`` is false: a
 * callback that could not drain, to see the library overwrite). */
static void dma_completes_a_buffer(bool calls_back)
{
  /* two buffers are always the DMA's own; the rest can wait for the program.
   * With none left the DMA writes over the one it just filled. */
  size_t slot = (read_buffer + queued) % count;
  for (size_t i = 0; i < words; i += 2) {
    buffers[slot][i] = (next_sample++) << 14; /* 24-bit sample left-aligned as the glue expects */
    buffers[slot][i + 1] = 0;
  }
  if (queued < count - 2) {
    queued++;
  } else {
    overflow = true;
  }
  if (calls_back && callback) {
    callback();
  }
}

static size_t drain(int16_t *expect, size_t *in_order)
{
  int16_t samples[512];
  size_t n, total = 0;
  while ((n = kws_board_mic_read(samples, 512)) > 0) {
    for (size_t i = 0; i < n; i++) {
      *in_order += samples[i] == *expect;
      *expect = (int16_t)(samples[i] + 1);
    }
    total += n;
  }
  return total;
}

int main(void)
{
  kws_mic_init();
  printf("buffers %u words %u running %d\n", (unsigned)count, (unsigned)words, (int)running);
  int16_t expect = 1;
  size_t in_order = 0, got = 0;
  size_t per_buffer = words / 2;
  size_t per_second = 16000 / per_buffer;
  /* 1 s of audio; the main loop reads only every 200 ms (a long inference) */
  for (size_t b = 1; b <= per_second; b++) {
    dma_completes_a_buffer(true);
    if (b % (per_second / 5) == 0) {
      got += drain(&expect, &in_order);
    }
  }
  got += drain(&expect, &in_order);
  printf("long inferences: got %u in order %u dropped %u\n", (unsigned)got, (unsigned)in_order,
         (unsigned)kws_board_mic_dropped());
  /* no callback for as many buffers as the library has: it overwrites two */
  for (size_t b = 0; b < count; b++) {
    dma_completes_a_buffer(b + 1 == count);
  }
  got = drain(&expect, &in_order);
  printf("library overwrote: got %u dropped %u\n", (unsigned)got, (unsigned)kws_board_mic_dropped());
  return 0;
}
