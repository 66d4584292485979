import io
import json

import numpy as np
import pytest

from digitseq.render import EXTRA_EFFECTS, LUMA, STYLES, RenderStyle, render


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
    # (Fragile lettering and layout stress skip blur and low resolution.)
    always = RenderStyle().with_(blur=1, low_res=1, noise=1, jpeg=1, dot_matrix=0, stroke=0, outline=0, layout=0)
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


# --- issue 9: effects that generalise, layout stress ---


# Clean, but with room around the text for clutter at the edges.
ROOMY = RenderStyle.clean().with_(margin=(0.6, 0.6))


def ink(img):
    """Darkness 0..1 of a black-on-white image."""
    return 1.0 - np.asarray(img.convert("L"), dtype=np.float32) / 255


@pytest.fixture(scope="module")
def other_font():
    from digitseq.fonts import load_fonts

    return next(f for f in load_fonts(split="train") if f.family == "DejaVu Serif").path


@pytest.mark.parametrize("name", EXTRA_EFFECTS)
def test_each_new_effect_changes_the_image_when_certain(train_font, other_font, name):
    text = "4071"
    plain = [png_bytes(render(text, train_font, ROOMY, seed, alt_fonts=[other_font])) for seed in range(3)]
    always = ROOMY.with_(**{name: 1.0})
    changed = [png_bytes(render(text, train_font, always, seed, alt_fonts=[other_font])) for seed in range(3)]
    assert all(a != b for a, b in zip(plain, changed))


def test_clean_style_has_every_new_effect_off_and_augmented_keeps_them_modest():
    clean, aug = RenderStyle.clean(), RenderStyle.augmented()
    for name in EXTRA_EFFECTS:
        assert getattr(clean, name) == 0
        assert 0.05 <= getattr(aug, name) <= 0.25, name
    assert RenderStyle() == aug


def test_presets_by_name_and_on_the_command_line():
    from digitseq.cli import build_parser

    for name in STYLES:
        assert RenderStyle.named(name) == getattr(RenderStyle, name)()
        assert build_parser().parse_args(["generate", "out", "--count", "1", "--style", name]).style == name
    assert RenderStyle.named("wild").layout > RenderStyle.named("augmented").layout
    assert RenderStyle.named("captcha").captcha_lines > RenderStyle.named("augmented").captcha_lines
    assert RenderStyle.named("dots") == RenderStyle.named("augmented").with_(dot_matrix=1.0)
    assert RenderStyle.named("zeros") == RenderStyle.named("augmented").with_(zero_mark=1.0)
    for name in STYLES:          # meta.json keeps a set's style: it must come back as it was
        assert RenderStyle.from_dict(json.loads(json.dumps(RenderStyle.named(name).to_dict()))) == RenderStyle.named(name)
    with pytest.raises(ValueError):
        RenderStyle.named("fancy")


@pytest.mark.parametrize("name", ["augmented", "wild", "captcha"])
def test_presets_are_deterministic(train_font, other_font, name):
    style = RenderStyle.named(name)
    for seed in range(8):
        a = render("0123456789", train_font, style, seed, alt_fonts=[other_font])
        b = render("0123456789", train_font, style, np.random.default_rng(seed), alt_fonts=[other_font])
        assert png_bytes(a) == png_bytes(b)


def test_new_stages_are_recorded(train_font):
    steps = {}
    render("58", train_font, ROOMY.with_(motion_blur=1.0), 0, steps=steps)
    assert {"glyphs", "strokes", "geometry", "clutter", "colour", "motion_blur"} <= set(steps)
    assert steps["size"] == 32     # the clean style draws at 32 px and nothing shrank it
    assert steps["mask"].shape == np.asarray(steps["colour"]).shape[:2]


def test_mixed_fonts_need_other_fonts(train_font, other_font):
    mixed = ROOMY.with_(mixed_fonts=1.0)
    assert png_bytes(render("3333", train_font, mixed, 0)) == png_bytes(render("3333", train_font, ROOMY, 0))
    assert png_bytes(render("3333", train_font, mixed, 0, alt_fonts=[other_font])) != png_bytes(
        render("3333", train_font, ROOMY, 0))


def test_stroke_change_thickens_and_thins(train_font):
    plain = ink(render("4096", train_font, ROOMY, 0)).sum()
    thick = ink(render("4096", train_font, ROOMY.with_(stroke=1.0, stroke_change=(0.06, 0.06)), 0)).sum()
    thin = ink(render("4096", train_font, ROOMY.with_(stroke=1.0, stroke_change=(-0.04, -0.04)), 0)).sum()
    assert thin < 0.85 * plain and thick > 1.2 * plain


def test_filled_boxes_put_light_text_in_dark_boxes(train_font):
    style = ROOMY.with_(char_box=1.0, char_box_filled=1.0)
    for seed in range(4):
        steps = {}
        render("1234", train_font, style, seed, steps=steps)
        m = steps["mask"]
        rows, cols = np.nonzero(m > 0.5)
        box = m[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.mean() > 0.55                       # mostly box colour...
        assert (box < 0.1).mean() > 0.04               # ...with the glyphs cut out of it
        # One dark box per character: the middle row crosses four dark runs.
        band = box[box.shape[0] // 8] > 0.5
        runs = np.count_nonzero(np.diff(band.astype(int)) == 1) + band[0]
        assert runs == 4 or (runs == 1 and band.all())   # boxes may touch (shared walls)


def test_outlined_boxes_draw_a_rectangle_around_each_character(train_font):
    steps = {}
    render("77", train_font, ROOMY.with_(char_box=1.0, char_box_filled=0.0), 3, steps=steps)
    m = steps["mask"] > 0.5
    rows = np.nonzero(m.any(axis=1))[0]
    top_edge = m[rows.min()]
    assert top_edge.mean() > 0.5       # the top of the boxes is a long line; a glyph's top never is


def test_layout_stress_varies_how_much_of_the_height_the_ink_fills(train_font):
    style = RenderStyle.clean().with_(layout=1.0)
    fractions = []
    for seed in range(40):
        steps = {}
        render("052", train_font, style, seed, steps=steps)
        rows = np.nonzero((steps["mask"] > 0.3).any(axis=1))[0]
        fractions.append((rows.max() - rows.min() + 1) / steps["mask"].shape[0])
    assert min(fractions) < 0.25 and max(fractions) > 0.9
    assert np.ptp(fractions) > 0.6


def test_big_rotation_grows_the_box(train_font):
    flat = render("1234567890", train_font, ROOMY, 0)
    turned = render("1234567890", train_font, ROOMY.with_(big_rotation=1.0, big_rotation_range=30.0), 0)
    assert turned.height > 1.5 * flat.height


def test_segment_rendering_only_for_digits(train_font):
    segment = ROOMY.with_(segment=1.0)
    assert png_bytes(render("2024", train_font, segment, 0)) != png_bytes(render("2024", train_font, ROOMY, 0))
    # Letters cannot be drawn in segments: the font draws the text, exactly as without the effect.
    assert png_bytes(render("20a4", train_font, segment, 0)) == png_bytes(render("20a4", train_font, ROOMY, 0))


def test_neighbours_stay_clear_of_the_text(train_font):
    style = ROOMY.with_(margin=(1.5, 1.5), neighbours=1.0)
    for seed in range(10):
        plain, steps = {}, {}
        render("808", train_font, ROOMY.with_(margin=(1.5, 1.5)), seed, steps=plain)
        render("808", train_font, style, seed, steps=steps)
        a, b = plain["mask"], steps["mask"]
        assert a.shape == b.shape
        rows = np.nonzero((a > 0.3).any(axis=1))[0]
        cols = np.nonzero((a > 0.3).any(axis=0))[0]
        text = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        assert np.abs(a[text] - b[text]).max() < 0.01      # the text area is untouched


def test_stretch_condenses_or_widens_the_text(train_font):
    plain = render("12345", train_font, ROOMY, 0)
    narrow = render("12345", train_font, ROOMY.with_(stretch=1.0, stretch_range=(0.6, 0.6)), 0)
    wide = render("12345", train_font, ROOMY.with_(stretch=1.0, stretch_range=(1.5, 1.5)), 0)
    assert narrow.width < 0.8 * plain.width < plain.width * 1.0 < wide.width * 0.8
    assert narrow.height == plain.height == wide.height


def test_zero_mark_touches_only_strings_with_a_zero_and_older_folders_read_it_as_off(train_font):
    marked = ROOMY.with_(zero_mark=1.0)
    # No zero: nothing is marked and nothing more is drawn from the generator, so the image is the same.
    assert png_bytes(render("4171", train_font, marked, 7)) == png_bytes(render("4171", train_font, ROOMY, 7))
    assert png_bytes(render("4070", train_font, marked, 7)) != png_bytes(render("4070", train_font, ROOMY, 7))
    # Off in the style that drew the wild test sets; a meta.json written before the field existed means off.
    assert RenderStyle.wild().zero_mark == 0 and RenderStyle.augmented().zero_mark > 0
    old = {k: v for k, v in RenderStyle.augmented().to_dict().items() if k != "zero_mark"}
    assert RenderStyle.from_dict(old).zero_mark == 0
