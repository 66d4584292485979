"""The error contact sheet (digitseq.sheet, evaluate --error-sheet)."""

import numpy as np
from PIL import Image

from digitseq.cli import main
from digitseq.sheet import ROW_HEIGHT, _aligned, error_sheet


def test_aligned_marks_the_wrong_characters():
    top, bottom = _aligned("12345", "1245")          # '3' dropped
    assert [c for c, _ in top] == list("12345") and [c for c, red in top if red] == ["3"]
    assert [c for c, _ in bottom] == ["1", "2", "·", "4", "5"] and not any(red for _, red in bottom)
    top, bottom = _aligned("00427", "00421")         # '7' read as '1'
    assert [c for c, red in bottom if red] == ["1"] and not any(red for _, red in top)
    top, bottom = _aligned("12", "132")              # '3' added
    assert [c for c, _ in top] == ["1", "·", "2"] and [c for c, red in bottom if red] == ["3"]


def red_pixels(img: Image.Image) -> int:
    a = np.asarray(img.convert("RGB")).astype(int)
    return int(((a[..., 0] > 150) & (a[..., 1] < 90) & (a[..., 2] < 90)).sum())


def test_a_sheet_has_a_row_per_error_and_red_only_where_a_reading_is_wrong(tmp_path):
    img = tmp_path / "a.png"
    Image.new("L", (120, 30), 255).save(img)
    right = error_sheet([{"path": img, "truth": "123", "prediction": "123"}], tmp_path / "right.png")
    wrong = error_sheet([{"path": img, "truth": "123", "prediction": "128", "confidence": 0.5}] * 3,
                        tmp_path / "wrong.png", title="three")
    assert red_pixels(Image.open(right)) == 0 and red_pixels(Image.open(wrong)) > 0
    assert Image.open(wrong).height > 3 * ROW_HEIGHT > Image.open(right).height
    seen = error_sheet([{"path": img, "truth": "123", "prediction": "128"}], tmp_path / "seen.png",
                       prepare=lambda path: np.full((32, 700), 90, np.uint8))     # what the network saw, under it
    a = np.asarray(Image.open(seen).convert("L"))
    assert Image.open(seen).height >= ROW_HEIGHT + 32 and (a[ROW_HEIGHT:, :480] == 90).any()
    assert Image.open(seen).width < 480 + 400         # an input wider than the sheet's images is shrunk
    empty = Image.open(error_sheet([], tmp_path / "none.png"))
    assert empty.height < ROW_HEIGHT and red_pixels(empty) == 0
    gone = error_sheet([{"path": tmp_path / "gone.png", "truth": "1", "prediction": "7"}], tmp_path / "gone_sheet.png")
    assert Image.open(gone).height >= ROW_HEIGHT     # a file gone since: a grey box, not a crash


def test_evaluate_draws_its_worst_errors(digits_dir, shipped_model, tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    args = ["evaluate", str(digits_dir), "--model", str(shipped_model), "--error-sheet", str(sheet), "--tta", "off"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert sheet.is_file() and Image.open(sheet).width > 0 and "worst errors" not in out   # drawn, not listed
    assert main(args) == 2 and "exists" in capsys.readouterr().err        # not overwritten without --force
    assert main([*args, "--force", "--errors", "2"]) == 0
    (tmp_path / "file").write_text("x")
    assert main([*args[:-2], "--error-sheet", str(tmp_path / "file" / "s.png")]) == 2
    assert "cannot create its folder" in capsys.readouterr().err
