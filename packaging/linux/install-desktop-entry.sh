#!/bin/sh
# Adds Spendtray to the current user's application menu (freedesktop desktops: GNOME, KDE,
# Xfce, …): the desktop entry, the AppStream metainfo and the app icon at every size.
#
#   packaging/linux/install-desktop-entry.sh                  # Exec=spendtray (pipx/pip --user)
#   packaging/linux/install-desktop-entry.sh "$PWD/dist/spendtray/spendtray"   # the bundle
#
# Files go under ${XDG_DATA_HOME:-~/.local/share}; remove them to undo. Start at login is
# separate: Settings… → "Start Spendtray when I log in" in the tray app.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
command=${1:-spendtray}
data=${XDG_DATA_HOME:-$HOME/.local/share}
id=dev.spendtray.Spendtray

case $command in
  *[\"\`\$\\\|\&]*) printf "install-desktop-entry: unsupported character in %s\n" "$command" >&2; exit 2 ;;
  *" "*) exec_line="\"$command\"" ;;
  *) exec_line=$command ;;
esac

mkdir -p "$data/applications" "$data/metainfo"
sed "s|^Exec=.*|Exec=$exec_line|" "$here/$id.desktop" > "$data/applications/$id.desktop"
chmod 644 "$data/applications/$id.desktop"
install -m644 "$here/$id.metainfo.xml" "$data/metainfo/$id.metainfo.xml"
for size in 16 22 24 32 48 64 128 256 512; do
  install -Dm644 "$root/resources/icons/png/app-$size.png" \
    "$data/icons/hicolor/${size}x${size}/apps/spendtray.png"
done
install -Dm644 "$root/resources/icons/app.svg" "$data/icons/hicolor/scalable/apps/spendtray.svg"
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q "$data/applications" || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
  gtk-update-icon-cache -q -t "$data/icons/hicolor" 2>/dev/null || true
fi
echo "Spendtray added to the application menu ($data/applications/$id.desktop, Exec=$exec_line)"
