#!/usr/bin/env bash
# Install the system tools Svidok uses, with apt-get, when they are missing and we can.
# Usage: scripts/system-deps.sh [--with-postgres] [--with-browser] [--with-wrk]
# Without root (or sudo) it names what is missing and how to install it, and goes on.
set -euo pipefail

declare -A wanted=(
  [exiftool]=libimage-exiftool-perl
  [ffmpeg]=ffmpeg
  [ffprobe]=ffmpeg
  [file]=file            # brings libmagic, which content sniffing uses
  [tesseract]=tesseract-ocr  # text in images; language data below
)
for option in "$@"; do
  case "$option" in
    --with-postgres)  # the test suite's second run
      if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
        wanted[initdb]=postgresql
      fi ;;
    --with-browser)   # end-to-end tests drive Debian's Chromium
      wanted[chromium]=chromium
      wanted[chromedriver]=chromium-driver ;;
    --with-wrk)       # the web load benchmark
      wanted[wrk]=wrk ;;
    *) echo "unknown option $option" >&2; exit 2 ;;
  esac
done

missing=()
for tool in "${!wanted[@]}"; do
  if [[ "$tool" == initdb ]] || ! command -v "$tool" >/dev/null 2>&1; then
    missing+=("${wanted[$tool]}")
  fi
done
if ! ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1'; then missing+=(libmagic1); fi
# A Cyrillic-capable font: the tests draw Cyrillic text for OCR to read.
if [[ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]; then missing+=(fonts-dejavu-core); fi
# OCR reads Ukrainian, Russian and English; Debian ships each language separately.
for lang in ukr rus eng; do
  if ! ls /usr/share/tesseract-ocr/*/tessdata/"$lang".traineddata >/dev/null 2>&1; then
    missing+=("tesseract-ocr-$lang")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')

if command -v apt-get >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else sudo=(none); fi
  if [[ "${sudo[0]:-}" != none ]]; then
    echo "installing system packages: $packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    # shellcheck disable=SC2086
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends $packages >/dev/null
    exit 0
  fi
fi
echo "warning: missing system packages: $packages" >&2
echo "         install them with: sudo apt-get install $packages" >&2
echo "         (until then, metadata, thumbnails or video keyframes are flagged as not extracted)" >&2
