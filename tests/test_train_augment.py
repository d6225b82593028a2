"""Augmentation: seeded, keeps clips 1 s int16, noise at the asked SNR, shifts,
coloured noise slopes, silence levels, SpecAugment masks."""

from __future__ import annotations

import numpy as np
import pytest

from kws.train.augment import AugmentConfig, Augmenter, _reverb, _shift, coloured_noise, spec_augment

SR = 16000


def _tone_word() -> np.ndarray:
    t = np.arange(SR) / SR
    envelope = np.exp(-((t - 0.5) ** 2) / 0.01)
    return (8000 * envelope * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


def test_same_seed_same_variant_different_seed_different() -> None:
    aug = Augmenter(AugmentConfig())
    clip = _tone_word()
    a = aug(clip, np.random.default_rng([7, 1]))
    b = aug(clip, np.random.default_rng([7, 1]))
    c = aug(clip, np.random.default_rng([7, 2]))
    assert a.dtype == np.int16 and len(a) >= SR and (len(a) - SR) % 320 == 0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_noise_is_mixed_at_the_requested_snr() -> None:
    config = AugmentConfig(shift_ms=0, stretch_p=0, pitch_p=0, reverb_p=0, eq_p=0, bandpass_p=0,
                           gain_db=(0.0, 0.0), noise_p=1.0, snr_db=(10.0, 10.0), context_p=0.0)
    clip = _tone_word()
    noisy = Augmenter(config)(clip, np.random.default_rng(3)).astype(np.float64)
    noise = noisy - clip
    snr = 10 * np.log10(np.mean(clip.astype(np.float64) ** 2) / np.mean(noise**2))
    assert snr == pytest.approx(10.0, abs=0.3)


def test_lead_in_is_background_at_the_clip_noise_level() -> None:
    config = AugmentConfig(shift_ms=0, stretch_p=0, pitch_p=0, reverb_p=0, eq_p=0, bandpass_p=0,
                           gain_db=(0.0, 0.0), noise_p=1.0, snr_db=(20.0, 20.0), context_p=1.0)
    clip = _tone_word()
    out = Augmenter(config, stride=320)(clip, np.random.default_rng(5)).astype(np.float64)
    lead = len(out) - SR
    assert 0.5 * SR <= lead <= 2 * SR and lead % 320 == 0
    lead_rms = np.sqrt(np.mean(out[:lead] ** 2))
    clip_noise_rms = np.sqrt(np.mean((out[lead:] - clip) ** 2))
    assert lead_rms == pytest.approx(clip_noise_rms, rel=0.2)
    assert np.abs(out[lead:] - clip).max() < np.abs(clip).max()  # the clip itself is unchanged beneath


def test_recorded_noise_is_used_when_given() -> None:
    hum = 0.1 * np.sin(2 * np.pi * 50 * np.arange(3 * SR) / SR)
    aug = Augmenter(AugmentConfig(), noises=[hum])
    pieces = [aug.noise(SR, np.random.default_rng(i)) for i in range(20)]
    spectra = [np.abs(np.fft.rfft(p)) for p in pieces]
    # most draws are the 50 Hz recording (75%), the rest generated broadband noise
    hum_like = sum(s[50] > 0.5 * s.sum() / 10 for s in spectra)
    assert 10 <= hum_like < 20
    assert all(np.sqrt(np.mean(p**2)) == pytest.approx(1.0, rel=1e-3) for p in pieces)


@pytest.mark.parametrize("exponent", [0.0, 1.0, 2.0])
def test_coloured_noise_slope(exponent: float) -> None:
    noise = coloured_noise(1 << 16, exponent, np.random.default_rng(0))
    power = np.abs(np.fft.rfft(noise)) ** 2
    freqs = np.fft.rfftfreq(len(noise))
    band = (freqs > 0.001) & (freqs < 0.4)
    slope = np.polyfit(np.log(freqs[band]), np.log(power[band] + 1e-20), 1)[0]
    assert slope == pytest.approx(-exponent, abs=0.15)


def test_shift_and_reverb_keep_length_and_energy() -> None:
    x = np.zeros(100, np.float32)
    x[10] = 1.0
    assert np.argmax(_shift(x, 5)) == 15 and np.argmax(_shift(x, -5)) == 5
    clip = _tone_word().astype(np.float32) / 32768
    wet = _reverb(clip, 0.5, np.random.default_rng(0))
    assert wet.shape == clip.shape
    assert np.sqrt(np.mean(wet**2)) == pytest.approx(np.sqrt(np.mean(clip**2)), rel=1e-3)
    assert np.abs(wet[SR // 2 + 4000 :]).max() > np.abs(clip[SR // 2 + 4000 :]).max()  # a tail


def test_silence_clips_are_quiet_but_not_all_digital_zero() -> None:
    aug = Augmenter(AugmentConfig())
    levels = [20 * np.log10(np.sqrt(np.mean(aug.silence(np.random.default_rng(i))[-SR:].astype(np.float64) ** 2))
                            / 32768 + 1e-12) for i in range(40)]
    assert max(levels) < -15 and np.median(levels) < -30 and len(set(np.round(levels))) > 10


def test_spec_augment_masks_whole_rows_and_columns() -> None:
    feats = np.random.default_rng(0).integers(-100, 100, (16, 49, 40)).astype(np.int8)
    config = AugmentConfig(time_masks=1, time_mask_frames=6, freq_masks=1, freq_mask_channels=5)
    out = spec_augment(feats, config, np.random.default_rng(1))
    assert out.dtype == np.int8 and out.shape == feats.shape
    changed = out != feats
    assert changed.any()
    for example, orig in zip(out, feats):
        fill = np.int8(np.round(orig.mean()))
        rows = [r for r in range(49) if (example[r] == fill).all()]
        cols = [c for c in range(40) if (example[:, c] == fill).all()]
        assert len(rows) <= 6 and len(cols) <= 5
        outside = np.ones_like(example, bool)
        outside[rows] = False
        outside[:, cols] = False
        np.testing.assert_array_equal(example[outside], orig[outside])
