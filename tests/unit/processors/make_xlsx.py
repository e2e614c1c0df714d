"""Writes an xlsx workbook as another writer would, with Python's own
zipfile and no styles or shared strings (test_xlsx_validate.c reads it
beside libxlsxwriter's): make_xlsx.py PATH.  Two sheets, "Notes" and
"People", the same rows as make_xls.py's people: errors at rows 3
(invalid_integer), 5 (required) and 6 (duplicate)."""
import sys
import zipfile

NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'
R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'
PR = 'http://schemas.openxmlformats.org/package/2006/relationships'


def cell(ref, v):
    if isinstance(v, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>'
    return f'<c r="{ref}"><v>{v}</v></c>'


def sheet(rows):
    out = []
    for r, values in rows:
        cells = ''.join(cell(f'{"ABCDE"[i]}{r}', v) for i, v in enumerate(values) if v is not None)
        out.append(f'<row r="{r}">{cells}</row>')
    return f'<worksheet xmlns="{NS}"><sheetData>{"".join(out)}</sheetData></worksheet>'


people = [(1, ['id', 'name']), (2, [1, 'Ada']), (3, [2.5, 'Bob']), (5, [3]), (6, [1, 'Cy'])]
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('[Content_Types].xml',
               '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
               '<Default Extension="xml" ContentType="application/xml"/>'
               '<Default Extension="rels" '
               'ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>')
    z.writestr('_rels/.rels', f'<Relationships xmlns="{PR}"><Relationship Id="rId1" '
               'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
               'officeDocument" Target="xl/workbook.xml"/></Relationships>')
    z.writestr('xl/workbook.xml', f'<workbook xmlns="{NS}" xmlns:r="{R}"><sheets>'
               '<sheet name="Notes" sheetId="1" r:id="rId1"/>'
               '<sheet name="People" sheetId="2" r:id="rId2"/></sheets></workbook>')
    z.writestr('xl/_rels/workbook.xml.rels', f'<Relationships xmlns="{PR}">'
               f'<Relationship Id="rId1" Type="{R}/worksheet" Target="worksheets/sheet1.xml"/>'
               f'<Relationship Id="rId2" Type="{R}/worksheet" Target="worksheets/sheet2.xml"/>'
               '</Relationships>')
    z.writestr('xl/worksheets/sheet1.xml', sheet([(1, ['nothing here'])]))
    z.writestr('xl/worksheets/sheet2.xml', sheet(people))
