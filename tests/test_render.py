import io

import numpy as np
import pytest

from digitseq.render import LUMA, RenderStyle, render


def png_bytes(img):
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_same_seed_gives_byte_identical_images(train_font):
    for seed in range(5):
        a = render("00427", train_font, RenderStyle(), seed)
        b = render("00427", train_font, RenderStyle(), np.random.default_rng(seed))
        assert png_bytes(a) == png_bytes(b)
    assert png_bytes(render("00427", train_font, rng=1)) != png_bytes(render("00427", train_font, rng=2))


@pytest.mark.parametrize("seed", range(12))
def test_text_and_background_keep_the_minimum_contrast(train_font, seed):
    style = RenderStyle().with_(blur=0, low_res=0, noise=0, jpeg=0, colour=0.5, light_on_dark=0.5)
    steps = {}
    img = np.asarray(render("123", train_font, style, seed, steps=steps), dtype=np.float32) / 255
    lum = img @ LUMA
    mask = steps["mask"]
    ink, paper = lum[mask > 0.99], lum[mask < 0.01]
    assert ink.size and paper.size
    # Every background pixel differs from the text colour by at least min_contrast (minus rounding).
    assert np.abs(paper - ink.mean()).min() >= style.min_contrast - 0.01


def test_clean_style_is_black_on_white_and_repeatable(train_font):
    a = np.asarray(render("42", train_font, RenderStyle.clean(), 1))
    b = np.asarray(render("42", train_font, RenderStyle.clean(), 2))
    assert a.shape == b.shape and (a == b).all()      # no randomness left
    assert a.max() == 255 and a[0, 0].tolist() == [255, 255, 255] and a.min() == 0


def test_every_stage_can_be_switched_on_and_off(train_font):
    always = RenderStyle().with_(blur=1, low_res=1, noise=1, jpeg=1)
    steps = {}
    render("7", train_font, always, 0, steps=steps)
    assert {"glyphs", "geometry", "colour", "blur", "low_res", "noise", "jpeg"} <= set(steps)
    steps = {}
    render("7", train_font, RenderStyle.clean(), 0, steps=steps)
    assert not {"blur", "low_res", "noise", "jpeg"} & set(steps)


def test_tight_spacing_keeps_characters_in_order(train_font):
    tight = RenderStyle.clean().with_(spacing=(-0.3, -0.3))
    wide = RenderStyle.clean().with_(spacing=(0.3, 0.3))
    assert render("8888", train_font, tight, 0).width < render("8888", train_font, wide, 0).width


def test_empty_text_is_refused(train_font):
    with pytest.raises(ValueError):
        render("", train_font)
