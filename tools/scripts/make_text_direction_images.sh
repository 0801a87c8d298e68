#!/usr/bin/env bash
# Builds the text-direction image folders (README "A real model: PaddleOCR's text-direction classifier")
# from two Debian packages: scikit-image's photographed page (python3-skimage 0.19.3-8, data/page.png,
# BSD-3-Clause) and the bzip2 manual (bzip2-doc 1.0.8-5, manual.pdf, bzip2's BSD-style licence),
# pages 3-4 for calibration and 5-14 for evaluation, rendered by poppler's pdftoppm at 150 dpi, gray.
# Usage: tools/scripts/make_text_direction_images.sh OUT_DIR   (needs apt-get download, pdftoppm, python3-pil)
# Writes OUT_DIR/calib and OUT_DIR/eval (class folders 0 and 180, preprocess.yaml) and prints a digest.
set -euo pipefail
[[ $# -eq 1 ]] || { sed -n '6p' "$0" >&2; exit 2; }
out=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
command -v pdftoppm >/dev/null || { echo "pdftoppm not found: apt-get install poppler-utils" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download python3-skimage=0.19.3-8 bzip2-doc=1.0.8-5 >/dev/null 2>&1 ||
  { echo "apt-get download python3-skimage=0.19.3-8 bzip2-doc=1.0.8-5 failed (run apt-get update?)" >&2; exit 1; }
dpkg-deb -x python3-skimage_0.19.3-8_all.deb skimage
dpkg-deb -x bzip2-doc_1.0.8-5_all.deb bzip2
page=skimage/usr/lib/python3/dist-packages/skimage/data/page.png
zcat bzip2/usr/share/doc/bzip2/manual.pdf.gz >manual.pdf
sha256sum "$page" manual.pdf | sed 's|  .*/|  |' >&2
mkdir calib_pages eval_pages
pdftoppm -gray -r 150 -f 3 -l 4 -png manual.pdf calib_pages/p
pdftoppm -gray -r 150 -f 5 -l 14 -png manual.pdf eval_pages/p
rm -rf "$out/calib" "$out/eval"
/usr/bin/python3 "$here/make_text_direction_images.py" "$out" calib_pages eval_pages "$page"
cd "$out" && find calib eval -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | sed 's/ .*/ (sha256 of the files'"'"' sha256sums)/'
