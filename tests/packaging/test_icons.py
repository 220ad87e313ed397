"""The icons: SVG sources, their committed renders, and whether they read on a panel.

``packaging/render_icons.py`` writes the PNG/ICO/ICNS files; here they are re-rendered into a
temp folder and compared, so an SVG edited without re-rendering fails. Legibility is measured,
not eyeballed: at 16, 22 and 24 px, composited on a light and a dark panel colour, the icon's
outer band (within 2 px of its silhouette) must hold a pixel with WCAG contrast ≥ 3:1 against
the panel in every one of 12 directions around its centre — a continuous outline. A dark icon
on a dark panel, or a light one on a light panel, fails that (checked below too).
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packkit import ROOT, load_script

ICONS = ROOT / "resources" / "icons"


@pytest.fixture(scope="module")
def ri(qapp: Any) -> ModuleType:
    return load_script("render_icons")


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def outline_directions(image: Any, panel: str, sectors: int = 12) -> int:
    """In how many of ``sectors`` directions the icon's edge stands out from ``panel``."""
    from PySide6.QtGui import QColor

    size = image.width()
    p = QColor(panel)
    bg = (p.red(), p.green(), p.blue())
    alpha = [[image.pixelColor(x, y).alphaF() for x in range(size)] for y in range(size)]

    def clear(x: int, y: int) -> bool:
        return not (0 <= x < size and 0 <= y < size) or alpha[y][x] < 0.5

    seen = [False] * sectors
    for y in range(size):
        for x in range(size):
            a = alpha[y][x]
            if a < 0.5:
                continue
            if not any(clear(x + dx, y + dy) for dx in range(-2, 3) for dy in range(-2, 3)):
                continue
            c = image.pixelColor(x, y)
            shown = (
                c.red() * a + bg[0] * (1 - a),
                c.green() * a + bg[1] * (1 - a),
                c.blue() * a + bg[2] * (1 - a),
            )
            if contrast(shown, bg) >= 3:
                angle = math.atan2(y + 0.5 - size / 2, x + 0.5 - size / 2) + math.pi
                seen[int(angle / (2 * math.pi) * sectors) % sectors] = True
    return sum(seen)


def test_every_state_has_an_svg(ri: ModuleType) -> None:
    from spendtray.gui.icons import STATES

    assert {f"tray-{s}" for s in STATES} | {"app"} == set(ri.NAMES)
    assert {p.stem for p in ICONS.glob("*.svg")} == set(ri.NAMES)


def test_committed_renders_are_current(ri: ModuleType, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    fresh = ri.render_all(ICONS, tmp_path)
    pngs = sorted(p.name for p in (ICONS / "png").glob("*.png"))
    assert pngs == sorted(p.name for p in fresh if p.suffix == ".png")
    assert len(pngs) == len(ri.NAMES) * len(ri.SIZES)
    for name in pngs:
        old, new = QImage(str(ICONS / "png" / name)), QImage(str(tmp_path / "png" / name))
        assert (old.width(), old.height()) == (new.width(), new.height())
        side = old.width()
        assert f"-{side}.png" in name
        worst = 0
        step = max(1, side // 64)  # sample big renders, every pixel of small ones
        for y in range(0, side, step):
            for x in range(0, side, step):
                a, b = old.pixelColor(x, y), new.pixelColor(x, y)
                worst = max(
                    worst,
                    abs(a.red() - b.red()),
                    abs(a.green() - b.green()),
                    abs(a.blue() - b.blue()),
                    abs(a.alpha() - b.alpha()),
                )
        assert worst <= 24, f"{name} differs from its SVG: run packaging/render_icons.py"


def test_ico_holds_every_windows_size(ri: ModuleType) -> None:
    from PySide6.QtGui import QImage

    data = (ICONS / "spendtray.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, len(ri.ICO_SIZES))
    sizes = []
    for i in range(count):
        w, h, _, _, planes, bits, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        image = QImage.fromData(data[offset : offset + length], "PNG")
        assert (image.width(), image.height()) == (w or 256, h or 256)
        assert (planes, bits) == (1, 32)
        sizes.append(image.width())
    assert sizes == list(ri.ICO_SIZES)
    assert {16, 24, 32, 48, 256} <= set(sizes)


def test_icns_holds_every_macos_size(ri: ModuleType) -> None:
    from PySide6.QtGui import QImage

    data = (ICONS / "spendtray.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack_from(">I", data, 4)[0] == len(data)
    found: dict[bytes, int] = {}
    at = 8
    while at < len(data):
        kind, length = data[at : at + 4], struct.unpack_from(">I", data, at + 4)[0]
        image = QImage.fromData(data[at + 8 : at + length], "PNG")
        assert image.width() == image.height(), kind
        found[kind] = image.width()
        at += length
    assert at == len(data)
    assert found == dict(ri.ICNS_TYPES)
    assert {16, 32, 64, 128, 256, 512, 1024} == set(found.values())


@pytest.mark.parametrize("size", [16, 22, 24])
def test_icons_read_on_light_and_dark_panels(ri: ModuleType, size: int) -> None:
    for name in ri.NAMES:
        image = ri.render(ICONS / f"{name}.svg", size)
        for panel_name, panel in ri.PANELS.items():
            found = outline_directions(image, panel)
            assert found == 12, f"{name} at {size} px on the {panel_name} panel: {found}/12"


def test_the_legibility_measure_rejects_a_dark_icon_on_a_dark_panel(
    ri: ModuleType, tmp_path: Path
) -> None:
    svg = tmp_path / "dark.svg"
    svg.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        '<circle cx="32" cy="32" r="31" fill="#2b3a4a"/></svg>'
    )
    image = ri.render(svg, 16)
    assert outline_directions(image, ri.PANELS["light"]) == 12
    assert outline_directions(image, ri.PANELS["dark"]) == 0


def test_states_differ_at_16_px(ri: ModuleType) -> None:
    """The coin colours of the four states are far apart, even at the smallest size."""
    means = {}
    for state in ("ok", "warning", "exceeded", "unpriced"):
        image = ri.render(ICONS / f"tray-{state}.svg", 16)
        ring = [
            image.pixelColor(x, y)
            for y in range(16)
            for x in range(16)
            if 4.5 <= math.hypot(x + 0.5 - 8, y + 0.5 - 8) <= 6  # the coloured face
        ]
        means[state] = tuple(
            sum(getattr(c, ch)() for c in ring) / len(ring) for ch in ("red", "green", "blue")
        )
    states = list(means)
    for i, a in enumerate(states):
        for b in states[i + 1 :]:
            assert math.dist(means[a], means[b]) > 80, (a, b, means[a], means[b])
