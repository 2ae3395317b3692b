import datetime as dt
import io

from openpyxl import load_workbook

from common.excel import xlsx_response


def test_xlsx_response_streams_a_sheet_with_a_chinese_filename():
    response = xlsx_response(
        filename="居民名单.xlsx",
        sheet_title="居民",
        headers=["姓名", "出生日期", "积分"],
        rows=[["张三", dt.date(1950, 1, 2), 12], ["李四", None, 0]],
    )
    encoded = "%E5%B1%85%E6%B0%91%E5%90%8D%E5%8D%95.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{encoded}"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.title == "居民"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["姓名", "出生日期", "积分"],
        ["张三", dt.datetime(1950, 1, 2), 12],
        ["李四", None, 0],
    ]
