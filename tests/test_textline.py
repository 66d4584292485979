"""Text-line normalisation: hand-made images whose text box we know."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from digitseq.data import preprocess
from digitseq.textline import PAD_X, PAD_Y, _detect, crop_to_text, skew_angle, text_box


def page(h=120, w=400, bg=230, fg=20, box=(100, 50, 260, 80), stripes=True):
    """A background with a 'text' block: vertical strokes (like digits) inside ``box`` (l, t, r, b)."""
    img = np.full((h, w), bg, np.uint8)
    left, top, right, bottom = box
    if stripes:
        for x in range(left, right, 12):
            img[top:bottom, x:min(x + 6, right)] = fg
    else:
        img[top:bottom, left:right] = fg
    return img


def close(found, want, tol=3):
    return all(abs(a - b) <= tol for a, b in zip(found, want))


@pytest.mark.parametrize("bg,fg", [(230, 20), (20, 230), (140, 40)])
def test_finds_the_text_in_either_polarity(bg, fg):
    img = page(bg=bg, fg=fg)
    assert close(text_box(img), (100, 50, 260, 80))


def test_crop_keeps_text_and_a_margin_proportional_to_its_height():
    img = page()
    out = crop_to_text(img)
    # band ≈ 30 px (+2 of blur each side): ≈ 4 px kept above and below, ≈ 8 px left and right
    assert abs(out.shape[0] - (30 + 2 * 4)) <= 6 and abs(out.shape[1] - (160 + 2 * 8)) <= 8
    assert (out < 128).any()


def test_linear_gradient_background():
    img = page(bg=200).astype(np.float32)
    img += np.linspace(-60, 50, img.shape[1])[None, :]   # strong left-right gradient
    img = np.clip(img, 0, 255).astype(np.uint8)
    img[50:80][page()[50:80] < 128] = 10
    assert close(text_box(img), (100, 50, 260, 80))


def test_pixel_noise_does_not_move_the_box():
    rng = np.random.default_rng(0)
    img = page().astype(np.float32) + rng.normal(0, 12, (120, 400))
    assert close(text_box(np.clip(img, 0, 255).astype(np.uint8)), (100, 50, 260, 80), tol=4)


def test_far_stray_mark_and_border_line_are_left_out():
    img = page()
    img[10:14, 370:374] = 20          # a speck far to the right, above the line
    img[112:114, :] = 20              # a rule along the bottom edge
    img[55:60, 385:390] = 20          # a mark on the text's rows, far to the right
    assert close(text_box(img), (100, 50, 260, 80))


def test_small_text_beside_a_heavy_rule_is_chosen_over_the_rule():
    # Small text in a corner and a thick full-width rule elsewhere: the rule has more ink than the text (the old
    # choice, by ink mass, cropped to the rule: a 400x8 sliver) but one edge per row; the text has many.
    img = page(box=(20, 14, 120, 30))
    img[80:90, :] = 20
    assert (img[80:90] < 128).sum() > 2 * (img[14:30] < 128).sum()   # the rule really is the heavier band
    assert close(text_box(img), (20, 14, 120, 30))


def test_close_parts_of_a_line_are_kept():
    img = page()
    img[84:86, 100:260] = 20          # an underline just below the text belongs to the line
    box = text_box(img)
    assert box[3] >= 85


def test_blank_and_tiny_images_are_returned_unchanged():
    blank = np.full((40, 100), 200, np.uint8)
    assert crop_to_text(blank) is blank
    tiny = np.zeros((3, 3), np.uint8)
    assert crop_to_text(tiny) is tiny


def test_large_images_are_detected_on_a_reduced_copy():
    img = page(h=960, w=3200, box=(800, 400, 2080, 640))
    assert close(text_box(img), (800, 400, 2080, 640), tol=24)


def test_preprocess_switch():
    img = page(h=200, w=400, box=(150, 80, 250, 110))
    off = preprocess(img, 32)
    on = preprocess(img, 32, textline=True)
    assert off.shape == (32, 64)
    assert on.shape[0] == 32 and on.shape[1] > 1.3 * off.shape[1]   # the text now fills the height


def test_fast_median_matches_numpy():
    from digitseq.textline import _median

    assert _median(np.array([3, 1, 2], np.float32)) == 2.0
    assert _median(np.array([4, 1, 3, 2], np.float32)) == 2.5
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 100, 1001):
        v = (rng.random(n) * 255).astype(np.float32)
        m = _median(v)
        assert m == np.median(v) and m.dtype == np.float32


def line_image(font_path, text="0427315", angle=0.0, size=40):
    img = Image.new("L", (40 + size * len(text), 2 * size), 235)
    ImageDraw.Draw(img).text((10, size // 4), text, font=ImageFont.truetype(str(font_path), size), fill=20)
    return np.asarray(img.rotate(angle, expand=True, fillcolor=235, resample=Image.BILINEAR))


@pytest.mark.parametrize("angle", [-35, -20, 12, 25, 35])
def test_a_rotated_line_is_levelled_before_cropping(train_font, angle):
    img = line_image(train_font, angle=angle)
    assert abs(skew_angle(_detect(img)[0]) + angle) <= 4     # the rotation that undoes it, within 4 degrees
    level = crop_to_text(line_image(train_font))
    out = crop_to_text(img)
    assert out.shape[0] < 1.7 * level.shape[0]                # about a level line's height, not the rotated box's
    assert crop_to_text(img, deskew=False).shape[0] > 2 * level.shape[0]


@pytest.mark.parametrize("text", ["7", "42", "1"])
def test_level_lines_and_lone_characters_are_not_rotated(train_font, text):
    # a lone 7 "leans" (its stroke is diagonal): a character or two have no line direction to level
    assert skew_angle(_detect(line_image(train_font, text))[0]) == 0.0
    assert skew_angle(_detect(line_image(train_font, "0427315", angle=3))[0]) == 0.0


def framed_line(font_path, text="0427315", size=40, pad=0.5, tilt=0.0, wave=0.0, frame=True):
    """A line of text in a rectangle drawn ``pad`` text heights away from it (optionally tilted by ``tilt``
    degrees, and its top and bottom lines bent by ``wave`` pixels), on a page with room around it."""
    img = Image.new("L", (80 + size * len(text), 4 * size), 235)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(font_path), size)
    draw.text((40, 1.5 * size), text, font=font, fill=20)
    left, top, right, bottom = draw.textbbox((40, 1.5 * size), text, font=font)
    p = pad * (bottom - top)
    xs = np.linspace(left - p, right + p, 40)
    bend = wave * np.sin(xs / 15)
    outline = ([(x, top - p + b) for x, b in zip(xs, bend)] + [(x, bottom + p + b) for x, b in zip(xs[::-1], bend[::-1])])
    if frame:
        draw.line(outline + [outline[0]], fill=20, width=3)
    return np.asarray(img.rotate(tilt, expand=True, fillcolor=235, resample=Image.BILINEAR))


@pytest.mark.parametrize("tilt,wave", [(0, 0), (0, 3), (1.5, 0), (-2, 2)])
def test_the_text_inside_a_frame_is_cropped_not_the_frame(train_font, tilt, wave):
    want = text_box(framed_line(train_font, tilt=tilt, wave=wave, frame=False))     # the same text, unframed
    found = text_box(framed_line(train_font, tilt=tilt, wave=wave))
    # the frame is 2 x 0.5 text heights taller than the text; the box found is the text's, within a few pixels
    assert close(found, want, tol=0.12 * (want[3] - want[1])), (found, want)


def test_unframed_lines_and_underlined_ones_keep_their_box(train_font):
    plain = line_image(train_font)
    lined = plain.copy()
    box = text_box(plain)
    lined[box[3] + 4:box[3] + 7, box[0]:box[2]] = 20         # an underline belongs to the line, as before
    assert text_box(lined)[3] >= box[3] + 6
    assert close(text_box(lined)[:3], box[:3])


@pytest.mark.parametrize("bg,fg", [(230, 20), (40, 220)])
def test_a_border_line_along_the_image_edge_does_not_make_everything_ink(bg, fg):
    """A line a pixel in from the edge (matplotlib's bordered images) makes the border ring two-toned: the
    background plane used to land between the tones, every pixel looked like ink and the crop kept the whole image."""
    img = page(bg=bg, fg=fg)
    for t in (1, 2):                                   # a 2-px line, one pixel in from each edge
        img[t, 1:-1] = img[-1 - t, 1:-1] = img[1:-1, t] = img[1:-1, -1 - t] = fg
    ink, _, _ = _detect(img)
    assert ink.mean() < 0.5
    assert close(text_box(img), (100, 50, 260, 80))
    out = crop_to_text(img)
    assert out.shape[0] < 60 and out.shape[1] < 200    # the text with its margin, not the 120 × 400 image


def test_text_touching_a_border_around_the_image_is_cropped_without_the_border():
    """Text that touches the border drawn around the image joins it into one block of ink; the border's rows and
    columns at the image's edge are left out, so the crop is the text's."""
    img = page(bg=40, fg=220, box=(100, 3, 260, 33))
    for t in (1, 2):
        img[t, 1:-1] = img[-1 - t, 1:-1] = img[1:-1, t] = img[1:-1, -1 - t] = 220
    assert close(text_box(img), (100, 3, 260, 33), tol=4)
    assert crop_to_text(img).shape[0] < 50


def test_box_blur_is_pils_box_blur_exactly():
    from PIL import ImageFilter

    from digitseq.textline import _box_blur

    rng = np.random.default_rng(0)
    for h, w in [(1, 1), (1, 6), (6, 1), (2, 2), (3, 7), (48, 300), (61, 17)]:
        u = rng.integers(0, 256, (h, w), dtype=np.uint8)
        want = np.asarray(Image.fromarray(u).filter(ImageFilter.BoxBlur(1)))
        assert np.array_equal(_box_blur(u.astype(np.uint16)), want), (h, w)
    # by hand: a lone 255 spreads as round(255/3) = 85 to its row, then round(85/3) = 28 around it
    u = np.zeros((3, 3), np.uint16)
    u[1, 1] = 255
    assert _box_blur(u).tolist() == [[28, 28, 28], [28, 28, 28], [28, 28, 28]]


def test_fill_runs_takes_whole_runs_that_hold_a_seed():
    from digitseq.textline import _fill_runs

    mask = np.array([[1, 1, 0, 1, 1, 1],
                     [0, 1, 1, 1, 0, 1]], bool)
    seed = np.zeros_like(mask)
    seed[0, 4] = seed[1, 5] = True
    assert _fill_runs(seed, mask).astype(int).tolist() == [[0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 1]]
    assert not _fill_runs(np.zeros_like(mask), mask).any()


def test_frame_made_of_a_long_winding_line_is_found_whole():
    # the frame's sides are reached along its lines (runs), not one pixel per step: a frame 400 px wide
    # around short text is still recognised and the crop is the text's
    img = page(h=100, w=460, box=(190, 40, 270, 62))
    img[10:13, 20:440] = 20
    img[88:91, 20:440] = 20
    img[10:91, 20:23] = 20
    img[10:91, 437:440] = 20
    left, top, right, bottom = text_box(img)
    assert close((left, top, right, bottom), (190, 40, 270, 62), tol=4)


def test_an_image_cut_out_at_its_text_gets_its_whole_margin_in_the_background_grey(train_font):
    line = line_image(train_font, "5827", size=40)
    ys, xs = np.nonzero(line < 128)
    tight = np.ascontiguousarray(line[ys.min():ys.max() + 1, xs.min():xs.max() + 1])   # cut at its ink
    plain = crop_to_text(tight, pad_edges=False)
    assert plain.shape == tight.shape                                  # no margin to keep inside the image
    padded = crop_to_text(tight, pad_edges=True)
    band = tight.shape[0]
    assert padded.shape[0] >= band * (1 + 2 * PAD_Y) - 2 and padded.shape[1] >= tight.shape[1] + 2 * PAD_X * band - 2
    assert padded[0, 0] == padded[-1, -1] == 235                      # filled in the background's grey
    ys, xs = np.nonzero(padded < 128)                                  # all the ink is there, margins around it
    assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == tight.shape
    assert ys.min() >= PAD_Y * band - 2 and xs.min() >= PAD_X * band - 2
    # room on two sides (the text in a corner of a larger image): cropped as before, nothing padded
    corner = np.full((tight.shape[0] + 30, tight.shape[1] + 60), 235, np.uint8)
    corner[:tight.shape[0], :tight.shape[1]] = tight
    np.testing.assert_array_equal(crop_to_text(corner, pad_edges=True), crop_to_text(corner, pad_edges=False))
    # room all round: the same crop either way
    np.testing.assert_array_equal(crop_to_text(line, pad_edges=True), crop_to_text(line, pad_edges=False))


def test_pad_edges_reaches_every_way_an_image_is_read(train_font, tmp_path, capsys):
    """``pad_edges`` (off by default) is an option of the reader, not only of crop_to_text: one image, a list, a
    folder read by worker processes, the partner, evaluate and the command line all crop with it."""
    from digitseq.cli import main
    from digitseq.evaluate import evaluate_folder
    from digitseq.image import iter_loaded
    from digitseq.recognize import Recognizer

    line = line_image(train_font, "5827", size=40)
    ys, xs = np.nonzero(line < 128)
    tight = np.ascontiguousarray(line[ys.min():ys.max() + 1, xs.min():xs.max() + 1])   # cut at its ink
    path = tmp_path / "tight.png"
    Image.fromarray(tight).save(path)
    (tmp_path / "labels.csv").write_text("filename,label\ntight.png,5827\n")
    plain, padded = (preprocess(tight, 32, textline=True, pad_edges=p) for p in (False, True))
    assert (padded[0] > 200).all() and not (plain[0] > 200).all()   # a top margin in the background's grey, or ink
    rec = Recognizer.load("digits", pad_edges=True)
    assert rec.pad_edges and rec.partner is not None and rec.partner.pad_edges        # the partner crops alike
    for image in (str(path), tight, Image.fromarray(tight)):
        np.testing.assert_array_equal(rec.prepare(image), padded)
    np.testing.assert_array_equal(Recognizer.load("digits").prepare(str(path)), plain)   # off by default
    for processes in (False, True):
        got = list(iter_loaded([path] * 3, 32, True, workers=2, processes=processes, pad_edges=True))
        assert all(err is None and np.array_equal(arr, padded) for arr, err in got)
    report = evaluate_folder(tmp_path, "digits", pad_edges=True)
    assert report["pad_edges"] is True and report["n"] == 1
    assert main(["recognize", str(path), "--pad-edges", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(str(path))
    assert main(["recognize", str(path), "--pad-edges", "--no-textline"]) != 0
    err = capsys.readouterr().err
    assert "pad_edges" in err and "Traceback" not in err
