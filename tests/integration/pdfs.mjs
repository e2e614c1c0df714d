// PDFs for the tests of pdf.text (integration and browser), written by
// cairo (python3-cairo: Debian's own python3, not another on PATH).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const SCRIPT = `
import cairo, json, sys
texts, meta = json.loads(sys.argv[2]), json.loads(sys.argv[3])
s = cairo.PDFSurface(sys.argv[1], 595, 842)
if 'title' in meta: s.set_metadata(cairo.PDFMetadata.TITLE, meta['title'])
if 'author' in meta: s.set_metadata(cairo.PDFMetadata.AUTHOR, meta['author'])
c = cairo.Context(s)
c.select_font_face('DejaVu Sans')
c.set_font_size(14)
for t in texts:
    c.move_to(72, 100)
    c.show_text(t)
    c.show_page()
s.finish()
`;

// A PDF at file of one page per text, with a title and an author when
// given; its bytes.
export function cairoPdf(file, texts, meta = {}) {
  execFileSync('/usr/bin/python3', ['-c', SCRIPT, file, JSON.stringify(texts), JSON.stringify(meta)]);
  return readFileSync(file);
}
