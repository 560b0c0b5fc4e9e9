"""A node's header band (title and the id · type subtitle) is drawn to its full height: the
subtitle used to be cut in half, because the band's lower part, where its rounded top and square
bottom overlap, was left unfilled."""

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from botloom.app import theme
from botloom.app.canvas_items import HEADER, NODE_W


def test_the_header_band_fills_its_height_so_the_subtitle_shows(win, sample):
    assert win.open_path(str(sample))
    item = win.scene.nodes["read"]
    image = QImage(NODE_W, HEADER + 20, QImage.Format_ARGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    win.scene.render(painter, QRectF(0, 0, NODE_W, HEADER + 20),
                     QRectF(item.scenePos(), item.scenePos() + QPointF(NODE_W, HEADER + 20)))
    painter.end()
    band = theme.category_color(item.category)
    x = NODE_W - 6  # right of any text, inside the rounded corners' width
    for y in (4, HEADER // 2, HEADER - 6, HEADER - 2):
        pixel = image.pixelColor(x, y)
        assert abs(pixel.red() - band.red()) + abs(pixel.green() - band.green()) + abs(pixel.blue() - band.blue()) < 40, \
            (y, pixel.name(), band.name())
