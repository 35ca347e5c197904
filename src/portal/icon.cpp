#include "portal/icon.h"

#include <QFont>
#include <QPainter>
#include <QPainterPath>

namespace reach::portal {

QIcon app_icon() {
  return QIcon(":/icons/reach-portal.svg");
}

QImage tray_image(int waiting, bool session_running, int size) {
  QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
  image.fill(Qt::transparent);
  QPainter p(&image);
  p.setRenderHint(QPainter::Antialiasing);
  QIcon base(session_running ? ":/icons/reach-portal-session.svg" : ":/icons/reach-portal.svg");
  base.paint(&p, image.rect());
  if (waiting > 0) {
    const QString text = waiting > 9 ? QStringLiteral("9+") : QString::number(waiting);
    const qreal d = size * 0.58;  // big enough to read at 16 px
    QRectF badge(size - d, 0, d, d);
    p.setPen(QPen(Qt::white, qMax(1.0, size / 24.0)));
    p.setBrush(QColor(0xc5, 0x0f, 0x1f));
    p.drawEllipse(badge.adjusted(0.5, 0.5, -0.5, -0.5));
    QFont font = p.font();
    font.setBold(true);
    font.setPixelSize(qMax(7, int(d * (text.size() > 1 ? 0.55 : 0.72))));
    p.setFont(font);
    p.setPen(Qt::white);
    p.drawText(badge, Qt::AlignCenter, text);
  }
  return image;
}

QIcon tray_icon(int waiting, bool session_running) {
  QIcon icon;
  for (int size : {16, 22, 24, 32, 48, 64})
    icon.addPixmap(QPixmap::fromImage(tray_image(waiting, session_running, size)));
  return icon;
}

}  // namespace reach::portal
