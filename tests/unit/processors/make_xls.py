"""Writes the xls (BIFF8) workbooks of the unit tests of xls.validate with
xlwt (Debian's python3-xlwt): make_xls.py KIND PATH.

  people  two sheets, "Notes" and "People" (a header, typed cells, a date
          and a date-time format, a gap row, errors at known rows)
  sparse  one cell at A1 and one at IV65536: a sheet that declares the
          largest BIFF8 dimension
"""
import datetime
import sys

import xlwt


def people(path):
    wb = xlwt.Workbook(encoding='utf-8')
    wb.add_sheet('Notes').write(0, 0, 'nothing here')
    ws = wb.add_sheet('People')
    date = xlwt.easyxf(num_format_str='YYYY-MM-DD')
    stamp = xlwt.easyxf(num_format_str='YYYY-MM-DD hh:mm:ss')
    for col, name in enumerate(['id', 'name', 'born', 'score', 'seen']):
        ws.write(0, col, name)
    ws.write(1, 0, 1)
    ws.write(1, 1, 'Zoë, "the first"')
    ws.write(1, 2, datetime.date(2024, 2, 29), date)
    ws.write(1, 3, 2.5)
    ws.write(1, 4, datetime.datetime(2024, 5, 1, 13, 45, 30), stamp)
    ws.write(2, 0, 2.5)  # row 3: not an integer
    ws.write(2, 1, 'Bob')
    ws.write(2, 2, datetime.date(1999, 12, 31), date)
    # row 4 is empty; row 5: no name (required)
    ws.write(4, 0, 3)
    ws.write(5, 0, 1)  # row 6: a duplicate id
    ws.write(5, 1, 'Cy')
    wb.save(path)


def sparse(path):
    wb = xlwt.Workbook()
    ws = wb.add_sheet('S')
    ws.write(0, 0, 'a')
    ws.write(65535, 255, 'z')
    wb.save(path)


{'people': people, 'sparse': sparse}[sys.argv[1]](sys.argv[2])
