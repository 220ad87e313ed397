"""Renders the SVG icons in resources/icons/ to the PNG, ICO and ICNS files the platforms ask for.

Rerun after editing an SVG (Qt's SVG renderer, offscreen; no display needed):

    .venv/bin/python packaging/render_icons.py [--preview sheet.png]

Writes, for every ``resources/icons/<name>.svg`` (the app icon ``app`` and the tray states
``tray-ok``, ``tray-warning``, ``tray-exceeded``, ``tray-unpriced``):

- ``resources/icons/png/<name>-<size>.png`` at 16, 22, 24, 32, 48, 64, 128, 256 and 512 px —
  the freedesktop hicolor sizes, Windows' 16–256 and macOS's up to 512;
- from ``app``: ``resources/icons/spendtray.ico`` (Windows; 16–256 px, PNG-compressed
  entries) and ``resources/icons/spendtray.icns`` (macOS; PNG entries, 16–1024 px).

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

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))

from spendtray.gui.icons import render_svg  # noqa: E402

ICONS = ROOT / "resources" / "icons"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 256)
NAMES = ("app", "tray-ok", "tray-warning", "tray-exceeded", "tray-unpriced")
PANELS = {"light": "#f1f3f5", "dark": "#1f2329"}


def render(svg: Path, size: int) -> QImage:
    try:
        return render_svg(svg, size)
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from None


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


# ICNS entry types holding PNG data, by pixel size (Apple's "icp4"… "ic14"; @2x variants
# are the same pixels declared for half the point size).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"ic11", 32),
    (b"icp5", 32),
    (b"ic12", 64),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic13", 256),
    (b"ic08", 256),
    (b"ic14", 512),
    (b"ic09", 512),
    (b"ic10", 1024),
)


def write_icns(path: Path, svg: Path) -> None:
    """ICNS container of PNG entries, 16–1024 px (macOS 10.7 and later).

    Qt's ICNS writer stores a single size; Finder and the Dock want the whole set.
    """
    renders = {side: png_bytes(render(svg, side)) for side in {side for _, side in ICNS_TYPES}}
    body = b"".join(
        kind + struct.pack(">I", 8 + len(renders[side])) + renders[side]
        for kind, side in ICNS_TYPES
    )
    path.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)


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
                big = img.scaled(
                    size * zoom, size * zoom, mode=Qt.TransformationMode.FastTransformation
                )
                painter.drawImage(x, top + 32, big)  # enlarged, pixels visible
                x += cell
    painter.end()
    sheet.save(str(path))


def render_all(src: Path, out: Path) -> list[Path]:
    """Every file this script writes, rendered from the SVGs in ``src`` into ``out``."""
    pngs = out / "png"
    pngs.mkdir(parents=True, exist_ok=True)
    for stale in pngs.glob("*.png"):
        stale.unlink()
    written: list[Path] = []
    for name in NAMES:
        for size in SIZES:
            path = pngs / f"{name}-{size}.png"
            if not render(src / f"{name}.svg", size).save(str(path)):
                raise SystemExit(f"{path}: could not be written")
            written.append(path)
    write_ico(out / "spendtray.ico", [render(src / "app.svg", s) for s in ICO_SIZES])
    write_icns(out / "spendtray.icns", src / "app.svg")
    return [*written, out / "spendtray.ico", out / "spendtray.icns"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preview", type=Path, help="also write a light/dark preview sheet here")
    args = parser.parse_args()
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    written = render_all(ICONS, ICONS)
    print(f"{len(written)} files in {ICONS.relative_to(ROOT)}: png/*.png, spendtray.ico, .icns")
    if args.preview:
        preview(args.preview)
        print(f"preview: {args.preview}")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
