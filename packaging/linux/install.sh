#!/bin/sh
# Install this EchoGen Desktop build for the current user (or under PREFIX) and register echogen:// links.
# Usage: ./install.sh            -> ~/.local
#        PREFIX=/opt/echogen ./install.sh
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-$HOME/.local}
APP_ID=ai.echogen.EchoGenDesktop
LIB="$PREFIX/lib/echogen-desktop"

rm -rf "$LIB"
mkdir -p "$LIB" "$PREFIX/bin" "$PREFIX/share/applications" "$PREFIX/share/metainfo"
cp -R "$HERE/echogen-desktop/." "$LIB/"
ln -sf "$LIB/echogen-desktop" "$PREFIX/bin/echogen-desktop"
# Absolute paths: ~/.local/bin is not on every desktop session's PATH.
sed -e "s|^Exec=echogen-desktop|Exec=$LIB/echogen-desktop|" -e "s|^TryExec=echogen-desktop|TryExec=$LIB/echogen-desktop|" \
    "$HERE/share/applications/$APP_ID.desktop" > "$PREFIX/share/applications/$APP_ID.desktop"
cp "$HERE/share/metainfo/$APP_ID.metainfo.xml" "$PREFIX/share/metainfo/"
cp -R "$HERE/share/icons" "$PREFIX/share/"

command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$PREFIX/share/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$PREFIX/share/icons/hicolor" || true
command -v xdg-mime >/dev/null 2>&1 && xdg-mime default "$APP_ID.desktop" x-scheme-handler/echogen || true
echo "Installed EchoGen Desktop in $LIB (command: $PREFIX/bin/echogen-desktop)."
