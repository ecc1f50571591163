#!/usr/bin/env bash
# Build the Snaplark binary with PyInstaller (build/tray.spec) and print its size and cold-start time.
#
#   build/build_binary.sh [--dist DIR]        default DIR: <repo>/dist   (override: SNAPLARK_DIST_DIR)
#
# Outputs in DIR: snaplark (one file, portable), snaplark-onedir/ (what install.sh installs), and on Linux the release
# bundle snaplark-<version>-linux-<arch>.tar.xz (one-dir + installer/linux + icons).
# Needs the project and PyInstaller installed: pip install -e '.[build]'  (the dev extra has it too).
# Intermediate files go to a temporary work dir that is removed afterwards; nothing is written under build/.
# The result needs no Python on the target machine. On Linux it uses the system's GTK 3 stack (GTK/GDK, GLib/GIO,
# Pango, cairo, HarfBuzz, fontconfig/FreeType, gdk-pixbuf, ATK/AT-SPI, X11/xcb, D-Bus client libraries), which
# every desktop that runs GTK 3 apps has, and bundles everything else (see SYSTEM_DESKTOP_LIBS in tray.spec).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="${SNAPLARK_DIST_DIR:-$REPO/dist}"
PY="${PYTHON:-python3}"

while [ $# -gt 0 ]; do
  case "$1" in
    --dist) DIST="$2"; shift 2 ;;
    --dist=*) DIST="${1#--dist=}"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "build_binary.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$DIST" in /*) ;; *) DIST="$PWD/$DIST" ;; esac
case "$DIST/" in "$REPO/build/"*) echo "build_binary.sh: refusing to write into build/ ($DIST)" >&2; exit 2 ;; esac

if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  echo "build_binary.sh: PyInstaller is not installed; run: $PY -m pip install -e '.[build]'" >&2
  exit 3
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/snaplark-pyinstaller.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DIST"

VERSION="$("$PY" -c "import re,sys; print(re.search(r'^__version__\s*=\s*\"([^\"]+)\"', open(sys.argv[1]).read(), re.M).group(1))" "$REPO/tray/__init__.py")"
echo "building snaplark $VERSION -> $DIST"
started=$(date +%s)
# Run from the work dir so nothing (e.g. a stray __pycache__ or log) lands in the caller's directory.
(cd "$WORK" && "$PY" -m PyInstaller --noconfirm --log-level "${PYINSTALLER_LOG_LEVEL:-WARN}" \
    --distpath "$DIST" --workpath "$WORK/work" "$REPO/build/tray.spec")
echo "build took $(( $(date +%s) - started )) s"

case "$(uname -s)" in
  Darwin) BIN="$DIST/Snaplark.app/Contents/MacOS/snaplark"; ARTIFACT="$DIST/Snaplark.app" ;;
  MINGW*|MSYS*|CYGWIN*) BIN="$DIST/snaplark.exe"; ARTIFACT="$BIN" ;;
  *) BIN="$DIST/snaplark"; ARTIFACT="$BIN" ;;
esac
[ -x "$BIN" ] || { echo "build_binary.sh: $BIN was not produced" >&2; exit 1; }

bytes=$(du -sb "$ARTIFACT" | cut -f1)
awk -v b="$bytes" -v p="$ARTIFACT" 'BEGIN { printf "size: %s = %d bytes (%.1f MiB)\n", p, b, b / 1048576 }'

ONEDIR="$DIST/snaplark-onedir"
if [ -d "$ONEDIR" ]; then
  bytes=$(du -sb "$ONEDIR" | cut -f1)
  awk -v b="$bytes" -v p="$ONEDIR/" 'BEGIN { printf "size: %s = %d bytes (%.1f MiB, one-dir, uncompressed)\n", p, b, b / 1048576 }'
fi

# Linux release bundle: what a user downloads. The one-dir build (starts in a fraction of the one-file's time, which
# unpacks everything on every start) plus the installer and icons, xz-compressed once:
#   tar -xJf snaplark-<version>-linux-<arch>.tar.xz && snaplark-<version>-linux-<arch>/install.sh --start
if [ "$(uname -s)" = Linux ] && [ -x "$ONEDIR/snaplark" ]; then
  NAME="snaplark-$VERSION-linux-$(uname -m)"
  BUNDLE="$DIST/$NAME.tar.xz"
  tar -cf - --owner=0 --group=0 --transform "s,^,$NAME/," \
      -C "$DIST" snaplark-onedir \
      -C "$REPO/installer/linux" install.sh uninstall.sh snaplark.desktop \
      -C "$REPO" $(cd "$REPO" && ls icons/idle-*.png icons/snaplark.svg) \
    | xz -6 -T0 > "$BUNDLE.tmp"
  mv "$BUNDLE.tmp" "$BUNDLE"
  bytes=$(stat -c %s "$BUNDLE")
  awk -v b="$bytes" -v p="$BUNDLE" 'BEGIN { printf "size: %s = %d bytes (%.1f MiB, release bundle: one-dir + installer)\n", p, b, b / 1048576 }'
fi

# Cold start: every run of the one-file build unpacks its archive to a temp dir; the one-dir build does not.
time_version() {  # time_version LABEL BINARY
  local t0 t1 out
  t0=$(date +%s%N)
  out="$("$2" --version)"
  t1=$(date +%s%N)
  awk -v ns=$((t1 - t0)) -v l="$1" -v o="$out" 'BEGIN { printf "start %s: `snaplark --version` -> %s in %.2f s\n", l, o, ns / 1e9 }'
  [ "$out" = "snaplark $VERSION" ] || { echo "build_binary.sh: unexpected --version output from $2: $out" >&2; exit 1; }
}
time_version "1 one-file" "$BIN"
time_version "2 one-file" "$BIN"
if [ -x "$ONEDIR/snaplark" ]; then
  time_version "1 one-dir" "$ONEDIR/snaplark"
  time_version "2 one-dir" "$ONEDIR/snaplark"
fi
