#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks a flame graph SVG the way a person would meet it: it must parse as XML and, when a
chromium binary is installed, render to a picture that is not blank, with the named frames in
the rendered DOM.

    flame_check.py FILE.svg [FRAME_NAME...]

Exit 0 on success; otherwise one line saying why and exit 1. Standard library only.
"""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

SVG_NS = "{http://www.w3.org/2000/svg}"
TIMEOUT = 120


class Failure(Exception):
    pass


def parse_svg(path):
    try:
        root = ET.parse(path).getroot()
    except OSError as e:
        raise Failure(f"{path}: cannot read: {e.strerror}") from e
    except ET.ParseError as e:
        raise Failure(f"{path}: not valid XML: {e}") from e
    if root.tag != SVG_NS + "svg":
        raise Failure(f"{path}: root element is {root.tag}, not an SVG <svg>")
    return root


def frame_names(root):
    """Names of the frames: each <g class="f"> has a tooltip "NAME (time, share; kinds)"."""
    names = []
    for g in root.iter(SVG_NS + "g"):
        title = g.find(SVG_NS + "title")
        if "f" in g.get("class", "").split() and title is not None and title.text:
            cut = title.text.rfind(" (")
            names.append(title.text[:cut] if cut >= 0 else title.text)
    return names


def missing_names(names, frames):
    """The wanted names that are part of no frame's name (so "lock_thread" finds
    "lock_thread+0x1c" too)."""
    return [n for n in names if not any(n in f for f in frames)]


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def run_chromium(binary, args, url):
    """Runs chromium headless, new mode first and the old one if that is refused."""
    last = None
    for mode in ("--headless=new", "--headless"):
        cmd = [binary, mode, "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-dev-shm-usage", *args, url]
        try:
            res = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            last = f"chromium {mode} timed out after {TIMEOUT} s"
            continue
        if res.returncode == 0:
            return res
        err = res.stderr.decode(errors="replace").strip().splitlines()
        last = f"chromium {mode} exited with {res.returncode}: {err[-1] if err else ''}"
    raise Failure(last)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def unfilter(data, width, height, bpp):
    """PNG scanline filters undone: yields the raw rows, each width * bpp bytes, top first."""
    stride = width * bpp
    prev, pos = bytearray(stride), 0
    for _ in range(height):
        kind, line = data[pos], bytearray(data[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            upleft = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xff
            elif kind == 2:
                line[i] = (line[i] + up) & 0xff
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xff
            elif kind == 4:
                line[i] = (line[i] + paeth(left, up, upleft)) & 0xff
            elif kind != 0:
                raise Failure(f"PNG: unknown filter type {kind}")
        yield line
        prev = line


def png_colours(path, enough):
    """Distinct pixel colours of an 8-bit RGB(A) or grey PNG, counting stops at enough."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failure(f"{path}: not a PNG")
    pos, idat, head = 8, [], None
    while pos + 8 <= len(blob):
        length, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        body = blob[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if not head or not idat:
        raise Failure(f"{path}: PNG without header or image data")
    width, height, depth, ctype, _, _, interlace = head
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or bpp is None or interlace:
        raise Failure(f"{path}: PNG depth {depth}, colour type {ctype}, interlace {interlace}: "
                      "not a layout this check decodes")
    seen = set()
    # decoding in Python is slow: stop at the first rows that show enough colours
    for line in unfilter(zlib.decompress(b"".join(idat)), width, height, bpp):
        for i in range(0, len(line), bpp):
            seen.add(bytes(line[i:i + bpp]))
        if len(seen) >= enough:
            break
    return seen


def check_render(binary, path, names):
    url = "file://" + os.path.abspath(path)
    with tempfile.TemporaryDirectory(prefix="flame_check.") as tmp:
        png = os.path.join(tmp, "shot.png")
        # a private profile: no state shared with other runs or a desktop session
        profile = "--user-data-dir=" + os.path.join(tmp, "profile")
        run_chromium(binary, [profile, "--screenshot=" + png, "--window-size=1200,800"], url)
        if not os.path.isfile(png) or os.path.getsize(png) == 0:
            raise Failure("chromium wrote no screenshot")
        colours = png_colours(png, 3)
        if len(colours) < 3:
            raise Failure(f"screenshot is blank: {len(colours)} distinct colour(s)")
        # with the page's console on stderr: the embedded script must run without an error
        console = ["--enable-logging=stderr", "--v=0"]
        res = run_chromium(binary, [profile, "--dump-dom", *console], url)
        dom = res.stdout
    for line in res.stderr.decode(errors="replace").splitlines():
        if ":CONSOLE" in line and "Uncaught" in line:
            raise Failure("script error: " + line.split("] ", 1)[-1])
    try:
        missing = missing_names(names, frame_names(ET.fromstring(dom)))
    except ET.ParseError:
        # not serialised as XML: fall back to the text, either way it may be escaped
        text = dom.decode(errors="replace")
        missing = [n for n in names if n not in text and escape(n) not in text]
    if missing:
        raise Failure("rendered DOM lacks frame(s): " + ", ".join(missing))


def escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def main(argv):
    if len(argv) < 2:
        print("usage: flame_check.py FILE.svg [FRAME_NAME...]")
        return 1
    path, names = argv[1], argv[2:]
    try:
        frames = frame_names(parse_svg(path))
        if not frames and names:
            raise Failure(f"{path}: no frames at all")
        missing = missing_names(names, frames)
        if missing:
            raise Failure(f"{path}: no frame named " + ", ".join(missing))
        binary = chromium_binary()
        if binary:
            check_render(binary, path, names)
    except Failure as e:
        print(e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
