#!/usr/bin/python3
"""Writes the PDFs of bench/pdf.sh with cairo (Debian's python3-cairo): DOCS
documents of PAGES A4 pages each of dense text, 10 pt Helvetica-like sans,
66 lines of ~95 characters a page, words drawn from a fixed vocabulary by a
seeded generator (the same bytes for the same arguments).
Usage: bench/pdf_make.py OUTDIR DOCS PAGES SEED"""
import random
import sys

import cairo

WORDS = (
    "the of and to in is was for that with as on by at from this which be are or an "
    "platform worker queue upload object storage sandbox process limit memory page "
    "document text extraction benchmark throughput latency median percentile record "
    "schema validation retry attempt delivery webhook status event gateway service "
    "parallel sequential measure result output input scratch child kernel signal "
    "library poppler cairo glyph font stream cross reference table trailer catalog "
    "analysis report quarterly revenue customer invoice contract clause agreement "
    "section paragraph chapter appendix figure summary introduction conclusion"
).split()


def main():
    out, docs, pages, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    width, height = 595.0, 842.0  # A4 in points
    for d in range(docs):
        path = "%s/doc%02d.pdf" % (out, d)
        surf = cairo.PDFSurface(path, width, height)
        cr = cairo.Context(surf)
        cr.select_font_face("DejaVu Sans", cairo.FONT_SLANT_NORMAL, cairo.FONT_WEIGHT_NORMAL)
        cr.set_font_size(8.5)
        for p in range(pages):
            cr.move_to(40, 36)
            cr.show_text("Document %d, page %d" % (d + 1, p + 1))
            y = 52.0
            for _ in range(66):
                line = []
                n = 0
                while n < 95:
                    w = rng.choice(WORDS)
                    line.append(w)
                    n += len(w) + 1
                cr.move_to(40, y)
                cr.show_text(" ".join(line))
                y += 11.6
            cr.show_page()
        surf.finish()


if __name__ == "__main__":
    main()
