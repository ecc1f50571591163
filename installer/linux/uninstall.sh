#!/usr/bin/env bash
# Remove what installer/linux/install.sh installed for this user: every file in its manifest (binary, menu entry,
# icons, autostart entry, this script), the autostart entry `snaplark autostart enable` may have written since,
# and the directories that became empty.
#
#   uninstall.sh [--purge]
#
#   --purge   also delete Snaplark's settings, data (history, upload journal, embedded server data) and logs.
#             Captures saved in your Pictures/Videos folders are never deleted. The API token stays in the
#             keyring: remove it first with `snaplark logout` if you want it gone.
set -euo pipefail

PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "uninstall.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

xdg_dir() { case "${1:-}" in /*) printf '%s' "$1" ;; *) printf '%s' "$2" ;; esac; }
DATA_HOME="$(xdg_dir "${XDG_DATA_HOME:-}" "$HOME/.local/share")"
CONFIG_HOME="$(xdg_dir "${XDG_CONFIG_HOME:-}" "$HOME/.config")"
STATE_HOME="$(xdg_dir "${XDG_STATE_HOME:-}" "$HOME/.local/state")"
CACHE_HOME="$(xdg_dir "${XDG_CACHE_HOME:-}" "$HOME/.cache")"
STATE="$DATA_HOME/snaplark-installer"
MANIFEST="$STATE/manifest"
AUTOSTART_ENTRY="$CONFIG_HOME/autostart/snaplark.desktop"

files=()
if [ -f "$MANIFEST" ]; then
  while IFS= read -r line; do [ -n "$line" ] && files+=("$line"); done < "$MANIFEST"
else
  echo "uninstall.sh: no manifest at $MANIFEST; removing the default locations" >&2
  files+=("$HOME/.local/bin/snaplark" "$DATA_HOME/applications/snaplark.desktop" "$STATE/uninstall.sh" "$STATE/app")
  for f in "$DATA_HOME"/icons/hicolor/*/apps/snaplark.png "$DATA_HOME/icons/hicolor/scalable/apps/snaplark.svg"; do
    files+=("$f")
  done
fi
# Written by install.sh or by `snaplark autostart enable` (which marks its entries X-Snaplark-Managed=true).
if [ -f "$AUTOSTART_ENTRY" ] && grep -q '^X-Snaplark-Managed=true' "$AUTOSTART_ENTRY"; then
  files+=("$AUTOSTART_ENTRY")
fi

binary=""
for f in "${files[@]}"; do case "$f" in */bin/snaplark) binary="$f" ;; esac; done
if [ -n "$binary" ] && command -v pgrep >/dev/null && pgrep -u "$(id -u)" -f "^$binary( |\$)" >/dev/null 2>&1; then
  echo "note: Snaplark is still running; quit it from its tray menu (its files are removed anyway)"
fi

removed=0
dirs=()
for f in "${files[@]}"; do
  if [ -d "$f" ] && [ ! -L "$f" ]; then
    # only the one-dir program folder is listed as a directory; never remove a directory outside our own
    case "$f" in "$STATE"/*) rm -rf -- "$f"; removed=$((removed + 1)) ;; *) echo "skipping directory $f" >&2 ;; esac
  elif [ -e "$f" ] || [ -L "$f" ]; then
    rm -f -- "$f"
    removed=$((removed + 1))
  fi
  dirs+=("$(dirname "$f")")
done
rm -f -- "$MANIFEST.new"

if [ "$PURGE" = 1 ]; then
  for d in "$CONFIG_HOME/snaplark" "$DATA_HOME/snaplark" "$STATE_HOME/snaplark" "$CACHE_HOME/snaplark"; do
    if [ -d "$d" ]; then rm -rf -- "$d"; echo "deleted $d"; dirs+=("$(dirname "$d")"); fi
  done
fi

# Remove directories left empty, walking up, but never $HOME itself or anything above it.
for d in "${dirs[@]}"; do
  while [ -n "$d" ] && [ "$d" != "/" ] && [ "$d" != "$HOME" ] && [ "${d#"$HOME"/}" != "$d" ]; do
    rmdir -- "$d" 2>/dev/null || break
    d="$(dirname "$d")"
  done
done

echo "removed $removed installed file(s)"
