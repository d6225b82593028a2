"""Integer tables derived from ``FrontendParams``: the frontend's whole state of
constants, computed once on the host and used as-is by the numpy twin and,
rendered into a generated header, by the C frontend (which so needs no float
and no libm).

The float steps that build the tables follow the micro-frontend's published
construction (single-precision where it uses single precision) so that kws's
features agree with TensorFlow's own micro-frontend op.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from kws.audio.frontend_params import FrontendParams

WINDOW_BITS = 12          # Hann window coefficients in Q12
FILTERBANK_BITS = 12      # filterbank weights in Q12
NOISE_REDUCTION_BITS = 14 # smoothing coefficients in Q14
PCAN_SNR_BITS = 12
PCAN_OUTPUT_BITS = 6
WIDE_DYNAMIC_BITS = 32
LOG_SEGMENTS_LOG2 = 7
LOG_SCALE_LOG2 = 16
LOG_COEFF = 45426         # ln(2) in Q16
SAMP_MAX = 32767          # fixed-point FFT: Q15


@dataclass(frozen=True)
class FrontendTables:
    """Constants of the fixed-point pipeline (all integer numpy arrays)."""

    window: np.ndarray            # int16[window_samples], Q12 Hann
    twiddles: np.ndarray          # int16[ncfft, 2], complex FFT twiddles (Q15)
    super_twiddles: np.ndarray    # int16[ncfft/2, 2], real-FFT split twiddles
    bitrev: np.ndarray            # int16[ncfft], base-4 digit-reversed input order
    start_bin: int                # first FFT bin used (DC excluded)
    end_bin: int                  # one past the last bin used
    bin_channel: np.ndarray       # int16[end-start]: band index 0..num_channels of each bin
    bin_weight: np.ndarray        # int16[end-start]: weight into channel band-1 (Q12)
    bin_unweight: np.ndarray      # int16[end-start]: weight into channel band (Q12)
    even_smoothing: int           # Q14
    odd_smoothing: int            # Q14
    min_signal_remaining: int     # Q14
    pcan_lut: np.ndarray          # int16[4*32-3], wide-dynamic-function gain LUT
    pcan_snr_shift: int
    log_lut: np.ndarray           # uint16[130], log2 correction per segment
    input_correction_bits: int    # log-scale pre-shift (fft size correction)

    @property
    def ncfft(self) -> int:
        return len(self.twiddles)


def _freq_to_mel(freq: np.float32) -> np.float32:
    return np.float32(1127.0 * math.log1p(float(freq) / 700.0))


def _hann_window(size: int) -> np.ndarray:
    arg = float(np.float32(math.pi * 2.0 / size))
    values = [float(np.float32(0.5 - 0.5 * math.cos(arg * (i + 0.5)))) for i in range(size)]
    return np.array([math.floor(v * (1 << WINDOW_BITS) + 0.5) for v in values], np.int16)


def _cexp_q15(phase: float) -> tuple[int, int]:
    return math.floor(0.5 + SAMP_MAX * math.cos(phase)), math.floor(0.5 + SAMP_MAX * math.sin(phase))


def _fft_tables(fft_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ncfft = fft_size // 2
    digits = round(math.log(ncfft, 4))
    if 4 ** digits != ncfft:
        raise ValueError(f"complex FFT size {ncfft} is not a power of 4")
    twiddles = np.array([_cexp_q15(-2 * math.pi * i / ncfft) for i in range(ncfft)], np.int16)
    super_tw = np.array(
        [_cexp_q15(-math.pi * ((i + 1) / ncfft + 0.5)) for i in range(ncfft // 2)], np.int16
    )
    bitrev = np.zeros(ncfft, np.int16)
    for pos in range(ncfft):
        rest, src = pos, 0
        for _ in range(digits):
            src = src * 4 + rest % 4
            rest //= 4
        bitrev[pos] = src
    return twiddles, super_tw, bitrev


def _filterbank(params: FrontendParams, spectrum_size: int):
    f32 = np.float32
    num_plus_1 = params.num_channels + 1
    mel_low = _freq_to_mel(f32(params.lower_band_hz))
    mel_hi = _freq_to_mel(f32(params.upper_band_hz))
    mel_spacing = f32(f32(mel_hi - mel_low) / f32(num_plus_1))
    centers = [f32(mel_low + f32(mel_spacing * f32(i + 1))) for i in range(num_plus_1)]
    hz_per_bin = f32(f32(0.5) * f32(params.sample_rate) / f32(f32(spectrum_size) - f32(1)))
    start = int(f32(f32(1.5) + f32(f32(params.lower_band_hz) / hz_per_bin)))
    bands, weights, unweights = [], [], []
    freq = start
    for chan in range(num_plus_1):
        denom = mel_low if chan == 0 else centers[chan - 1]
        while _freq_to_mel(f32(f32(freq) * hz_per_bin)) <= centers[chan]:
            weight = f32(f32(centers[chan] - _freq_to_mel(f32(f32(freq) * hz_per_bin))) / f32(centers[chan] - denom))
            bands.append(chan)
            weights.append(math.floor(float(f32(weight * f32(1 << FILTERBANK_BITS) + f32(0.5)))))
            unweights.append(
                math.floor(float(f32(f32(f32(1.0) - weight) * f32(1 << FILTERBANK_BITS) + f32(0.5))))
            )
            freq += 1
    return start, freq, np.array(bands, np.int16), np.array(weights, np.int16), np.array(unweights, np.int16)


def _pcan_lut(params: FrontendParams, input_bits: int) -> np.ndarray:
    f32 = np.float32

    def gain(x: int) -> int:
        x_f = f32(f32(x) / f32(1 << input_bits))
        value = f32(f32(1 << params.pcan_gain_bits) * np.power(f32(x_f + f32(params.pcan_offset)), f32(-f32(params.pcan_strength))))
        if value > 0x7FFF:
            return 0x7FFF
        return int(f32(value + f32(0.5)))

    lut = np.zeros(4 * WIDE_DYNAMIC_BITS - 3, np.int16)
    lut[0], lut[1] = gain(0), gain(1)
    for interval in range(2, WIDE_DYNAMIC_BITS + 1):
        x0 = 1 << (interval - 1)
        x1 = x0 + (x0 >> 1)
        x2 = x0 + (x0 - 1) if interval == WIDE_DYNAMIC_BITS else 2 * x0
        y0, y1, y2 = gain(x0), gain(x1), gain(x2)
        a1 = 4 * (y1 - y0) - (y2 - y0)
        a2 = (y2 - y0) - a1
        base = 4 * interval - 6
        lut[base : base + 3] = np.array([y0, a1, a2], np.int64).astype(np.int16)
    return lut


def _log_lut() -> np.ndarray:
    """log2(1 + x) - x in Q16 at 128 segments (plus a guard entry)."""
    segs = 1 << LOG_SEGMENTS_LOG2
    values = [round((math.log2(1 + i / segs) - i / segs) * (1 << LOG_SCALE_LOG2)) for i in range(segs + 1)]
    return np.array(values + [0], np.uint16)


def _q14(value: float) -> int:
    return int(np.float32(np.float32(value) * np.float32(1 << NOISE_REDUCTION_BITS)))


@functools.lru_cache(maxsize=16)
def frontend_tables(params: FrontendParams) -> FrontendTables:
    """All integer constants for ``params`` (cached; params are frozen)."""
    fft_size = params.fft_size
    twiddles, super_tw, bitrev = _fft_tables(fft_size)
    start, end, bands, weights, unweights = _filterbank(params, fft_size // 2 + 1)
    correction = (fft_size.bit_length()) - 1 - FILTERBANK_BITS // 2
    return FrontendTables(
        window=_hann_window(params.window_samples),
        twiddles=twiddles,
        super_twiddles=super_tw,
        bitrev=bitrev,
        start_bin=start,
        end_bin=end,
        bin_channel=bands,
        bin_weight=weights,
        bin_unweight=unweights,
        even_smoothing=_q14(params.even_smoothing),
        odd_smoothing=_q14(params.odd_smoothing),
        min_signal_remaining=_q14(params.min_signal_remaining),
        pcan_lut=_pcan_lut(params, params.smoothing_bits - correction),
        pcan_snr_shift=params.pcan_gain_bits - correction - PCAN_SNR_BITS,
        log_lut=_log_lut(),
        input_correction_bits=correction,
    )
