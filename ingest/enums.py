"""Policy tables for normalisation: enumerations, placeholders and open-ended dates, as data.

Every table is matched against text folded by `credit.text.normalise_text` (NFKC, traditional →
simplified, whitespace dropped, ASCII lower-cased), so its keys and phrases are written in that
folded form. Where a table encodes a legal rule, its comment names the basis.
"""

from __future__ import annotations

# 《企业经营异常名录管理暂行办法》(原国家工商总局令第68号) 第四条, and the reasons as the national
# publicity system publishes them (DOMAIN.md §3):
#   1 未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告的
#   2 未在工商行政管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息的
#   3 公示企业信息隐瞒真实情况、弄虚作假的
#   4 通过登记的住所或者经营场所无法联系的
# Checked in this order, first match wins: reason 3 and 2 wordings may also mention 年度报告
# ("公示年度报告隐瞒真实情况…", "未在责令的期限内公示年度报告"), so "年度报告" is the last resort.
ABNORMAL_REASON_PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("3", ("隐瞒真实情况", "弄虚作假")),
    ("2", ("责令的期限内公示", "责令期限内公示", "责令的期限内未公示", "责令期限内未公示")),
    ("4", ("无法联系", "无法取得联系")),
    ("1", ("年度报告", "年报")),
)
ABNORMAL_REASON_CODES = ("1", "2", "3", "4")

# 《中华人民共和国行政处罚法》(2021 修订) 第九条 lists the kinds of penalty:
#   (一) 警告、通报批评; (二) 罚款、没收违法所得、没收非法财物;
#   (三) 暂扣许可证件、降低资质等级、吊销许可证件;
#   (四) 限制开展生产经营活动、责令停产停业、责令关闭、限制从业; (五) 行政拘留.
# Gongxin's severity groups them (一) → minor, (二) → ordinary, (三)–(五) → serious. Heaviest first:
# a cell naming several kinds ("罚款;吊销许可证") takes the heaviest. Substrings, so that
# "吊销营业执照" and "暂扣食品经营许可证" match too.
SEVERITY_BY_PENALTY_PHRASE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("serious", ("暂扣", "吊销", "降低资质等级", "停产停业", "责令关闭", "限制开展生产经营活动",
                 "限制从业", "行政拘留")),
    ("ordinary", ("罚款", "没收违法所得", "没收非法财物", "没收")),
    ("minor", ("警告", "通报批评")),
)
SEVERITIES = ("minor", "ordinary", "serious")
# A severity a source states itself, in its own words.
SEVERITY_WORDS: dict[str, str] = {
    "minor": "minor", "轻微": "minor",
    "ordinary": "ordinary", "一般": "ordinary",
    "serious": "serious", "严重": "serious",
}

# Change flags of exchange feeds (DOMAIN.md §2): insert / update / delete.
CHANGE_FLAGS: dict[str, str] = {
    "i": "i", "insert": "i", "新增": "i",
    "u": "u", "update": "u", "修改": "u", "更新": "u", "变更": "u",
    "d": "d", "delete": "d", "删除": "d", "撤销": "d",
}
CHANGE_CODES = ("i", "u", "d")

# What regulators write in an identifier, date or amount cell that has no value (compared in
# lower case after folding full-width forms; dashes alone are dropped by identifier folding).
EMPTY_MARKERS = frozenset({
    "", "-", "--", "—", "——", "/", "\\", "无", "暂无", "空", "null", "none", "nan", "n/a", "na",
})

# 许可 "有效期至 2099-12-31" means open-ended (DOMAIN.md §2); 9999-12-31 is the other sentinel seen.
# In these fields an open-ended value becomes "" (no end), and nothing else records it.
OPEN_ENDED_FIELDS = frozenset({"valid_to", "valid_until", "expires_on"})
OPEN_ENDED_DATES = frozenset({"2099-12-31", "9999-12-31"})
OPEN_ENDED_WORDS = frozenset({"长期", "长期有效", "永久", "永久有效", "无期限"})
