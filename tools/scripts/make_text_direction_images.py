#!/usr/bin/python3
"""Text-line images for PaddleOCR's text-direction classifier, cut from real pages, upright and rotated 180 degrees.

Usage: make_text_direction_images.py OUT_DIR CALIB_PAGES EVAL_PAGES PHOTO.png
  CALIB_PAGES, EVAL_PAGES: folders of gray page images (pdftoppm -gray -r 150 -png output)
  PHOTO.png: a photographed page (scikit-image's data/page.png)
Writes OUT_DIR/calib/{0,180}/*.png and OUT_DIR/eval/{0,180}/*.png plus a preprocess.yaml in each.
Deterministic: the same pages give the same files, byte for byte (PIL's PNG writer, no randomness).

Each text line is found by the rows' ink counts (ink: darker than the local mean by 20 levels), cut with a
margin of a quarter of its height above and below, and split into windows four times as wide as they are
high (PaddleOCR's classifier reads 48 x 192); a window is kept where ink fills at least 40 % of its columns.
Labels are known by construction: folder 0 holds the window as cut, folder 180 the same window rotated.
"""
import os
import sys

from PIL import Image, ImageFilter

PREPROCESS = """# PaddleOCR's ClsResizeImg for a 4:1 window: resize to 48 x 192 (bilinear), (x / 255 - 0.5) / 0.5
resize: [48, 192]
channels: bgr
scale: 1/255
mean: 0.5
std: 0.5
classes: ["0", "180"]
"""


def ink_mask(img):
    blur = img.filter(ImageFilter.BoxBlur(15))
    w, h = img.size
    p, b = img.load(), blur.load()
    return [[p[x, y] < b[x, y] - 20 for x in range(w)] for y in range(h)]


def line_windows(img, min_h, max_h):
    w, h = img.size
    ink = ink_mask(img)
    rows = [sum(r) for r in ink]
    bands, y = [], 0
    while y < h:
        if rows[y] >= 2:
            y0 = y
            while y < h and rows[y] >= 2:
                y += 1
            bands.append((y0, y))
        y += 1
    out = []
    for y0, y1 in bands:
        bh = y1 - y0
        if bh < min_h or bh > max_h:
            continue
        top, bottom = y0 - bh // 4, y1 + bh // 4
        if top < 0 or bottom > h:
            continue
        cols = [any(ink[y][x] for y in range(y0, y1)) for x in range(w)]
        inked = [x for x in range(w) if cols[x]]
        if not inked:
            continue
        win_h = bottom - top
        win_w = 4 * win_h
        x = inked[0]
        while x + win_w <= min(w, inked[-1] + win_h):
            if sum(cols[x:x + win_w]) >= 0.4 * win_w:
                out.append(img.crop((x, top, x + win_w, bottom)))
            x += win_w
    return out


def write_set(out, windows):
    for label in ("0", "180"):
        os.makedirs(os.path.join(out, label), exist_ok=True)
    with open(os.path.join(out, "preprocess.yaml"), "w") as f:
        f.write(PREPROCESS)
    n = 0
    for name, win in windows:
        win.save(os.path.join(out, "0", name + ".png"), optimize=False)
        win.rotate(180).save(os.path.join(out, "180", name + ".png"), optimize=False)
        n += 1
    return n


def page_windows(folder, limit):
    """`limit` windows spread evenly over every window of the pages (in page, line, window order)."""
    wins = []
    for f in sorted(os.listdir(folder)):
        if f.endswith(".png"):
            img = Image.open(os.path.join(folder, f)).convert("L")
            wins += [("%s_%03d" % (os.path.splitext(f)[0], i), win) for i, win in enumerate(line_windows(img, 12, 40))]
    n = min(limit, len(wins))
    return [wins[k * len(wins) // n] for k in range(n)]


def main():
    out, calib_pages, eval_pages, photo = sys.argv[1:5]
    n_calib = write_set(os.path.join(out, "calib"), page_windows(calib_pages, 16))
    photo_img = Image.open(photo).convert("L")
    photo_windows = [("photo_%03d" % i, win) for i, win in enumerate(line_windows(photo_img, 10, 40))]
    n_eval = write_set(os.path.join(out, "eval"), page_windows(eval_pages, 120) + photo_windows)
    print("calib: %d windows (%d images); eval: %d windows (%d images)" % (n_calib, 2 * n_calib, n_eval, 2 * n_eval))


if __name__ == "__main__":
    main()
