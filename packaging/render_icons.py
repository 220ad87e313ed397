"""Renders the SVG icons in resources/icons/ to the PNG, ICO and ICNS files the platforms ask for.

Rerun after editing an SVG (Qt's SVG renderer, offscreen; no display needed):

    .venv/bin/python packaging/render_icons.py [--preview sheet.png]

Writes, for every ``resources/icons/<name>.svg`` (the app icon ``app`` and the tray states
``tray-ok``, ``tray-warning``, ``tray-exceeded``, ``tray-unpriced``):

- ``resources/icons/png/<name>-<size>.png`` at 16, 22, 24, 32, 48, 64, 128, 256 and 512 px —
  the freedesktop hicolor sizes, Windows' 16–256 and macOS's up to 512;
- from ``app``: ``resources/icons/spendtray.ico`` (Windows; 16–256 px, PNG-compressed
  entries) and ``resources/icons/spendtray.icns`` (macOS; Qt's ICNS writer, 16–512 px).

``--preview`` also draws every icon at 16, 22 and 24 px (and 4× enlarged) on a light and a dark
panel colour, to check they read on both.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QImage, QImageWriter, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 256)
NAMES = ("app", "tray-ok", "tray-warning", "tray-exceeded", "tray-unpriced")
PANELS = {"light": "#f1f3f5", "dark": "#1f2329"}


def render(svg: Path, size: int) -> QImage:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SystemExit("could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def write_ico(path: Path, images: list[QImage]) -> None:
    """ICO container with PNG-compressed entries (read by Windows Vista and later).

    Qt's own ICO writer stores one image per file; Windows picks the best of several sizes.
    """
    blobs = [png_bytes(img) for img in images]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries = b""
    for img, blob in zip(images, blobs, strict=True):
        side = img.width() if img.width() < 256 else 0  # 0 means 256 in an ICO directory
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
    path.write_bytes(header + entries + b"".join(blobs))


def write_icns(path: Path, svg: Path) -> None:
    writer = QImageWriter(str(path), b"icns")
    # Qt's ICNS writer stores the image and its power-of-two reductions down to 16 px.
    if not writer.write(render(svg, 512)):
        raise SystemExit(f"{path}: {writer.errorString()}")


def preview(path: Path) -> None:
    zoom = 4
    small = (16, 22, 24)
    cell = 24 * zoom + 12
    width = len(NAMES) * (len(small) * cell) + 24
    height = len(PANELS) * (cell + 40) + 12
    sheet = QImage(width, height, QImage.Format.Format_ARGB32)
    sheet.fill(QColor("#ffffff"))
    painter = QPainter(sheet)
    for row, colour in enumerate(PANELS.values()):
        top = 6 + row * (cell + 40)
        painter.fillRect(0, top, width, cell + 34, QColor(colour))
        x = 12
        for name in NAMES:
            for size in small:
                img = render(ICONS / f"{name}.svg", size)
                painter.drawImage(x, top + 4, img)  # actual size
                big = img.scaled(size * zoom, size * zoom, mode=Qt.TransformationMode.FastTransformation)
                painter.drawImage(x, top + 32, big)  # enlarged, pixels visible
                x += cell
    painter.end()
    sheet.save(str(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preview", type=Path, help="also write a light/dark preview sheet here")
    args = parser.parse_args()
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    out = ICONS / "png"
    out.mkdir(exist_ok=True)
    for stale in out.glob("*.png"):
        stale.unlink()
    for name in NAMES:
        svg = ICONS / f"{name}.svg"
        for size in SIZES:
            render(svg, size).save(str(out / f"{name}-{size}.png"))
    write_ico(ICONS / "spendtray.ico", [render(ICONS / "app.svg", s) for s in ICO_SIZES])
    write_icns(ICONS / "spendtray.icns", ICONS / "app.svg")
    print(f"{len(NAMES) * len(SIZES)} PNGs in {out.relative_to(ROOT)}, spendtray.ico, spendtray.icns")
    if args.preview:
        preview(args.preview)
        print(f"preview: {args.preview}")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
