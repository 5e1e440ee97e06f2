"""The credit report (信用报告) as a PDF, drawn with reportlab from the same view as the page.

Chinese text is set in ``STSong-Light``, one of the standard CJK CID fonts that every PDF
reader provides, so the report never depends on this machine's fonts. Every value from the
store is escaped before it reaches reportlab's paragraph markup.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.pages.formatting import beijing
from app.pages.view import ProfileView, Record, Section

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
ORDINALS = "一二三四五六七八九十"
GREY = colors.HexColor("#555555")
LINE = colors.HexColor("#bbbbbb")
_STYLES = {
    "title": ParagraphStyle("title", fontName=FONT, fontSize=20, leading=26, alignment=TA_CENTER, spaceAfter=4),
    "subtitle": ParagraphStyle("subtitle", fontName=FONT, fontSize=13, leading=18, alignment=TA_CENTER,
                               spaceAfter=10),
    "heading": ParagraphStyle("heading", fontName=FONT, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4,
                              textColor=colors.HexColor("#8a1c1c")),
    "record": ParagraphStyle("record", fontName=FONT, fontSize=10.5, leading=15, spaceBefore=5, spaceAfter=1),
    "item": ParagraphStyle("item", fontName=FONT, fontSize=9, leading=13, leftIndent=12, wordWrap="CJK"),
    "note": ParagraphStyle("note", fontName=FONT, fontSize=8.5, leading=12, textColor=GREY, wordWrap="CJK"),
    "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10.5, wordWrap="CJK"),
}


@dataclass(frozen=True)
class Report:
    """A credit report: the profile, its number and when it was made."""

    view: ProfileView
    number: str
    generated: str  # Beijing time, to the minute

    @property
    def filename(self) -> str:
        """``信用报告-<identifier>-<number>.pdf`` without characters a file system dislikes."""
        return f"credit-report-{self.view.identifier}-{self.number[-12:]}.pdf"


def make_report(view: ProfileView, now: datetime) -> Report:
    """The report of this profile made at ``now`` (naive UTC)."""
    stamp = beijing(now).replace("-", "").replace(" ", "").replace(":", "")
    return Report(view, f"GX-{view.identifier}-{stamp}", beijing(now))


def _text(value: str) -> str:
    return escape(value).replace("\n", "<br/>")


def _para(value: str, style: str) -> Paragraph:
    return Paragraph(_text(value), _STYLES[style])


def report_pdf(report: Report) -> bytes:
    """The report as PDF bytes: a cover block, then every section of the profile."""
    out = io.BytesIO()
    view = report.view
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=f"{view.name} 企业信用报告", author="公信",
                            subject="企业信用报告", creator="公信 Gongxin")
    story: list[Flowable] = [_para("企业信用报告", "title"), _para(view.name, "subtitle"), _summary(report)]
    for number, section in enumerate(view.sections):
        story += _section(section, ORDINALS[number] if number < len(ORDINALS) else str(number + 1))
    story += [Spacer(1, 6 * mm), _para(DISCLAIMER, "note")]
    doc.build(story, onFirstPage=_footer(report), onLaterPages=_footer(report))
    return out.getvalue()


DISCLAIMER = ("本报告由公信系统依据各部门公开报送的信息生成，仅包含生成时依公示规则可向社会公开的信息；"
              "公示期满或已信用修复的记录不在其中。如对记录有异议，可在该企业信用信息页面提出。")


def _summary(report: Report) -> Table:
    view = report.view
    rows = [("报告编号", report.number), ("生成时间", f"{report.generated}（北京时间）"),
            ("统一社会信用代码", view.uscc or view.identifier), ("登记状态", view.status),
            ("所属地区", view.region), ("当前所在名单", "、".join(b.name for b in view.badges) or "无")]
    table = Table([[_para(k, "cell"), _para(v or "—", "cell")] for k, v in rows], colWidths=(36 * mm, 138 * mm))
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, LINE),
                               ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f3f3")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _section(section: Section, ordinal: str) -> list[Flowable]:
    flow: list[Flowable] = [_para(f"{ordinal}、{section.title}（{section.count}）", "heading")]
    if section.note:
        flow.append(_para(section.note, "note"))
    if section.count == 0:
        flow.append(_para(section.empty, "item"))
    elif section.table is not None:
        flow.append(_table(section.table.headers, section.table.rows))
    for record in section.records:
        flow += _record(record)
    return flow


def _record(record: Record) -> list[Flowable]:
    title = _text(record.title) + (f"　【{_text(record.tag)}】" if record.tag else "")
    flow: list[Flowable] = [Paragraph(title, _STYLES["record"])]
    for item in record.items:
        flow.append(Paragraph(f'<font color="#555555">{_text(item.label)}：</font>{_text(item.value)}',
                              _STYLES["item"]))
    return flow


def _table(headers: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> Table:
    widths = (30 * mm, 48 * mm, 44 * mm, 26 * mm, 26 * mm)
    data = [[_para(h, "cell") for h in headers]] + [[_para(v, "cell") for v in row] for row in rows]
    table = Table(data, colWidths=widths[:len(headers)], repeatRows=1, splitInRow=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, LINE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f3f3"))]))
    return table


def _footer(report: Report) -> Any:
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(GREY)
        canvas.drawString(18 * mm, 10 * mm, f"公信 · 企业信用报告 · {report.number}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()
    return draw
