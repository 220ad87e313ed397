"""Tray and window icons, drawn from the SVGs in ``resources/icons``. GUI thread.

Each state icon is rendered at the sizes panels ask for (16–64 px) so Qt never scales a
bitmap down into mush.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from spendtray.paths import resources_dir

STATES = ("ok", "warning", "exceeded", "unpriced")
_SIZES = (16, 20, 22, 24, 32, 48, 64)


def render_svg(svg: Path, size: int) -> QImage:
    """``svg`` drawn at ``size`` x ``size`` px on transparency (also packaging/render_icons.py,
    which writes the shipped PNG/ICO/ICNS files)."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise FileNotFoundError(f"{svg}: missing or not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def _render(name: str, size: int) -> QPixmap:
    return QPixmap.fromImage(render_svg(resources_dir() / "icons" / f"{name}.svg", size))


@cache
def icon(name: str) -> QIcon:
    """``app`` or ``tray-<state>``."""
    result = QIcon()
    for size in _SIZES:
        result.addPixmap(_render(name, size))
    return result


def state_icon(state: str) -> QIcon:
    if state not in STATES:
        raise ValueError(f"unknown tray state {state!r}")
    return icon(f"tray-{state}")


def app_icon() -> QIcon:
    return icon("app")
