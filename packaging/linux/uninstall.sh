#!/bin/sh
# Remove what install.sh put under PREFIX (default ~/.local). Settings, logs and keychain entries stay;
# run "echogen-desktop --reset-settings" first to remove those too.
set -eu
PREFIX=${PREFIX:-$HOME/.local}
APP_ID=ai.echogen.EchoGenDesktop
rm -rf "$PREFIX/lib/echogen-desktop"
rm -f "$PREFIX/bin/echogen-desktop" "$PREFIX/share/applications/$APP_ID.desktop" \
      "$PREFIX/share/metainfo/$APP_ID.metainfo.xml"
find "$PREFIX/share/icons/hicolor" -name 'echogen-desktop.*' -delete 2>/dev/null || true
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$PREFIX/share/applications" || true
echo "Removed EchoGen Desktop from $PREFIX."
