import csv
from pathlib import Path

import numpy as np
import pytest
from fontmaker import DIGIT_SEGMENTS, make_font

from digitseq import DEFAULT_FONT_DIR, DIGITS, fontcheck
from digitseq.codec import PRINTABLE_ASCII
from digitseq.errors import DataError
from digitseq.fonts import SPLITS, families, load_fonts, missing_glyphs


def test_font_pool_size_and_disjoint_splits():
    fonts = load_fonts()
    fams = {s: set(families(load_fonts(split=s))) for s in SPLITS}
    assert len(families(fonts)) >= 300
    assert len(fams["wild"]) >= 30 and len(fams["test"]) >= 6
    for a in SPLITS:
        for b in SPLITS:
            assert a == b or not fams[a] & fams[b], (a, b)
    assert {f.category for f in load_fonts(split="test")} >= {"serif", "sans", "mono"}
    # every category of the pool is still trained on
    assert {f.category for f in load_fonts(split="train")} == {f.category for f in fonts}


def test_wild_split_is_diverse():
    cats = {f.category for f in load_fonts(split="wild")}
    assert len(cats) >= 6 and {"handwriting", "script", "display", "pixel"} <= cats


def test_every_font_has_a_licence_and_readme_line():
    readme = (DEFAULT_FONT_DIR / "README.md").read_text()
    for f in load_fonts():
        assert (Path(f.path).parent / "LICENSE.txt").is_file(), f.path
        assert Path(f.path).name in readme


def test_fonts_csv_lists_rejected_files_with_reasons_and_only_ok_files_are_vendored():
    with open(DEFAULT_FONT_DIR / "fonts.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["status"] for r in rows} == {"ok", "rejected"}
    for r in rows:
        if r["status"] == "rejected":
            assert r["reason"], r["file"]
            assert not (DEFAULT_FONT_DIR / r["file"]).exists(), r["file"]
        else:
            assert (DEFAULT_FONT_DIR / r["file"]).is_file()
    vendored = {p.relative_to(DEFAULT_FONT_DIR).as_posix() for p in DEFAULT_FONT_DIR.rglob("*")
                if p.suffix.lower() in (".ttf", ".otf", ".ttc")}
    assert vendored == {r["file"] for r in rows if r["status"] == "ok"}


def test_font_folder_stays_under_100_mb():
    size = sum(p.stat().st_size for p in DEFAULT_FONT_DIR.rglob("*") if p.is_file())
    assert size <= 100 * 2**20


def test_every_font_draws_the_digits():
    for f in load_fonts():
        assert missing_glyphs(f.path, DIGITS) == "", f.path


def test_missing_glyphs_finds_letters_a_seven_segment_font_lacks():
    dseg7 = next(f for f in load_fonts() if f.family.startswith("DSEG7"))
    missing = missing_glyphs(dseg7.path, PRINTABLE_ASCII)
    assert "@" in missing and "#" in missing and "0" not in missing
    ascii_fonts = load_fonts(alphabet=PRINTABLE_ASCII)
    assert dseg7.path not in {f.path for f in ascii_fonts} and len(ascii_fonts) >= 30


def test_load_fonts_skips_rejected_rows_and_reads_wild(tmp_path):
    make_font(tmp_path / "seg.ttf")
    (tmp_path / "fonts.csv").write_text(
        "file,family,style,category,package,licence,split,ascii,status,reason\n"
        "seg.ttf,Seg,Regular,segment,p,OFL-1.1,wild,no,ok,\n"
        "gone.ttf,Gone,Regular,sans,p,OFL-1.1,,,rejected,glyph 5 missing (.notdef)\n")
    fonts = load_fonts(tmp_path)
    assert [f.family for f in fonts] == ["Seg"] and fonts[0].split == "wild"
    assert load_fonts(tmp_path, split="wild") == fonts
    with pytest.raises(DataError, match="no fonts"):
        load_fonts(tmp_path, split="train")


def test_load_fonts_rejects_an_unknown_status(tmp_path):
    make_font(tmp_path / "seg.ttf")
    (tmp_path / "fonts.csv").write_text("file,family,split,status\nseg.ttf,Seg,train,maybe\n")
    with pytest.raises(DataError, match="status"):
        load_fonts(tmp_path)


# ---- the build-time filter, on hand-made fonts and bitmaps

def test_filter_accepts_a_clean_seven_segment_font(tmp_path):
    v = fontcheck.check_file(str(make_font(tmp_path / "ok.ttf")))
    assert v.ok, v.reason
    assert v.vectors.shape == (10, fontcheck.NORM ** 2)


def test_filter_rejects_a_missing_digit(tmp_path):
    digits = {d: s for d, s in DIGIT_SEGMENTS.items() if d != "5"}
    v = fontcheck.check_file(str(make_font(tmp_path / "no5.ttf", digits)))
    assert not v.ok and v.reason == "glyph 5 missing (not in cmap)"


def test_filter_rejects_two_digits_drawn_alike(tmp_path):
    v = fontcheck.check_file(str(make_font(tmp_path / "dup.ttf", dict(DIGIT_SEGMENTS, **{"7": "bc"}))))
    assert not v.ok and "digit 1 and 7 drawn alike" in v.reason


def test_filter_rejects_an_empty_digit(tmp_path):
    v = fontcheck.check_file(str(make_font(tmp_path / "empty.ttf", dict(DIGIT_SEGMENTS, **{"3": ""}))))
    assert not v.ok and v.reason == "glyph 3 empty"


def test_filter_rejects_a_hairline_and_a_tiny_digit():
    big = np.full((18, 10), 255, np.uint8)
    inks = {d: big for d in DIGITS}
    assert fontcheck.readable(inks) == ""
    hair = np.zeros((18, 10), np.uint8)
    hair[:, 4] = 90           # one faint column: never 50% ink
    assert "too faint" in fontcheck.readable(dict(inks, **{"4": hair}))
    assert "2 px tall" in fontcheck.readable(dict(inks, **{"8": np.full((2, 10), 255, np.uint8)}))


def test_filter_rejects_pictures_on_the_digit_keys(tmp_path):
    bank = fontcheck.digit_bank([str(make_font(tmp_path / "ref.ttf"))])
    assert fontcheck.judge_digits(*_inks(tmp_path / "ref.ttf"), bank).ok
    # every digit drawn as some other digit's shape (a cyclic shift): distinct, but not 0-9
    shifted = {d: DIGIT_SEGMENTS[DIGITS[(i + 1) % 10]] for i, d in enumerate(DIGITS)}
    v = fontcheck.judge_digits(*_inks(make_font(tmp_path / "pic.ttf", shifted)), bank)
    assert not v.ok and "do not look like 0-9 (0/10" in v.reason


def test_ascii_check_needs_all_printable_characters(tmp_path):
    assert not fontcheck.ascii_ok(str(make_font(tmp_path / "seg.ttf")))
    dejavu = next(f for f in load_fonts() if f.family == "DejaVu Sans")
    assert fontcheck.ascii_ok(dejavu.path)


def _inks(path):
    from PIL import ImageFont
    f64, f24 = ImageFont.truetype(str(path), 64), ImageFont.truetype(str(path), 24)
    return ({d: fontcheck.render(f64, d) for d in DIGITS}, {d: fontcheck.render(f24, d) for d in DIGITS})


def test_load_fonts_keeps_ascii_no_fonts_for_digits_only(tmp_path):
    make_font(tmp_path / "seg.ttf")
    make_font(tmp_path / "seg2.ttf")
    (tmp_path / "fonts.csv").write_text(
        "file,family,style,category,package,licence,split,ascii,status,reason\n"
        "seg.ttf,Seg,Regular,segment,p,OFL-1.1,train,no,ok,\n"
        "seg2.ttf,Seg Two,Regular,segment,p,OFL-1.1,train,yes,ok,\n")
    assert [f.ascii for f in load_fonts(tmp_path, alphabet=DIGITS)] == [False, True]
    # ascii=yes is trusted for printable ASCII (checked at build time), ascii=no never draws letters
    assert [f.family for f in load_fonts(tmp_path, alphabet="0123abc")] == ["Seg Two"]
    # characters beyond ASCII are checked by rendering: the hand-made font has no "é"
    with pytest.raises(DataError, match="no fonts"):
        load_fonts(tmp_path, alphabet="0é")


def test_ascii_check_keeps_out_faces_without_a_lower_case_and_greek_on_the_latin_keys():
    by_family = {f.family: f.path for f in load_fonts()}
    assert fontcheck.ascii_verdict(by_family["DejaVu Sans"]) == ""
    assert "no lower case of its own" in fontcheck.ascii_verdict(by_family["Irianis ADF Style Std"])   # small caps
    assert "no lower case of its own" in fontcheck.ascii_verdict(by_family["unifur"])                  # unicase
    assert "symbol-encoded" in fontcheck.ascii_verdict(by_family["Standard Symbols PS"])
    # they still draw digits, so they stay in the digit pool
    ascii_paths = {f.path for f in load_fonts(alphabet=PRINTABLE_ASCII)}
    assert by_family["unifur"] not in ascii_paths and by_family["unifur"] in {f.path for f in load_fonts()}


def test_every_ascii_font_has_a_lower_case_of_its_own():
    from PIL import ImageFont
    for f in load_fonts(alphabet=PRINTABLE_ASCII):
        font = ImageFont.truetype(f.path, 64, layout_engine=ImageFont.Layout.BASIC)
        assert fontcheck.case_likeness(font) <= fontcheck.CASE_ALIKE, f.path
