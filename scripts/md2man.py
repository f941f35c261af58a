#!/usr/bin/python3
"""Turns a docs/NAME.md manual into a man page (roff, tables through tbl).

The markdown stays the one source: this knows just the subset the manuals
use: headings, paragraphs, fenced and indented code, bullet and numbered
lists, pipe tables, `code`, **bold**, *italic* and [links](url).

usage: md2man.py FILE.md VERSION > NAME.8
"""
import re
import sys


def escape(text):
    text = text.replace("\\", "\\e")
    # a line starting with . or ' would be a request
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.M)


def inline(text):
    text = escape(text.replace("\\|", "|"))
    out, pos = [], 0
    # code spans first: their text is literal
    for m in re.finditer(r"`([^`]+)`", text):
        out.append(emphasis(text[pos : m.start()]))
        out.append("\\fB" + m.group(1) + "\\fR")
        pos = m.end()
    out.append(emphasis(text[pos:]))
    return "".join(out)


def emphasis(text):
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 <\2>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", text)
    return re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"\\fI\1\\fR", text)


def cell(text):
    text = inline(text.strip())
    return "T{\n" + text + "\nT}" if len(text) > 24 else text


def table(rows):
    cells = [re.split(r"(?<!\\)\|", r.strip().strip("|")) for r in rows]
    head, body = cells[0], [c for c in cells[2:]]
    n = len(head)
    fmt = " ".join(["lb"] * n) + "\n" + " ".join(["l"] * (n - 1) + ["lx"]) + "."
    lines = [".TS", "tab(\t);", fmt]
    lines.append("\t".join(inline(c.strip()) for c in head))
    lines.append("_")
    for row in body:
        row = (row + [""] * n)[:n]
        lines.append("\t".join(cell(c) for c in row))
    lines.append(".TE")
    return lines


def convert(md, version):
    lines = md.split("\n")
    title = re.match(r"#\s+(\S+)\((\d)\)\s+[—-]+\s+(.*)", lines[0])
    if not title:
        sys.exit("md2man: the first line must be '# name(8) — what it does'")
    name, section, what = title.groups()
    out = ["'\\\" t", f'.TH {name.upper()} {section} "" "waitscope {version}" "waitscope"']
    out += [".SH NAME", f"{name} \\- {escape(what)}"]
    i, para = 1, False
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            i += 1
            out += [".PP", ".nf", ".RS 4"]
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(escape(lines[i]) or ".sp")
                i += 1
            out += [".RE", ".fi"]
            i += 1
            continue
        if line.startswith("    ") and not para:
            out += [".PP", ".nf", ".RS 4"]
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                if not lines[i].strip() and not (i + 1 < len(lines) and lines[i + 1].startswith("    ")):
                    break
                out.append(escape(lines[i][4:]) or ".sp")
                i += 1
            out += [".RE", ".fi"]
            continue
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            out += [".PP"] + table(rows)
            para = False
            continue
        m = re.match(r"(#{2,4})\s+(.*)", line)
        if m:
            out.append((".SH " if len(m.group(1)) == 2 else ".SS ") + inline(m.group(2)))
            para = False
        elif not line.strip():
            para = False
        elif re.match(r"\s*([-*]|\d+\.)\s", line):
            m = re.match(r"(\s*)([-*]|\d+\.)\s+(.*)", line)
            depth = len(m.group(1)) // 2
            mark = "\\(bu" if m.group(2) in "-*" else m.group(2)
            out.append(f".IP {mark} {4 + 2 * depth}")
            out.append(inline(m.group(3)))
            para = True
        else:
            if not para:
                out.append(".PP")
                para = True
            out.append(inline(line.strip()))
        i += 1
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.stdout.write(convert(f.read(), sys.argv[2]))
