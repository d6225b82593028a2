"""Host side of the kws serial link (the device side and the protocol are in
``firmware_templates/link/kws_link.h``).

The host sends CRC-checked binary frames (handshake, streamed audio, clip
boundaries) and reads text lines: control lines (``~ack 5 *1A2B``) and lines
for people (boot banner, ``Heard yes (0.93) @1234ms``). Frames go out under a
window of unacknowledged frames (flow control: the device's ``KWS_LINK_WINDOW``,
fewer when the board's receive buffer, ``[serial] rx_buffer``, holds fewer
frames of ``FRAME_MAX`` bytes) and are
resent go-back-N after a NAK or a silent timeout. Every wait has a deadline;
every failure is a :class:`LinkError` with one line saying what happened:

- garbage, a dropped byte or a corrupted frame: resent, invisible to callers;
- the device stays silent: "stopped acknowledging ... after N resends";
- the device rebooted (a new boot banner, or it asks for a handshake again);
- the port closed (pyserial reports the socket or device gone).

Every byte from the device is untrusted: lines are decoded leniently, their
control and escape characters are removed before anyone prints them, a line
longer than ``MAX_LINE`` bytes (a device flooding without newlines) is
dropped as it arrives, so memory and work per byte stay bounded, and
``skipped`` counts the lines dropped as damaged.

Typical use::

    with SerialLink.open("socket://127.0.0.1:4321") as link:
        banner = link.wait_banner()
        link.hello()
        result = link.classify(int16_samples)   # on-device prediction for one clip
"""

from __future__ import annotations

import binascii
import re
import struct
import time
import unicodedata
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import serial

from kws.errors import KwsError

PROTOCOL = 1
SYNC = b"\xa5\x5a"
MAX_PAYLOAD = 256
FRAME_MAX = len(SYNC) + 4 + MAX_PAYLOAD + 2   # sync, type/seq/len, payload, crc16: KWS_LINK_FRAME_MAX
FRAME_HELLO, FRAME_BEGIN, FRAME_AUDIO, FRAME_END, FRAME_RECORD = (ord(c) for c in "HBAER")
BANNER_PREFIX = "KWS "
MAX_LINE = 4096  # bytes; the firmware's longest line (a result with every score) is far shorter
_READ_CHUNK = 65536
_CONTROL = re.compile(r"^~(?P<body>.*) \*(?P<crc>[0-9A-F]{4})$")


class LinkError(KwsError):
    """The serial link failed; the message says how and what to do."""


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as ``kws_crc16``."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode_frame(frame_type: int, seq: int, payload: bytes = b"") -> bytes:
    """``A5 5A | type | seq | len u16 | payload | crc16 u16`` (little-endian)."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = struct.pack("<BBH", frame_type, seq & 0xFF, len(payload)) + payload
    return SYNC + body + struct.pack("<H", crc16(body))


def printable(raw: bytes) -> str:
    """A device line as safe text: invalid UTF-8 replaced, tabs as spaces, and
    control, escape and other invisible format characters removed."""
    text = raw.decode("utf-8", "replace").replace("\t", " ")
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))


def _numbers(fields: list[str]) -> list[int] | None:
    return [int(v) for v in fields] if all(v.isascii() and v.isdigit() and len(v) <= 9 for v in fields) else None


def parse_control(line: str) -> list[str] | None:
    """The fields of a control line whose CRC checks, else None."""
    found = _CONTROL.match(line)
    if not found or crc16(found["body"].encode("ascii", "replace")) != int(found["crc"], 16):
        return None
    return found["body"].split()


@dataclass(frozen=True)
class Banner:
    """The firmware's boot line: ``KWS key=value ...``."""

    line: str
    fields: dict[str, str]

    @classmethod
    def parse(cls, line: str) -> "Banner | None":
        if not line.startswith(BANNER_PREFIX):
            return None
        fields = dict(item.split("=", 1) for item in line[len(BANNER_PREFIX):].split() if "=" in item)
        return cls(line, fields)

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)


@dataclass(frozen=True)
class ClipResult:
    """The device's answer for one clip streamed with :meth:`SerialLink.classify`."""

    clip_id: int
    scores: np.ndarray          # uint8 0..255 per label (int8 output + 128)
    frames: int                 # feature frames the device computed
    frontend_us: int            # device time (virtual under QEMU -icount) for the frontend
    model_us: int               # and for the inference
    seconds: float = 0.0        # host wall time to stream and classify the clip
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def top(self) -> int:
        return int(np.argmax(self.scores))


def frames_that_fit(rx_buffer: int | None) -> int | None:
    """Link frames a receive buffer of ``rx_buffer`` bytes holds (None: no limit
    declared, e.g. USB CDC, which USB itself flow-controls)."""
    if rx_buffer is None:
        return None
    if rx_buffer < FRAME_MAX:
        raise LinkError(f"the board's serial receive buffer ([serial] rx_buffer = {rx_buffer} B) cannot hold one "
                        f"{FRAME_MAX}-byte link frame; enlarge it in the firmware and the board file")
    return rx_buffer // FRAME_MAX


def _port_closed(err: Exception) -> LinkError:
    return LinkError(f"the serial port closed ({err}); is the board still connected and powered?")


class SerialLink:
    """One open connection to a kws firmware."""

    def __init__(
        self,
        port: serial.SerialBase,
        *,
        reply_timeout: float = 2.0,
        retries: int = 4,
        rx_buffer: int | None = None,
    ) -> None:
        self.port = port
        self.max_window = frames_that_fit(rx_buffer) or 16
        self.reply_timeout = reply_timeout
        self.retries = retries
        self.window = 1
        self.banner: Banner | None = None
        self.lines: deque[str] = deque(maxlen=1000)  # recent lines for people, oldest first
        self._unread: deque[str] = deque(maxlen=1000)  # of those, not yet taken by next_line
        self.resends = 0
        self.skipped = 0  # lines dropped as damaged (overlong here; unparseable ones by their readers)
        self._buffer = bytearray()
        self._scanned = 0  # bytes of _buffer known to hold no newline
        self._overlong = False  # dropping the rest of an overlong line
        self._next_seq = 0
        self._connected = False
        self._replies: deque[list[str]] = deque(maxlen=256)  # control lines not asked for yet

    @classmethod
    def open(cls, url: str, *, baud: int = 115200, reply_timeout: float = 2.0, retries: int = 4,
             rx_buffer: int | None = None) -> "SerialLink":
        """Open a serial port or ``socket://`` URL (clear errors from ports.open_port);
        ``rx_buffer``: the board's receive buffer in bytes, when it declares one."""
        from kws.device.ports import open_port

        return cls(open_port(url, baud), reply_timeout=reply_timeout, retries=retries, rx_buffer=rx_buffer)

    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> "SerialLink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------

    def read_line(self, deadline: float) -> str | None:
        """Next text line (without line end, see ``printable``), or None at the deadline."""
        while True:
            end = self._buffer.find(b"\n", self._scanned)
            if end >= 0:
                raw = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                self._scanned = 0
                if self._overlong:
                    self._overlong = False
                    continue
                return printable(raw.rstrip(b"\r"))
            if len(self._buffer) > MAX_LINE:
                self.skipped += not self._overlong
                self._overlong = True
                self._buffer.clear()
            self._scanned = len(self._buffer)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.port.timeout = min(left, 0.5)
            try:
                chunk = self.port.read(min(max(1, self.port.in_waiting), _READ_CHUNK))
            except (serial.SerialException, OSError) as err:
                raise _port_closed(err) from None
            self._buffer += chunk

    def _take_line(self, line: str) -> list[str] | None:
        """The fields of a control line with a good CRC; lines for people
        go to ``lines`` (a boot banner after the handshake means a reboot)."""
        if line.startswith("~"):
            return parse_control(line)  # a damaged control line counts as lost
        banner = Banner.parse(line)
        if banner:
            self.banner = banner
            if self._connected:
                self._connected = False
                raise LinkError("the device rebooted mid-stream (a new boot banner arrived); check its power and logs")
        self.lines.append(line)
        self._unread.append(line)
        return None

    def _next_control(self, deadline: float) -> list[str] | None:
        """Next good control line, or None at the deadline."""
        while (line := self.read_line(deadline)) is not None:
            if (fields := self._take_line(line)) is not None:
                return fields
        return None

    def next_line(self, timeout: float) -> str | None:
        """The next unread line for people (control lines are kept for
        wait_control), or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._unread:
            line = self.read_line(deadline)
            if line is None:
                return None
            fields = self._take_line(line)
            if fields is not None:
                self._replies.append(fields)
        return self._unread.popleft()

    def wait_banner(self, timeout: float = 10.0) -> Banner:
        """Wait for the boot banner line (``KWS ...``)."""
        deadline = time.monotonic() + timeout
        while self.banner is None:
            line = self.read_line(deadline)
            if line is None:
                raise LinkError(
                    f"no boot banner from the device within {timeout:.0f} s; press its reset button, "
                    "or flash kws firmware first (`kws flash`)"
                )
            self._take_line(line)
        return self.banner

    # -- frames ------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except (serial.SerialException, OSError) as err:
            raise _port_closed(err) from None

    def hello(self, timeout: float = 5.0) -> None:
        """Protocol handshake; resends a few times (the device may still be
        booting). The firmware repeats its boot banner before answering."""
        self._connected = False
        attempts = max(1, self.retries)
        for _ in range(attempts):
            seq = self._take_seq()
            self._write(encode_frame(FRAME_HELLO, seq, bytes([PROTOCOL])))
            deadline = time.monotonic() + timeout / attempts
            while (fields := self._next_control(deadline)) is not None:
                if fields[0] == "hello" and len(fields) == 4 and (numbers := _numbers(fields[1:])):
                    protocol, window, max_payload = numbers
                    if protocol != PROTOCOL:
                        raise LinkError(
                            f"the firmware speaks link protocol {protocol}, this kws speaks {PROTOCOL}; "
                            "rebuild and flash it with this kws (`kws flash`)"
                        )
                    self.window = max(1, min(window, self.max_window))
                    if max_payload < MAX_PAYLOAD:
                        raise LinkError(f"the firmware accepts {max_payload}-byte frames, kws needs {MAX_PAYLOAD}")
                    self._connected = True
                    return
        raise LinkError(f"the device did not answer the link handshake within {timeout:.0f} s; is kws firmware running on it?")

    def _take_seq(self) -> int:
        seq = self._next_seq
        self._next_seq = (seq + 1) & 0xFF
        return seq

    def send_frames(self, frames: Iterable[tuple[int, bytes]]) -> None:
        """Send frames in order, each acknowledged by the device, with at most
        ``window`` in flight; resend go-back-N after a NAK or a timeout."""
        if not self._connected:
            raise LinkError("no link handshake yet; call hello() first")
        encoded = [(seq := self._take_seq(), encode_frame(kind, seq, payload)) for kind, payload in frames]
        base = sent = 0
        failures = 0
        rewound_to = -1
        deadline = time.monotonic() + self.reply_timeout
        while base < len(encoded):
            while sent < len(encoded) and sent - base < self.window:
                self._write(encoded[sent][1])
                sent += 1
            fields = self._next_control(deadline)
            if fields is not None and fields[0] in ("ack", "nak") and not _numbers(fields[1:2]):
                continue  # a checksummed reply without a sequence number: damaged, counts as lost
            if fields is None or (fields[0] == "nak" and len(fields) == 3):
                if fields and fields[2] == "hello":
                    self._connected = False
                    raise LinkError("the device lost the link session (it rebooted?); reconnect and try again")
                position = base
                if fields:  # NAK: the device processed everything before `expected`
                    position = self._position(encoded, base, sent, int(fields[1]))
                    if position is None or position == rewound_to:
                        continue  # stale NAK, or a rewind to there is already under way
                failures += 1
                if failures > self.retries:
                    raise LinkError(
                        f"the device stopped acknowledging frames (frame {encoded[base][0]} still unacknowledged "
                        f"after {self.retries} resends); check the cable and the baud rate, then reset it"
                    )
                self.resends += sent - position
                base = sent = rewound_to = position
                deadline = time.monotonic() + self.reply_timeout
            elif fields[0] == "ack" and len(fields) == 2:
                position = self._position(encoded, base, sent, int(fields[1]))
                if position is not None:
                    base = position + 1
                    failures = 0
                    rewound_to = -1
                    deadline = time.monotonic() + self.reply_timeout
            else:
                self._replies.append(fields)  # the application's answer, for wait_control

    @staticmethod
    def _position(encoded: list[tuple[int, bytes]], base: int, sent: int, seq: int) -> int | None:
        for position in range(base, sent):
            if encoded[position][0] == seq:
                return position
        return None

    def wait_control(self, verb: str, timeout: float) -> list[str]:
        """The next control line starting with ``verb`` (others are skipped)."""
        while self._replies:
            fields = self._replies.popleft()
            if fields[0] == verb:
                return fields
        deadline = time.monotonic() + timeout
        while (fields := self._next_control(deadline)) is not None:
            if fields[0] == verb:
                return fields
        raise LinkError(f"the device sent no '{verb}' within {timeout:.0f} s")

    # -- audio -------------------------------------------------------------

    @staticmethod
    def audio_frames(samples: np.ndarray) -> list[tuple[int, bytes]]:
        """int16 samples as AUDIO frames of at most MAX_PAYLOAD bytes."""
        data = np.asarray(samples, dtype="<i2").tobytes()
        return [(FRAME_AUDIO, data[i : i + MAX_PAYLOAD]) for i in range(0, len(data), MAX_PAYLOAD)]

    def stream(self, samples: np.ndarray) -> None:
        """Stream audio to the live pipeline (as if from the microphone);
        detections arrive as ``Heard ...`` lines (``next_line``)."""
        self.send_frames(self.audio_frames(samples))

    def classify(self, samples: np.ndarray, clip_id: int = 0, timeout: float = 30.0) -> ClipResult:
        """Stream one clip for evaluation; the device resets its frontend,
        computes every frame and classifies the last window."""
        start = time.monotonic()
        self.send_frames(
            [(FRAME_BEGIN, struct.pack("<I", clip_id)), *self.audio_frames(samples), (FRAME_END, b"")]
        )
        fields = self.wait_control("result", timeout)
        values = dict(item.split("=", 1) for item in fields[1:] if "=" in item)
        try:
            result = ClipResult(
                clip_id=int(values.pop("id")),
                scores=np.array([int(v) for v in values.pop("scores").split(",")], dtype=np.uint8),
                frames=int(values.pop("frames")),
                frontend_us=int(values.pop("fe_us")),
                model_us=int(values.pop("nn_us")),
                seconds=time.monotonic() - start,
                extra=values,
            )
        except (KeyError, ValueError):
            raise LinkError(f"malformed result line from the device: {' '.join(fields)}") from None
        if result.clip_id != clip_id:
            raise LinkError(f"the device answered for clip {result.clip_id} instead of {clip_id}; reset it and retry")
        return result
