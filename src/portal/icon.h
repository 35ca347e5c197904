// The portal's icons, drawn for the tray: the app icon, or the "session running" icon while a
// supporter sees the screen, with the notification flag (a red badge with the count of
// unanswered notifications, "9+" beyond nine) in its top-right corner.
#pragma once

#include <QIcon>
#include <QImage>

namespace reach::portal {

QIcon app_icon();
QIcon tray_icon(int waiting, bool session_running);
// One size of tray_icon(), as the tray would draw it.
QImage tray_image(int waiting, bool session_running, int size);

}  // namespace reach::portal
