from pathlib import Path

from digitseq import DIGITS
from digitseq.codec import PRINTABLE_ASCII
from digitseq.fonts import families, load_fonts, missing_glyphs


def test_font_collection_size_and_disjoint_split():
    fonts = load_fonts()
    assert len(fonts) >= 40 and len(families(fonts)) >= 18
    train = set(families(load_fonts(split="train")))
    test = set(families(load_fonts(split="test")))
    assert len(test) >= 4
    assert not train & test
    assert {f.category for f in load_fonts(split="test")} >= {"serif", "sans", "mono"}


def test_every_font_has_a_licence_and_readme_line():
    readme = (Path(load_fonts()[0].path).parents[1] / "README.md").read_text()
    for f in load_fonts():
        assert (Path(f.path).parent / "LICENSE.txt").is_file(), f.path
        assert Path(f.path).name in readme


def test_every_font_draws_the_digits():
    for f in load_fonts():
        assert missing_glyphs(f.path, DIGITS) == "", f.path


def test_missing_glyphs_finds_letters_a_seven_segment_font_lacks():
    dseg7 = next(f for f in load_fonts() if f.family.startswith("DSEG7"))
    missing = missing_glyphs(dseg7.path, PRINTABLE_ASCII)
    assert "@" in missing and "#" in missing and "0" not in missing
    ascii_fonts = load_fonts(alphabet=PRINTABLE_ASCII)
    assert dseg7.path not in {f.path for f in ascii_fonts} and len(ascii_fonts) >= 30
