"""The Python twin of the C frontend (firmware_templates/common/kws_frontend.c).

Integer-exact implementation of the micro-frontend pipeline (numpy arrays;
the integer loops are compiled with numba, frames innermost, so they run as
SIMD code across frames):
Hann window (Q12) -> 512-point fixed-point real FFT (radix-4, Q15, scaled per
stage) -> energy -> mel filterbank (Q12) -> integer sqrt -> noise reduction ->
PCAN gain control -> log scale -> int8.  Every step mirrors the C code value for
value; tests compile the C and compare all outputs.

Two entry points with identical results:
  * ``compute_features`` -- whole clips, vectorized across clips and frames;
  * ``FrontendStream``  -- sample-by-sample streaming, one frame per stride,
    as the firmware runs it.
"""

from __future__ import annotations

import functools
from typing import Iterable, Sequence

import numba
import numpy as np

from kws.audio.frontend_params import FrontendParams
from kws.audio.frontend_tables import (
    LOG_COEFF,
    LOG_SCALE_LOG2,
    LOG_SEGMENTS_LOG2,
    NOISE_REDUCTION_BITS,
    PCAN_OUTPUT_BITS,
    PCAN_SNR_BITS,
    WINDOW_BITS,
    FrontendTables,
    frontend_tables,
)

_I32 = np.int32
# Frames per chunk: keeps the FFT's working arrays in cache.
_CHUNK_FRAMES = 512


def _msb(x: np.ndarray) -> np.ndarray:
    """Index of the highest set bit plus one (0 for 0) of non-negative integers
    below 2**53 (frexp is exact there)."""
    return np.frexp(np.asarray(x).astype(np.float64))[1].astype(np.int64)


def _wrap16(x: np.ndarray) -> np.ndarray:
    """Two's-complement narrowing of int32 values to int16 range, in place."""
    x <<= 16
    x >>= 16
    return x


# ---------------------------------------------------------------- FFT (Q15)
#
# kissfft-style fixed point: every radix-4 stage divides its inputs by 4
# (x * 8191 in Q15, rounded), multiplies by Q15 twiddles with rounding and
# stores int16 results (wrapping where the C code's int16 stores wrap).  The
# loops run with frames innermost so that numba turns them into SIMD code
# across frames; the arithmetic is the C code's, value for value.

@numba.njit(cache=True, nogil=True)
def _fft_energy(re, im, twiddles, super_twiddles, first_bin, end_bin):  # pragma: no cover - compiled
    """Real FFT of (2 * ncfft) samples per frame, packed as (even, odd) complex
    points in digit-reversed order in int32 (ncfft, frames) arrays ``re``/``im``
    (overwritten), and energies re^2 + im^2 of bins [first_bin, end_bin) as
    int64 (bins, frames)."""
    n, frames = re.shape
    m = 1
    while m < n:
        stride = n // (4 * m)
        for group in range(0, n, 4 * m):
            for k in range(m):
                i0 = group + k
                i1 = i0 + m
                i2 = i1 + m
                i3 = i2 + m
                w1r, w1i = np.int32(twiddles[k * stride, 0]), np.int32(twiddles[k * stride, 1])
                w2r, w2i = np.int32(twiddles[2 * k * stride, 0]), np.int32(twiddles[2 * k * stride, 1])
                w3r, w3i = np.int32(twiddles[3 * k * stride, 0]), np.int32(twiddles[3 * k * stride, 1])
                for f in range(frames):
                    a0r = (re[i0, f] * 8191 + 16384) >> 15
                    a0i = (im[i0, f] * 8191 + 16384) >> 15
                    b1r = (re[i1, f] * 8191 + 16384) >> 15
                    b1i = (im[i1, f] * 8191 + 16384) >> 15
                    b2r = (re[i2, f] * 8191 + 16384) >> 15
                    b2i = (im[i2, f] * 8191 + 16384) >> 15
                    b3r = (re[i3, f] * 8191 + 16384) >> 15
                    b3i = (im[i3, f] * 8191 + 16384) >> 15
                    s0r = (b1r * w1r - b1i * w1i + 16384) >> 15
                    s0i = (b1r * w1i + b1i * w1r + 16384) >> 15
                    s1r = (b2r * w2r - b2i * w2i + 16384) >> 15
                    s1i = (b2r * w2i + b2i * w2r + 16384) >> 15
                    s2r = (b3r * w3r - b3i * w3i + 16384) >> 15
                    s2i = (b3r * w3i + b3i * w3r + 16384) >> 15
                    t0r, t0i = a0r + s1r, a0i + s1i
                    s5r, s5i = a0r - s1r, a0i - s1i
                    s3r, s3i = s0r + s2r, s0i + s2i
                    s4r, s4i = s0r - s2r, s0i - s2i
                    re[i0, f] = np.int16(t0r + s3r)
                    im[i0, f] = np.int16(t0i + s3i)
                    re[i2, f] = np.int16(t0r - s3r)
                    im[i2, f] = np.int16(t0i - s3i)
                    re[i1, f] = np.int16(s5r + s4i)
                    im[i1, f] = np.int16(s5i - s4r)
                    re[i3, f] = np.int16(s5r - s4i)
                    im[i3, f] = np.int16(s5i + s4r)
        m *= 4
    energy = np.zeros((end_bin - first_bin, frames), np.int64)
    for f in range(frames):
        if end_bin > n:  # Nyquist bin, from the packed DC term
            nyquist = np.int32(np.int16(((re[0, f] * 16383 + 16384) >> 15) - ((im[0, f] * 16383 + 16384) >> 15)))
            energy[n - first_bin, f] = nyquist * nyquist
    for k in range(1, n // 2 + 1):
        j = n - k
        wr, wi = np.int32(super_twiddles[k - 1, 0]), np.int32(super_twiddles[k - 1, 1])
        for f in range(frames):
            pkr = (re[k, f] * 16383 + 16384) >> 15
            pki = (im[k, f] * 16383 + 16384) >> 15
            pnr = (re[j, f] * 16383 + 16384) >> 15
            pni = (np.int32(np.int16(-im[j, f])) * 16383 + 16384) >> 15
            f1r, f1i = pkr + pnr, pki + pni
            f2r, f2i = pkr - pnr, pki - pni
            twr = np.int32(np.int16((f2r * wr - f2i * wi + 16384) >> 15))
            twi = np.int32(np.int16((f2r * wi + f2i * wr + 16384) >> 15))
            if first_bin <= k < end_bin:
                outr = np.int64(np.int16((f1r + twr) >> 1))
                outi = np.int64(np.int16((f1i + twi) >> 1))
                energy[k - first_bin, f] = outr * outr + outi * outi
            if first_bin <= j < end_bin:
                outr = np.int64(np.int16((f1r - twr) >> 1))
                outi = np.int64(np.int16((twi - f1i) >> 1))
                energy[j - first_bin, f] = outr * outr + outi * outi
    return energy


@numba.njit(cache=True, nogil=True)
def _filterbank(energy, band_edges, weight, unweight, num_channels):  # pragma: no cover - compiled
    """Mel filterbank: band b (bins band_edges[b]..band_edges[b+1]) feeds channel
    b-1 with ``weight`` and channel b with ``unweight`` (Q12); int64 (C, frames)."""
    frames = energy.shape[1]
    acc = np.zeros((num_channels, frames), np.int64)
    for band in range(num_channels + 1):
        for b in range(band_edges[band], band_edges[band + 1]):
            w = np.int64(weight[b])
            u = np.int64(unweight[b])
            for f in range(frames):
                if band > 0:
                    acc[band - 1, f] += energy[b, f] * w
                if band < num_channels:
                    acc[band, f] += energy[b, f] * u
    return acc


@numba.njit(cache=True, nogil=True)
def _msb_scalar(x):  # pragma: no cover - compiled
    """Highest set bit index plus one (0 for 0) of a value below 2**32."""
    bits = 0
    for step in (16, 8, 4, 2, 1):
        if x >> step:
            x >>= step
            bits += step
    return bits + (1 if x else 0)


@numba.njit(cache=True, nogil=True)
def _pcan_log(signal, estimate, pcan_lut, log_lut, snr_shift, correction, scale_shift, enable_pcan, enable_log):  # pragma: no cover - compiled
    """PCAN gain control (gain looked up from the noise estimate) and log scale,
    elementwise on int64 arrays holding uint32 values -> uint16 output."""
    flat_signal = signal.ravel()
    flat_estimate = estimate.ravel()
    out = np.empty(flat_signal.size, np.uint16)
    for i in range(flat_signal.size):
        value = flat_signal[i]
        if enable_pcan:
            x = flat_estimate[i]
            if x <= 2:
                gain = np.int64(pcan_lut[x])
            else:
                interval = _msb_scalar(x)
                base = 4 * interval - 6
                frac = ((x << 11) >> interval) & 0x3FF
                result = (np.int64(pcan_lut[base + 2]) * frac) >> 5
                result += np.int64(pcan_lut[base + 1]) * 32
                result *= frac
                result = (result + (1 << 14)) >> 15
                result += pcan_lut[base]
                gain = np.int64(np.int16(result))
            snr = ((value * (gain & 0xFFFFFFFF)) >> snr_shift) & 0xFFFFFFFF
            if snr < (2 << 12):
                value = (snr * snr) >> 20
            else:
                value = ((snr >> 6) - 64) & 0xFFFFFFFF
        if enable_log:
            value = (value << correction) & 0xFFFFFFFF if correction >= 0 else value >> -correction
            if value > 1:
                integer = _msb_scalar(value) - 1
                frac = ((value - (np.int64(1) << integer)) << 16) >> integer
                seg = frac >> 9
                c0 = np.int64(log_lut[seg])
                rel = ((np.int64(log_lut[seg + 1]) - c0) * (frac & 511)) >> 16
                log2 = (integer << 16) + frac + c0 + rel
                loge = (45426 * log2 + 32768) >> 16
                value = ((loge << scale_shift) + 32768) >> 16
            else:
                value = 0
        out[i] = min(value, 0xFFFF)
    return out.reshape(signal.shape)


# ------------------------------------------------------- per-frame stages

def _isqrt_rounded(x: np.ndarray) -> np.ndarray:
    """Rounded integer sqrt as the frontend defines it (exact floor, +1 when the
    remainder exceeds the root; the 32-bit path saturates at 0xFFFF)."""
    x = x.astype(np.uint64)
    root = np.floor(np.sqrt(x.astype(np.float64))).astype(np.uint64)
    root = np.where(root * root > x, root - 1, root)
    root = np.where((root + 1) * (root + 1) <= x, root + 1, root)
    rem = x - root * root
    cap = np.where(x < (1 << 32), np.uint64(0xFFFF), np.uint64(0xFFFFFFFF))
    return np.where((rem > root) & (root != cap), root + 1, root)


class _Pipeline:
    """The fixed-point stages for one parameter set."""

    def __init__(self, params: FrontendParams) -> None:
        self.params = params
        self.t = frontend_tables(params)
        t = self.t
        order = np.concatenate([2 * t.bitrev.astype(np.intp), 2 * t.bitrev.astype(np.intp) + 1])
        inside = order < params.window_samples
        self.fft_order = np.where(inside, order, 0)
        self.fft_window = np.where(inside, t.window[np.minimum(order, params.window_samples - 1)], 0).astype(_I32)[:, None]
        self.band_edges = np.searchsorted(t.bin_channel, np.arange(params.num_channels + 2))
        ch = np.arange(params.num_channels)
        self.smoothing = np.where(ch % 2 == 0, self.t.even_smoothing, self.t.odd_smoothing).astype(np.uint64)

    def spectrum(self, frames: np.ndarray) -> np.ndarray:
        """int16 (F, window) raw frames -> filterbank output, uint64 (F, C) holding uint32."""
        t = self.t
        # Gather each frame's samples straight into the FFT's packed, digit-reversed
        # order, frames last (window coefficient 0 stands for the zero padding).
        samples = np.ascontiguousarray(frames[:, self.fft_order].T, _I32)
        windowed = samples * self.fft_window
        windowed >>= WINDOW_BITS
        mags = np.abs(windowed)
        mags[mags == 32768] = 0  # the C code's int16 abs leaves -32768 negative
        shift = 15 - _msb(mags.max(axis=0))
        packed = _wrap16(windowed << shift[None, :].astype(_I32))
        half = t.ncfft
        energy = _fft_energy(packed[:half], packed[half:], t.twiddles, t.super_twiddles, t.start_bin, t.end_bin)
        acc = _filterbank(energy, self.band_edges, t.bin_weight, t.bin_unweight, self.params.num_channels)
        roots = _isqrt_rounded(acc.T)
        return roots >> shift[:, None].astype(np.uint64)

    def noise_step(self, signal: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame of spectral subtraction on uint64 (..., C) arrays holding uint32 values."""
        bits = np.uint64(self.params.smoothing_bits)
        one = np.uint64(1 << NOISE_REDUCTION_BITS)
        scaled = (signal << bits) & np.uint64(0xFFFFFFFF)
        estimate = (scaled * self.smoothing + estimate * (one - self.smoothing)) >> np.uint64(NOISE_REDUCTION_BITS)
        capped = np.minimum(estimate, scaled)
        floor = (signal * np.uint64(self.t.min_signal_remaining)) >> np.uint64(NOISE_REDUCTION_BITS)
        out = np.maximum((scaled - capped) >> bits, floor)
        return out, estimate

    def finish(self, signal: np.ndarray, estimate: np.ndarray) -> np.ndarray:
        """Noise-reduced signal + noise estimate -> uint16 frontend output."""
        p, t = self.params, self.t
        return _pcan_log(
            signal.astype(np.int64), estimate.astype(np.int64), t.pcan_lut, t.log_lut, t.pcan_snr_shift,
            t.input_correction_bits, p.log_scale_shift, p.enable_pcan, p.enable_log,
        )


@functools.lru_cache(maxsize=8)
def _pipeline(params: FrontendParams) -> _Pipeline:
    return _Pipeline(params)


def to_int8(values: np.ndarray) -> np.ndarray:
    """TFLM's int8 feature mapping: (v*256 + 333) // 666 - 128, clamped."""
    v = (values.astype(np.int64) * 256 + 333) // 666 - 128
    return np.clip(v, -128, 127).astype(np.int8)


def _frames_of(clip: np.ndarray, params: FrontendParams) -> np.ndarray:
    win, step = params.window_samples, params.stride_samples
    if len(clip) < win:
        return np.zeros((0, win), np.int16)
    return np.lib.stride_tricks.sliding_window_view(clip, win)[::step]


def frontend_uint16(clips: Sequence[np.ndarray] | np.ndarray, params: FrontendParams | None = None) -> list[np.ndarray]:
    """Raw frontend output (uint16, frames x channels) for each clip, as TFLM's
    FrontendProcessSamples returns it. Frames = 1 + (len - window) // stride."""
    params = params or FrontendParams()
    pipe = _pipeline(params)
    clips = [np.asarray(c, np.int16) for c in clips]
    frames = [_frames_of(c, params) for c in clips]
    counts = [len(f) for f in frames]
    all_frames = np.concatenate(frames) if frames else np.zeros((0, params.window_samples), np.int16)
    spectra = [pipe.spectrum(all_frames[i : i + _CHUNK_FRAMES]) for i in range(0, len(all_frames), _CHUNK_FRAMES)]
    spec = np.concatenate(spectra) if spectra else np.zeros((0, params.num_channels), np.uint64)
    # Noise reduction runs frame after frame; vectorize across clips with equal frame counts.
    out: list[np.ndarray] = [np.zeros((0, params.num_channels), np.uint16)] * len(clips)
    offsets = np.cumsum([0] + counts)
    by_count: dict[int, list[int]] = {}
    for i, n in enumerate(counts):
        by_count.setdefault(n, []).append(i)
    for n, members in by_count.items():
        if n == 0:
            continue
        sig = np.stack([spec[offsets[i] : offsets[i] + n] for i in members], axis=1)  # (n, B, C)
        est = np.zeros(sig.shape[1:], np.uint64)
        reduced = np.empty_like(sig)
        estimates = np.empty_like(sig)
        for f in range(n):
            reduced[f], est = pipe.noise_step(sig[f], est)
            estimates[f] = est
        feats = pipe.finish(reduced, estimates)
        for j, i in enumerate(members):
            out[i] = feats[:, j]
    return out


def compute_features(clips: Sequence[np.ndarray] | np.ndarray, params: FrontendParams | None = None) -> np.ndarray | list[np.ndarray]:
    """int8 features for int16 clips.

    A 2-D array of equal-length clips gives an int8 array (clips, frames,
    channels); a list gives a list of (frames, channels) arrays.
    """
    as_array = isinstance(clips, np.ndarray) and clips.ndim == 2
    if isinstance(clips, np.ndarray) and clips.ndim == 1:
        return to_int8(frontend_uint16([clips], params)[0])
    feats = [to_int8(f) for f in frontend_uint16(clips, params)]
    return np.stack(feats) if as_array else feats


class FrontendStream:
    """Streaming frontend: feed int16 samples in any chunk sizes, get int8
    frames as soon as each stride completes (what the firmware does)."""

    def __init__(self, params: FrontendParams | None = None) -> None:
        self.params = params or FrontendParams()
        self._pipe = _pipeline(self.params)
        self.reset()

    def reset(self) -> None:
        self._buf = np.zeros(self.params.window_samples, np.int16)
        self._used = 0
        self._estimate = np.zeros(self.params.num_channels, np.uint64)

    def feed(self, samples: Iterable[int] | np.ndarray) -> list[np.ndarray]:
        """Consume samples; return the int8 frames completed by them."""
        samples = np.asarray(samples, np.int16)
        win, step = self.params.window_samples, self.params.stride_samples
        frames = []
        pos = 0
        while pos < len(samples):
            take = min(win - self._used, len(samples) - pos)
            self._buf[self._used : self._used + take] = samples[pos : pos + take]
            self._used += take
            pos += take
            if self._used == win:
                spec = self._pipe.spectrum(self._buf[None, :])
                reduced, self._estimate = self._pipe.noise_step(spec[0], self._estimate)
                frames.append(to_int8(self._pipe.finish(reduced[None], self._estimate[None])[0]))
                self._buf[: win - step] = self._buf[step:].copy()
                self._used -= step
        return frames
