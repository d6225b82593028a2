"""The Python twin of the C frontend (firmware_templates/common/kws_frontend.c).

Integer-exact numpy implementation of the micro-frontend pipeline:
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
_ROUND15 = _I32(1 << 14)
# Frames per chunk: keeps the FFT's working arrays in cache.
_CHUNK_FRAMES = 512


def _msb(x: np.ndarray) -> np.ndarray:
    """Index of the highest set bit plus one (0 for 0) of non-negative integers
    below 2**53 (frexp is exact there)."""
    return np.frexp(np.asarray(x).astype(np.float64))[1].astype(np.int64)


# ---------------------------------------------------------------- FFT (Q15)
#
# kissfft-style fixed point: every radix-4 stage divides its inputs by 4
# (x * 8191 in Q15, rounded), multiplies by Q15 twiddles with rounding and
# stores int16 results.  Work happens in int32; values are wrapped to int16
# exactly where the C code stores into int16 and a value can exceed it.
# The multiply by twiddle 0 (32767 + 0j) is the identity for the |x| <= 8191
# that reach it, so the first stage (all twiddles 0) skips its multiplies.

def _fixdiv(x: np.ndarray, div: int) -> np.ndarray:
    """C_FIXDIV: x * (32767 // div) in Q15, rounded (int32 result)."""
    out = x * _I32(32767 // div)
    out += _ROUND15
    out >>= 15
    return out


def _cmul(ar: np.ndarray, ai: np.ndarray, br: np.ndarray, bi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q15 complex multiply with rounding (int32 in, int32 out)."""
    real = ar * br
    real -= ai * bi
    real += _ROUND15
    real >>= 15
    imag = ar * bi
    imag += ai * br
    imag += _ROUND15
    imag >>= 15
    return real, imag


def _wrap16(x: np.ndarray) -> np.ndarray:
    x <<= 16
    x >>= 16
    return x


def _complex_fft(re: np.ndarray, im: np.ndarray, tables: FrontendTables) -> tuple[np.ndarray, np.ndarray]:
    """In-order radix-4 decimation-in-time FFT along axis 0 of int32 (n, frames)
    arrays holding int16 values (frames last keeps every operation contiguous)."""
    n, frames = re.shape
    tw = tables.twiddles.astype(_I32)
    m = 1
    while m < n:
        shape = (n // (4 * m), 4, m, frames)
        xr = _fixdiv(re.reshape(shape), 4)
        xi = _fixdiv(im.reshape(shape), 4)
        a0r, s0r, s1r, s2r = xr[:, 0], xr[:, 1], xr[:, 2], xr[:, 3]
        a0i, s0i, s1i, s2i = xi[:, 0], xi[:, 1], xi[:, 2], xi[:, 3]
        if m > 1:
            k = np.arange(m) * (n // (4 * m))
            s0r, s0i = _cmul(s0r, s0i, tw[k, 0, None], tw[k, 1, None])
            s1r, s1i = _cmul(s1r, s1i, tw[2 * k, 0, None], tw[2 * k, 1, None])
            s2r, s2i = _cmul(s2r, s2i, tw[3 * k, 0, None], tw[3 * k, 1, None])
        t0r, t0i = a0r + s1r, a0i + s1i
        s5r, s5i = a0r - s1r, a0i - s1i
        s3r, s3i = s0r + s2r, s0i + s2i
        s4r, s4i = s0r - s2r, s0i - s2i
        out_r = np.empty(shape, _I32)
        out_i = np.empty(shape, _I32)
        np.add(t0r, s3r, out=out_r[:, 0])
        np.add(t0i, s3i, out=out_i[:, 0])
        np.subtract(t0r, s3r, out=out_r[:, 2])
        np.subtract(t0i, s3i, out=out_i[:, 2])
        np.add(s5r, s4i, out=out_r[:, 1])
        np.subtract(s5i, s4r, out=out_i[:, 1])
        np.subtract(s5r, s4i, out=out_r[:, 3])
        np.add(s5i, s4r, out=out_i[:, 3])
        re = _wrap16(out_r.reshape(n, frames))
        im = _wrap16(out_i.reshape(n, frames))
        m *= 4
    return re, im


def _real_fft(frames16: np.ndarray, tables: FrontendTables, first_bin: int, end_bin: int) -> tuple[np.ndarray, np.ndarray]:
    """Real FFT of int16 (frames, 2*ncfft); returns bins [first_bin, end_bin) as
    int32 (bins, frames) real/imag arrays holding int16 values."""
    ncfft = tables.ncfft
    order = tables.bitrev.astype(np.intp) * 2
    zr, zi = _complex_fft(
        np.ascontiguousarray(frames16[:, order].T, _I32),
        np.ascontiguousarray(frames16[:, order + 1].T, _I32),
        tables,
    )
    out_r = np.empty((ncfft + 1, zr.shape[1]), _I32)
    out_i = np.empty_like(out_r)
    dc_r = _fixdiv(zr[0], 2)
    dc_i = _fixdiv(zi[0], 2)
    out_r[0] = _wrap16(dc_r + dc_i)
    out_r[ncfft] = _wrap16(dc_r - dc_i)
    out_i[0] = 0
    out_i[ncfft] = 0
    half = ncfft // 2
    mirror = slice(ncfft - 1, ncfft - half - 1, -1)
    fpk_r, fpk_i = _fixdiv(zr[1 : half + 1], 2), _fixdiv(zi[1 : half + 1], 2)
    fpnk_r, fpnk_i = _fixdiv(zr[mirror], 2), _fixdiv(_wrap16(-zi[mirror]), 2)
    f1r, f1i = fpk_r + fpnk_r, fpk_i + fpnk_i
    f2r, f2i = fpk_r - fpnk_r, fpk_i - fpnk_i
    st = tables.super_twiddles.astype(_I32)
    twr, twi = _cmul(f2r, f2i, st[:, 0, None], st[:, 1, None])
    twr, twi = _wrap16(twr), _wrap16(twi)
    out_r[1 : half + 1] = (f1r + twr) >> 1
    out_i[1 : half + 1] = (f1i + twi) >> 1
    out_r[mirror] = (f1r - twr) >> 1
    out_i[mirror] = (twi - f1i) >> 1
    return out_r[first_bin:end_bin], out_i[first_bin:end_bin]


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
        weights, unweights = self.t.weight_matrix(params.num_channels)
        self.weights_t, self.unweights_t = np.ascontiguousarray(weights.T), np.ascontiguousarray(unweights.T)
        ch = np.arange(params.num_channels)
        self.smoothing = np.where(ch % 2 == 0, self.t.even_smoothing, self.t.odd_smoothing).astype(np.uint64)

    def spectrum(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """int16 (F, window) raw frames -> (filterbank uint32 (F, C), input_shift (F,))."""
        t = self.t
        windowed = ((frames.astype(_I32) * t.window.astype(_I32)) >> WINDOW_BITS).astype(np.int16)
        mags = np.abs(windowed)  # int16 abs: -32768 stays negative, as in C
        max_abs = mags.max(axis=1).astype(np.int64)
        max_abs = np.maximum(max_abs, 0).astype(np.uint64)
        shift = (15 - _msb(max_abs)).astype(np.int64)
        padded = np.zeros((frames.shape[0], self.params.fft_size), np.int16)
        shifted = (windowed.astype(np.uint16).astype(np.uint32) << shift[:, None].astype(np.uint32))
        padded[:, : frames.shape[1]] = shifted.astype(np.uint16).astype(np.int16)
        re, im = _real_fft(padded, t, t.start_bin, t.end_bin)
        energy = (re.astype(np.int64) ** 2 + im.astype(np.int64) ** 2).astype(np.float64)
        acc = self.weights_t @ energy + self.unweights_t @ energy
        acc = acc.T
        roots = _isqrt_rounded(acc.astype(np.uint64))
        out = (roots >> shift[:, None].astype(np.uint64)) & np.uint64(0xFFFFFFFF)
        return out, shift

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

    def pcan(self, signal: np.ndarray, estimate: np.ndarray) -> np.ndarray:
        lut = self.t.pcan_lut.astype(np.int64)
        x = estimate.astype(np.int64)
        interval = _msb(estimate)
        base = np.clip(4 * interval - 6, 0, len(lut) - 3)
        frac = np.where(
            interval < 11,
            x << np.clip(11 - interval, 0, None),
            x >> np.clip(interval - 11, 0, None),
        ) & 0x3FF
        result = (lut[base + 2] * frac) >> 5
        result = (result + lut[base + 1] * 32) * frac
        result = ((result + (1 << 14)) >> 15) + lut[base]
        gain = np.where(x <= 2, lut[np.minimum(x, 2)], result).astype(np.int16).astype(np.int64)
        gain = gain.astype(np.uint64) & np.uint64(0xFFFFFFFF)
        snr = ((signal * gain) >> np.uint64(self.t.pcan_snr_shift)) & np.uint64(0xFFFFFFFF)
        small = snr < (2 << PCAN_SNR_BITS)
        shrunk_small = (snr * snr) >> np.uint64(2 + 2 * PCAN_SNR_BITS - PCAN_OUTPUT_BITS)
        shrunk_big = (snr >> np.uint64(PCAN_SNR_BITS - PCAN_OUTPUT_BITS)) - np.uint64(1 << PCAN_OUTPUT_BITS)
        return np.where(small, shrunk_small, shrunk_big & np.uint64(0xFFFFFFFF))

    def log_scale(self, signal: np.ndarray) -> np.ndarray:
        """uint32 values -> uint16 log features (TFLM's 'frontend output')."""
        corr = self.t.input_correction_bits
        value = (signal << np.uint64(corr)) & np.uint64(0xFFFFFFFF) if corr >= 0 else signal >> np.uint64(-corr)
        value = value.astype(np.int64)
        big = value > 1
        v = np.where(big, value, 2)
        integer = _msb(v.astype(np.uint64)) - 1
        frac = v - (np.int64(1) << integer)
        frac = np.where(integer < LOG_SCALE_LOG2, frac << np.clip(LOG_SCALE_LOG2 - integer, 0, None),
                        frac >> np.clip(integer - LOG_SCALE_LOG2, 0, None))
        seg = frac >> (LOG_SCALE_LOG2 - LOG_SEGMENTS_LOG2)
        lut = self.t.log_lut.astype(np.int64)
        c0, c1 = lut[seg], lut[seg + 1]
        rel = ((c1 - c0) * (frac - seg * (1 << (LOG_SCALE_LOG2 - LOG_SEGMENTS_LOG2)))) >> LOG_SCALE_LOG2
        log2 = (integer << LOG_SCALE_LOG2) + frac + c0 + rel
        half = 1 << (LOG_SCALE_LOG2 - 1)
        loge = (LOG_COEFF * log2 + half) >> LOG_SCALE_LOG2
        scaled = ((loge << self.params.log_scale_shift) + half) >> LOG_SCALE_LOG2
        scaled = np.where(big, scaled, 0)
        return np.minimum(scaled, 0xFFFF).astype(np.uint16)

    def finish(self, signal: np.ndarray, estimate: np.ndarray) -> np.ndarray:
        if self.params.enable_pcan:
            signal = self.pcan(signal, estimate)
        if self.params.enable_log:
            return self.log_scale(signal)
        return np.minimum(signal, 0xFFFF).astype(np.uint16)


@functools.lru_cache(maxsize=8)
def _pipeline(params: FrontendParams) -> _Pipeline:
    return _Pipeline(params)


def to_int8(values: np.ndarray) -> np.ndarray:
    """TFLM's int8 feature mapping: (v*256 + 333) // 666 - 128, clamped."""
    v = (values.astype(np.int64) * 256 + 333) // 666 - 128
    return np.clip(v, -128, 127).astype(np.int8)


def _frames_of(clip: np.ndarray, params: FrontendParams) -> np.ndarray:
    win, step = params.window_samples, params.stride_samples
    count = 0 if len(clip) < win else 1 + (len(clip) - win) // step
    idx = np.arange(win)[None, :] + step * np.arange(count)[:, None]
    return clip[idx] if count else np.zeros((0, win), np.int16)


def frontend_uint16(clips: Sequence[np.ndarray] | np.ndarray, params: FrontendParams | None = None) -> list[np.ndarray]:
    """Raw frontend output (uint16, frames x channels) for each clip, as TFLM's
    FrontendProcessSamples returns it. Frames = 1 + (len - window) // stride."""
    params = params or FrontendParams()
    pipe = _pipeline(params)
    clips = [np.asarray(c, np.int16) for c in clips]
    frames = [_frames_of(c, params) for c in clips]
    counts = [len(f) for f in frames]
    all_frames = np.concatenate(frames) if frames else np.zeros((0, params.window_samples), np.int16)
    spectra = [pipe.spectrum(all_frames[i : i + _CHUNK_FRAMES])[0] for i in range(0, len(all_frames), _CHUNK_FRAMES)]
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
                spec, _ = self._pipe.spectrum(self._buf[None, :])
                reduced, self._estimate = self._pipe.noise_step(spec[0], self._estimate)
                frames.append(to_int8(self._pipe.finish(reduced[None], self._estimate[None])[0]))
                self._buf[: win - step] = self._buf[step:].copy()
                self._used -= step
        return frames
