#!/usr/bin/env bash
# Install Snaplark for the current user (no root): the binary in ~/.local/bin, a menu entry, icons, and an XDG
# autostart entry so it starts at login. Run installer/linux/uninstall.sh (copied to
# ~/.local/share/snaplark-installer/uninstall.sh) to remove all of it.
#
#   install.sh [--binary PATH] [--icons DIR] [--bindir DIR] [--no-autostart] [--start]
#
#   --binary PATH   the PyInstaller build: the one-dir folder (snaplark-onedir/, starts faster; installed under
#                   ~/.local/share/snaplark-installer/app with ~/.local/bin/snaplark linking to it) or the one-file
#                   binary (copied to ~/.local/bin/snaplark). Default: the first of ./snaplark-onedir, ./snaplark
#                   next to this script, <repo>/dist/snaplark-onedir, <repo>/dist/snaplark.
#   --icons DIR     icons/ with idle-<N>.png and snaplark.svg (default: ./icons next to this script, else <repo>/icons)
#   --bindir DIR    where the launcher goes (default: ~/.local/bin)
#   --no-autostart  do not start Snaplark at login (`snaplark autostart enable` turns it on later)
#   --start         start Snaplark now, detached, after installing
#
# Honours XDG_DATA_HOME (menu entry, icons) and XDG_CONFIG_HOME (autostart entry). Every file written is listed in
# ~/.local/share/snaplark-installer/manifest, which the uninstaller reads.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." 2>/dev/null && pwd || true)"

BINARY=""
ICONS=""
BINDIR="$HOME/.local/bin"
AUTOSTART=1
START=0
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY="$2"; shift 2 ;;
    --icons) ICONS="$2"; shift 2 ;;
    --bindir) BINDIR="$2"; shift 2 ;;
    --no-autostart) AUTOSTART=0; shift ;;
    --start) START=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

first_existing() { for p in "$@"; do [ -e "$p" ] && { printf '%s' "$p"; return 0; }; done; return 1; }
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
# XDG base directories: an unset, empty or relative value means the default.
xdg_dir() { case "${1:-}" in /*) printf '%s' "$1" ;; *) printf '%s' "$2" ;; esac; }

[ -n "$BINARY" ] || BINARY="$(first_existing "$HERE/snaplark-onedir" "$HERE/snaplark" "$REPO/dist/snaplark-onedir" \
                                              "$REPO/dist/snaplark")" || {
  echo "install.sh: no binary found; build it with build/build_binary.sh or pass --binary PATH" >&2; exit 1; }
if [ -d "$BINARY" ]; then
  [ -f "$BINARY/snaplark" ] && [ -x "$BINARY/snaplark" ] || {
    echo "install.sh: $BINARY is not a one-dir build (no executable snaplark inside)" >&2; exit 1; }
elif [ ! -f "$BINARY" ]; then
  echo "install.sh: $BINARY does not exist" >&2; exit 1
fi
BINARY="$(absolute "$BINARY")"
[ -n "$ICONS" ] || ICONS="$(first_existing "$HERE/icons" "$REPO/icons")" || ICONS=""
BINDIR="$(absolute "$BINDIR")"

DATA_HOME="$(xdg_dir "${XDG_DATA_HOME:-}" "$HOME/.local/share")"
CONFIG_HOME="$(xdg_dir "${XDG_CONFIG_HOME:-}" "$HOME/.config")"
STATE="$DATA_HOME/snaplark-installer"
APPDIR="$STATE/app"
MANIFEST="$STATE/manifest"
TARGET="$BINDIR/snaplark"
APP_ENTRY="$DATA_HOME/applications/snaplark.desktop"
AUTOSTART_ENTRY="$CONFIG_HOME/autostart/snaplark.desktop"

mkdir -p "$STATE"
: > "$MANIFEST.new"
record() { printf '%s\n' "$1" >> "$MANIFEST.new"; }

# One argument as an Exec= token (Desktop Entry Specification, "The Exec key"): quote when it has a reserved
# character (escaping " ` $ \ inside), double every %, then apply the string-value escape for backslashes.
desktop_exec_token() {
  local a="$1" q
  q="${a//%/%%}"
  case "$q" in
    ""|*[[:space:]\"\'\\\>\<~\|\&\;\$\*\?\#\(\)\`]*)
      q="\"$(printf '%s' "$q" | sed -e 's/[\\"`$]/\\&/g')\"" ;;
  esac
  printf '%s' "$q" | sed -e 's/\\/\\\\/g'
}
# The string-value escape alone (for TryExec, a plain path).
desktop_string() { printf '%s' "$1" | sed -e 's/\\/\\\\/g'; }

# Fill @EXEC@/@TRYEXEC@ in the template with literal text (awk index/substr: no regex or & surprises).
render_entry() {
  EXEC_VALUE="$1" TRYEXEC_VALUE="$2" awk '
    function lit(s, from, to,    i, out) {
      out = ""
      while ((i = index(s, from)) > 0) { out = out substr(s, 1, i - 1) to; s = substr(s, i + length(from)) }
      return out s
    }
    { line = lit($0, "@EXEC@", ENVIRON["EXEC_VALUE"]); print lit(line, "@TRYEXEC@", ENVIRON["TRYEXEC_VALUE"]) }
  ' "$HERE/snaplark.desktop"
}

write_file() {  # write_file PATH MODE < content ; atomically, and recorded in the manifest
  local path="$1" mode="$2" tmp
  mkdir -p "$(dirname "$path")"
  tmp="$(dirname "$path")/.$(basename "$path").install.$$"
  cat > "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  record "$path"
}

# 1. The program (copied, not linked: the build tree may go away).
if [ -d "$BINARY" ]; then
  rm -rf -- "$APPDIR.new"
  cp -R -- "$BINARY" "$APPDIR.new"
  rm -rf -- "$APPDIR"
  mv -- "$APPDIR.new" "$APPDIR"
  record "$APPDIR"
  mkdir -p "$BINDIR"
  ln -s "$APPDIR/snaplark" "$BINDIR/.snaplark.install.$$"
  mv -fT "$BINDIR/.snaplark.install.$$" "$TARGET"  # the bootloader finds its _internal/ through /proc/self/exe
  record "$TARGET"
else
  rm -rf -- "$APPDIR"  # an earlier one-dir install
  rm -f -- "$TARGET"   # may be a symlink into it
  write_file "$TARGET" 0755 < "$BINARY"
fi

# 2. Menu entry and icons.
exec_line="$(desktop_exec_token "$TARGET")"
tryexec_line="$(desktop_string "$TARGET")"
render_entry "$exec_line" "$tryexec_line" | write_file "$APP_ENTRY" 0644
if [ -n "$ICONS" ] && [ -d "$ICONS" ]; then
  for png in "$ICONS"/idle-*.png; do
    [ -f "$png" ] || continue
    size="${png##*/idle-}"; size="${size%.png}"
    case "$size" in *[!0-9]*|"") continue ;; esac
    write_file "$DATA_HOME/icons/hicolor/${size}x${size}/apps/snaplark.png" 0644 < "$png"
  done
  if [ -f "$ICONS/snaplark.svg" ]; then
    write_file "$DATA_HOME/icons/hicolor/scalable/apps/snaplark.svg" 0644 < "$ICONS/snaplark.svg"
  fi
  touch "$DATA_HOME/icons/hicolor" 2>/dev/null || true  # icon caches notice the change by the dir's mtime
fi

# 3. Start at login: the same entry the app writes with `snaplark autostart enable`.
if [ "$AUTOSTART" = 1 ]; then
  { render_entry "$exec_line" "$tryexec_line"
    printf 'X-GNOME-Autostart-enabled=true\nX-Snaplark-Managed=true\n'
  } | write_file "$AUTOSTART_ENTRY" 0644
fi

# 4. The uninstaller, next to the manifest.
write_file "$STATE/uninstall.sh" 0755 < "$HERE/uninstall.sh"
record "$MANIFEST"
mv -f "$MANIFEST.new" "$MANIFEST"

version="$("$TARGET" --version 2>/dev/null || true)"
echo "installed ${version:-snaplark} to $TARGET"
echo "  menu entry: $APP_ENTRY"
if [ "$AUTOSTART" = 1 ]; then echo "  starts at login: $AUTOSTART_ENTRY"; fi
echo "  uninstall:  $STATE/uninstall.sh  (add --purge to also delete settings, history and captures' index)"
case ":$PATH:" in *":$BINDIR:"*) ;; *) echo "  note: $BINDIR is not on your PATH" ;; esac

if [ "$START" = 1 ]; then
  (cd "$HOME" && setsid "$TARGET" >/dev/null 2>&1 < /dev/null &)
  echo "  started"
fi
