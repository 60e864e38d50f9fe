"""Paper geometry: page sizes, margins and where the envelope window is.

A letter is folded into a window envelope, so the recipient's address must be printed exactly
where the window will be; every other measure of the first page is derived from these numbers.
All values are millimetres from the top-left corner of the sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

from relance.documents.model import Paper

MM_PER_INCH = 25.4


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True)
class Geometry:
    """One paper size: its sheet, its margins and its envelope window."""

    css_size: str
    width: float
    height: float
    margin_left: float
    margin_right: float
    margin_top_first: float
    margin_top: float
    margin_bottom: float
    window: Box
    # Distances from the top edge where the sheet is folded (in three), marked in the margin.
    fold_marks: tuple[float, ...]
    # The side the window sits on: the date and reference go in the column on the other side.
    window_side: str

    @property
    def content_width(self) -> float:
        return self.width - self.margin_left - self.margin_right


# A4 (210 x 297 mm) folded in three into a DL/C5-6 envelope with a right-hand window, as French
# envelopes (NF EN ISO 269 / La Poste) and DIN 5008 form B "Anschriftfeld" for right windows use:
# the address field starts 110 mm from the left edge and 50 mm from the top, 85 x 40 mm, which
# leaves 15 mm to the right edge, the page's right margin.
A4_WINDOW = Box(left=110.0, top=50.0, width=85.0, height=40.0)

# US Letter (8.5 x 11 in) tri-folded into a #10 envelope: its window is 7/8 in from the left edge
# and, once folded, shows the sheet from 2 in below its top; we use 3.5 x 1.125 in of it, keeping
# clear of the window's rounded corners and of the slack of the letter inside the envelope.
LETTER_WINDOW = Box(
    left=0.875 * MM_PER_INCH,
    top=2.0 * MM_PER_INCH,
    width=3.5 * MM_PER_INCH,
    height=1.125 * MM_PER_INCH,
)

GEOMETRIES: dict[Paper, Geometry] = {
    "A4": Geometry(
        css_size="A4",
        width=210.0,
        height=297.0,
        margin_left=20.0,
        margin_right=210.0 - A4_WINDOW.right,
        margin_top_first=14.0,
        margin_top=22.0,
        margin_bottom=30.0,
        window=A4_WINDOW,
        fold_marks=(297.0 / 3, 297.0 * 2 / 3),
        window_side="right",
    ),
    "Letter": Geometry(
        css_size="letter",
        width=8.5 * MM_PER_INCH,
        height=11.0 * MM_PER_INCH,
        margin_left=LETTER_WINDOW.left,
        margin_right=0.875 * MM_PER_INCH,
        margin_top_first=0.5 * MM_PER_INCH,
        margin_top=0.85 * MM_PER_INCH,
        margin_bottom=1.1 * MM_PER_INCH,
        window=LETTER_WINDOW,
        fold_marks=(11.0 * MM_PER_INCH / 3, 11.0 * MM_PER_INCH * 2 / 3),
        window_side="left",
    ),
}

# Space between the window and the text that follows it, and between the window and the column
# holding the date and reference.
GAP_BELOW_WINDOW = 6.0
GAP_BESIDE_WINDOW = 8.0

# Fold marks are short hairlines this far from the left edge of the sheet.
FOLD_MARK_FROM_EDGE = 5.0
