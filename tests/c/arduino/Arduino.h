/* Stand-in for the Arduino.h of the three Arduino cores kws builds for,
 * declaring only what kws's board glue uses, as the pinned cores declare it:
 * ArduinoCore-API (Arduino mbed core 4.5.0, arduino-pico @ fdd7557):
 * pinMode(pin_size_t, PinMode), digitalWrite(pin_size_t, PinStatus),
 * unsigned long millis()/micros(); STM32duino 2.12.0 (ARDUINO_ARCH_STM32):
 * pinMode/digitalWrite on uint32_t, uint32_t millis()/micros(), and the STM32
 * HAL, which its Arduino.h includes (stand-in: stm32l4xx_hal.h). Serial is a
 * Stream (begin, available, read, write). Declarations only: the test
 * compiles and partially links, it never runs this. */
#ifndef KWS_STANDIN_ARDUINO_H
#define KWS_STANDIN_ARDUINO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(ARDUINO_ARCH_STM32)
#include "stm32l4xx_hal.h"

#define HIGH 0x1
#define LOW 0x0
#define INPUT 0x0
#define OUTPUT 0x1
#define PB14 30u /* a pin number of the variant (variant_B_L475E_IOT01A.h) */
#define PE7 68u
#define PE9 70u
#define LED_BUILTIN PB14

extern "C" {
void pinMode(uint32_t pin, uint32_t mode);
void digitalWrite(uint32_t pin, uint32_t value);
uint32_t millis(void);
uint32_t micros(void);
void yield(void);
}
#else
typedef uint8_t pin_size_t;
typedef enum { LOW = 0, HIGH = 1, CHANGE = 2, FALLING = 3, RISING = 4 } PinStatus;
typedef enum { INPUT = 0x0, OUTPUT = 0x1, INPUT_PULLUP = 0x2, INPUT_PULLDOWN = 0x3 } PinMode;
#define LED_BUILTIN 25 /* arduino-pico: GP25; the mbed Nano 33 BLE: p13 (a pin number as well) */

extern "C" {
void pinMode(pin_size_t pin, PinMode mode);
void digitalWrite(pin_size_t pin, PinStatus value);
unsigned long millis(void);
unsigned long micros(void);
void yield(void);
}
#endif

class Stream {
public:
  virtual ~Stream() {}
  virtual int available() = 0;
  virtual int read() = 0;
  virtual size_t write(const uint8_t *buffer, size_t size) = 0;
};

class SerialPort : public Stream {
public:
  void begin(unsigned long baud);
  int available() override;
  int read() override;
  size_t write(const uint8_t *buffer, size_t size) override;
};

extern SerialPort Serial;

#endif
