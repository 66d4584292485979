"""The README and docs/ link to files and anchors that exist (a moved section must not leave a dead link)."""

import re
import subprocess

import pytest

from digitseq import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    h = re.sub(r"<[^>]+>", "", heading.strip().lower()).replace("`", "")
    return re.sub(r"[^\w\- ]", "", h).replace(" ", "-")


def anchors(path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return set(re.findall(r'id="([^"]+)"', text)) | {slug(m) for m in re.findall(r"^#{1,6}\s+(.*)$", text, re.M)}


def test_slug_matches_github_on_hand_worked_headings():
    assert slug("Passwords and codes: the shipped `ascii` model") == "passwords-and-codes-the-shipped-ascii-model"
    assert slug("Capacity and resolution (issue 9)") == "capacity-and-resolution-issue-9"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_relative_link_resolves(doc):
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists() or (anchor and (file.suffix != ".md" or anchor not in anchors(file))):
            broken.append(target)
    assert not broken, f"{doc.name}: dead links {broken}"


def test_code_that_points_at_a_readme_section_finds_it():
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "grep", "-o", "-E", r"README(\.md)?#[A-Za-z0-9_-]+", "--",
                              ":!README.md", ":!docs"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    have = anchors(ROOT / "README.md")
    missing = [line for line in out.splitlines() if line.rsplit("#", 1)[1] not in have]
    assert not missing, missing
