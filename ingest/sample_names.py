"""Made-up market entities for `ingest.sample`: regions, names, identifiers, register attributes.

Everything is generated column-wise with a numpy Generator so that a million entities take
seconds. Names follow the real patterns (region + brand + industry + organisation form, branches,
cooperatives, individual businesses) but brands are random draws from common name characters;
identifiers carry valid GB 32100 / GB 11714 / MOD 11,10 check characters (cross-checked against
`credit.identifiers` in the tests). No real entity's name or code is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from credit.identifiers import ORG_CODE_ALPHABET, USCC_ALPHABET

ENTERPRISE, BRANCH, COOPERATIVE, INDIVIDUAL = 0, 1, 2, 3
MA_ERA = np.datetime64("2015-10-01")  # codes issued afresh (…MA…) from here on; older ones kept a 注册号

# (name in names, short name, province prefix of addresses, code, decision-number abbreviation,
#  province abbreviation, share of entities, districts: (name, code, rural))
CITIES: tuple[tuple[str, str, str, str, str, str, float, tuple[tuple[str, str, bool], ...]], ...] = (
    ("深圳市", "深圳", "广东省", "440300", "深", "粤", 0.20, (
        ("福田区", "440304", False), ("罗湖区", "440303", False), ("南山区", "440305", False),
        ("宝安区", "440306", False), ("龙岗区", "440307", False), ("龙华区", "440309", False),
        ("坪山区", "440310", True))),
    ("广州市", "广州", "广东省", "440100", "穗", "粤", 0.16, (
        ("越秀区", "440104", False), ("海珠区", "440105", False), ("天河区", "440106", False),
        ("白云区", "440111", False), ("番禺区", "440113", False), ("从化区", "440117", True),
        ("增城区", "440118", True))),
    ("杭州市", "杭州", "浙江省", "330100", "杭", "浙", 0.12, (
        ("上城区", "330102", False), ("拱墅区", "330105", False), ("西湖区", "330106", False),
        ("滨江区", "330108", False), ("萧山区", "330109", False), ("余杭区", "330110", False),
        ("桐庐县", "330122", True), ("淳安县", "330127", True))),
    ("北京", "北京", "北京市", "110000", "京", "京", 0.14, (
        ("东城区", "110101", False), ("西城区", "110102", False), ("朝阳区", "110105", False),
        ("丰台区", "110106", False), ("海淀区", "110108", False), ("大兴区", "110115", False),
        ("平谷区", "110117", True), ("密云区", "110118", True))),
    ("上海", "上海", "上海市", "310000", "沪", "沪", 0.14, (
        ("黄浦区", "310101", False), ("徐汇区", "310104", False), ("长宁区", "310105", False),
        ("闵行区", "310112", False), ("嘉定区", "310114", False), ("浦东新区", "310115", False),
        ("崇明区", "310151", True))),
    ("苏州市", "苏州", "江苏省", "320500", "苏", "苏", 0.09, (
        ("虎丘区", "320505", False), ("吴中区", "320506", False), ("相城区", "320507", False),
        ("姑苏区", "320508", False), ("吴江区", "320509", False), ("常熟市", "320581", True),
        ("昆山市", "320583", False))),
    ("成都市", "成都", "四川省", "510100", "成", "川", 0.09, (
        ("锦江区", "510104", False), ("青羊区", "510105", False), ("武侯区", "510107", False),
        ("成华区", "510108", False), ("双流区", "510116", False), ("郫都区", "510117", True),
        ("大邑县", "510129", True), ("蒲江县", "510131", True))),
    ("武汉市", "武汉", "湖北省", "420100", "汉", "鄂", 0.06, (
        ("江岸区", "420102", False), ("武昌区", "420106", False), ("洪山区", "420111", False),
        ("东西湖区", "420112", False), ("黄陂区", "420116", True), ("新洲区", "420117", True))),
)
CITY_NAME = np.array([c[0] for c in CITIES], dtype=object)
CITY_SHORT = np.array([c[1] for c in CITIES], dtype=object)
CITY_FULL = np.array([c[0] if c[0].endswith("市") else c[0] + "市" for c in CITIES], dtype=object)
CITY_CODE = np.array([c[3] for c in CITIES], dtype=object)
CITY_ABBR = np.array([c[4] for c in CITIES], dtype=object)
PROVINCE_ABBR = np.array([c[5] for c in CITIES], dtype=object)
_CITY_SHARE = np.array([c[6] for c in CITIES]) / sum(c[6] for c in CITIES)
DISTRICTS = tuple((ci, d) for ci, c in enumerate(CITIES) for d in c[7])
DISTRICT_CITY = np.array([ci for ci, _ in DISTRICTS])
DISTRICT_NAME = np.array([d[0] for _, d in DISTRICTS], dtype=object)
DISTRICT_CODE = np.array([d[1] for _, d in DISTRICTS], dtype=object)
DISTRICT_SHORT = np.array([d[0][:-1] if len(d[0]) > 2 else d[0] for _, d in DISTRICTS], dtype=object)
_MUNICIPAL = {"北京", "上海"}

BRAND_CHARS = (
    "华创鑫源达盛恒泰安宏兴隆丰瑞祥顺通信诚德嘉美新博远海天中金银立凯和永建福星辉光明宇飞腾云智"
    "慧汇众聚邦利佳优卓越锦润荣昌益康乐晨阳尚品成长合力联捷欣宜贝思睿航驰峰林森晟昊煜辰轩浩澜霖"
    "雅悦铭鼎鸿骏耀俊坤元正方圆亿万千百东南西北世纪红蓝绿青紫易讯迅锐敏捷精准诺亚泽洋江河山川湖"
    "涛波清澈朗晴岚松柏竹梅兰菊禾田稻谷春夏秋冬晶玉翠宝珍豪杰英雄威武胜凡达龙凤麒麟虎豹鹏鹰雁燕"
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万"
)
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力林海波斌宇浩凯鹏飞俊峰志国庆东亮晓梅兰燕雪琳婷慧颖"
# (industry word, 国民经济行业 category, sector used for licences and penalties)
INDUSTRIES = (
    ("科技", "科技推广和应用服务业", "tech"), ("信息技术", "软件和信息技术服务业", "tech"),
    ("网络科技", "互联网和相关服务", "tech"), ("电子科技", "计算机、通信和其他电子设备制造业", "manufacturing"),
    ("贸易", "批发业", "trade"), ("商贸", "批发业", "trade"), ("实业", "批发业", "trade"),
    ("供应链管理", "商务服务业", "trade"), ("餐饮管理", "餐饮业", "food"), ("食品", "食品制造业", "food"),
    ("农产品", "农副食品加工业", "food"), ("建筑工程", "房屋建筑业", "construction"),
    ("装饰工程", "建筑装饰、装修和其他建筑业", "construction"), ("物流", "装卸搬运和仓储业", "transport"),
    ("运输", "道路运输业", "transport"), ("医药", "医药制造业", "drug"), ("医疗器械", "专用设备制造业", "drug"),
    ("电子", "计算机、通信和其他电子设备制造业", "manufacturing"), ("机械设备", "通用设备制造业", "manufacturing"),
    ("新材料", "化学原料和化学制品制造业", "chemical"), ("化工", "化学原料和化学制品制造业", "chemical"),
    ("环保科技", "生态保护和环境治理业", "environment"), ("能源", "电力、热力生产和供应业", "environment"),
    ("文化传播", "文化艺术业", "services"), ("广告", "商务服务业", "services"),
    ("教育咨询", "教育", "services"), ("企业管理咨询", "商务服务业", "services"),
    ("人力资源", "商务服务业", "services"), ("酒店管理", "住宿业", "services"),
    ("物业管理", "房地产业", "services"), ("房地产开发", "房地产业", "construction"),
    ("服装", "纺织服装、服饰业", "manufacturing"), ("家具", "家具制造业", "manufacturing"),
    ("生物科技", "研究和试验发展", "tech"), ("汽车服务", "机动车、电子产品和日用产品修理业", "services"),
)
COOP_PRODUCTS = (
    ("种养", "农业"), ("果蔬种植", "农业"), ("茶叶", "农业"), ("水产养殖", "渔业"), ("生猪养殖", "畜牧业"),
    ("农机", "农、林、牧、渔专业及辅助性活动"), ("中药材种植", "农业"), ("花卉苗木", "农业"),
    ("蔬菜种植", "农业"), ("家禽养殖", "畜牧业"), ("食用菌", "农业"), ("粮食种植", "农业"),
)
SHOPS = (
    ("便利店", "零售业", "food"), ("五金店", "零售业", "trade"), ("餐馆", "餐饮业", "food"),
    ("小吃店", "餐饮业", "food"), ("面馆", "餐饮业", "food"), ("理发店", "居民服务业", "services"),
    ("美容美发店", "居民服务业", "services"), ("服装店", "零售业", "trade"), ("水果店", "零售业", "food"),
    ("烟酒商行", "零售业", "trade"), ("日用品商店", "零售业", "trade"),
    ("汽车维修部", "机动车、电子产品和日用产品修理业", "services"), ("建材经营部", "批发业", "trade"),
    ("手机维修店", "机动车、电子产品和日用产品修理业", "services"), ("副食店", "零售业", "food"),
)
_FORMS = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司")
_FORM_SHARE = (0.56, 0.26, 0.14, 0.04)
_TYPES_BY_FORM = (
    ("有限责任公司（自然人投资或控股）", "有限责任公司（自然人独资）", "有限责任公司（法人独资）", "其他有限责任公司"),
    ("有限责任公司（自然人投资或控股）", "有限责任公司（自然人独资）", "其他有限责任公司"),
    ("股份有限公司（非上市、自然人投资或控股）", "股份有限公司（上市、自然人投资或控股）", "股份有限公司（非上市）"),
    ("有限责任公司（自然人投资或控股）", "有限责任公司（法人独资）"),
)
_ROADS = ("人民路", "解放路", "建设路", "中山路", "科技路", "工业大道", "新华路", "和平路", "文化路",
          "长江路", "滨河路", "东风路", "胜利路", "创业路", "学院路", "站前路", "青年路", "迎宾大道")
_BUILDINGS = ("创新大厦", "科技园", "商务中心", "国际广场", "产业园", "金融中心", "创业园", "商贸城")
STATUSES = ("存续", "在业", "吊销", "注销", "迁出")
_STATUS_SHARE = (0.70, 0.12, 0.07, 0.10, 0.01)
_FULLWIDTH = {cp: cp + 0xFEE0 for cp in range(0x21, 0x7F)}
_BRACKET_FLIP = str.maketrans({"（": "(", "）": ")", "(": "（", ")": "）"})


@dataclass
class Entities:
    """Column arrays, one row per entity: the registered ones first, then the unknown ones."""

    registered: int
    kind: np.ndarray
    city: np.ndarray
    district: np.ndarray
    sector: np.ndarray
    established: np.ndarray
    died: np.ndarray
    status: np.ndarray
    uscc: np.ndarray
    reg_no: np.ndarray
    org_code: np.ndarray
    name: np.ndarray
    former_names: np.ndarray
    entity_type: np.ndarray
    legal_rep: np.ndarray
    capital: np.ndarray
    address: np.ndarray
    reg_authority: np.ndarray
    industry: np.ndarray


def build_entities(rng: np.random.Generator, registered: int, unknown: int, today: date) -> Entities:
    """Registered entities plus `unknown` extra identities that no registration row will carry."""
    total = registered + unknown
    kind = rng.choice(4, size=total, p=[0.80, 0.05, 0.03, 0.12])
    kind[registered:] = ENTERPRISE
    city = rng.choice(len(CITIES), size=total, p=_CITY_SHARE)
    district = _districts(rng, city, kind)
    established = _established(rng, total, today)
    old_only = (rng.random(total) < 0.03) & (kind != BRANCH)
    old_only[registered:] = False
    established[old_only] = np.datetime64("1993-01-01") + rng.integers(0, 7300, old_only.sum())
    status, died = _statuses(rng, old_only, established, today)
    parts = _name_parts(rng, kind, city, district)
    names = _unique_names(rng, parts, kind, city, district)
    uscc, org = _usccs(rng, kind, district, city, established, old_only)
    reg_no = _reg_nos(rng, district, (established < MA_ERA) | old_only)
    people = person_names(rng, total)
    return Entities(
        registered=registered, kind=kind, city=city, district=district, sector=parts.sector,
        established=established, died=died, status=status, uscc=uscc, reg_no=reg_no, org_code=org,
        name=names, former_names=_former_names(rng, names, parts, kind, registered),
        entity_type=_entity_types(rng, kind, parts.form), legal_rep=people,
        capital=_capitals(rng, kind, parts.form), address=_addresses(rng, city, district),
        reg_authority=_authorities(city, district), industry=parts.industry,
    )


@dataclass
class _Parts:
    """Name = prefix + brand + rest; the industry word and form kept for former names and types."""

    prefix: np.ndarray
    brand: np.ndarray
    rest: np.ndarray
    word: np.ndarray
    form: np.ndarray
    industry: np.ndarray
    sector: np.ndarray


def _districts(rng: np.random.Generator, city: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """A district of each entity's city; cooperatives only in the rural ones."""
    district = np.empty(len(city), dtype=np.int64)
    for ci in range(len(CITIES)):
        here = np.flatnonzero(DISTRICT_CITY == ci)
        rural = here[[DISTRICTS[d][1][2] for d in here]]
        rows = city == ci
        district[rows] = rng.choice(here, size=rows.sum())
        coops = rows & (kind == COOPERATIVE)
        district[coops] = rng.choice(rural, size=coops.sum())
    return district


def _established(rng: np.random.Generator, n: int, today: date) -> np.ndarray:
    """Establishment days skewed to recent years, as the register's growth is."""
    span = (np.datetime64(today) - np.datetime64("1995-01-01")).astype(int)
    age = (span * rng.random(n) ** 1.8).astype(np.int64)
    return np.datetime64(today) - age - 1


def _statuses(rng: np.random.Generator, old_only: np.ndarray, established: np.ndarray,
              today: date) -> tuple[np.ndarray, np.ndarray]:
    """登记状态 with realistic shares, and the day a dead entity was revoked or deregistered."""
    status = np.array(STATUSES, dtype=object)[rng.choice(5, size=len(old_only), p=_STATUS_SHARE)]
    status[old_only] = np.where(rng.random(old_only.sum()) < 0.7, "注销", "吊销")
    dead = (status == "吊销") | (status == "注销")
    end = np.where(old_only, np.datetime64("2015-06-30"), np.datetime64(today))
    span = np.maximum((end - established).astype(np.int64), 1)
    died = established + (span * rng.random(len(status)) ** 0.5).astype(np.int64)
    died[~dead] = np.datetime64("NaT")
    return status, died


def _name_parts(rng: np.random.Generator, kind: np.ndarray, city: np.ndarray,
                district: np.ndarray) -> _Parts:
    """Prefix, brand and rest of each name by the patterns real names follow (branches later)."""
    n = len(kind)
    ind = rng.integers(0, len(INDUSTRIES), n)
    form = rng.choice(len(_FORMS), size=n, p=_FORM_SHARE)
    pattern = rng.choice(4, size=n, p=[0.60, 0.15, 0.10, 0.15])
    half_width = rng.random(n) < 0.25
    no_shi = rng.random(n) < 0.1
    words = np.array([i[0] for i in INDUSTRIES], dtype=object)[ind]
    industry = np.array([i[1] for i in INDUSTRIES], dtype=object)[ind]
    sector = np.array([i[2] for i in INDUSTRIES], dtype=object)[ind]
    forms = np.array(_FORMS, dtype=object)[form]
    city_prefix = [s if (no or s in _MUNICIPAL) else c
                   for c, s, no in zip(CITY_NAME[city], CITY_SHORT[city], no_shi)]
    prefix = np.empty(n, dtype=object)
    rest = np.empty(n, dtype=object)
    for i, (p, cp, cf, dn, cs, w, f, hw) in enumerate(zip(pattern, city_prefix, CITY_FULL[city],
            DISTRICT_NAME[district], CITY_SHORT[city], words, forms, half_width)):
        if p == 1:
            prefix[i], rest[i] = "", f"{w}({cs}){f}" if hw else f"{w}（{cs}）{f}"
        elif p == 2:
            prefix[i], rest[i] = cf + dn, w + f
        elif p == 3:
            prefix[i], rest[i] = "", w + f
        else:
            prefix[i], rest[i] = cp, w + f
    _coop_parts(rng, kind == COOPERATIVE, district, prefix, rest, words, industry, sector)
    _shop_parts(rng, kind == INDIVIDUAL, city, district, prefix, rest, words, industry, sector)
    brand = _brands(rng, n)
    persons = (kind == INDIVIDUAL) & (rng.random(n) < 0.4)
    brand[persons] = person_names(rng, int(persons.sum()))
    return _Parts(prefix, brand, rest, words, form, industry, sector)


def _coop_parts(rng: np.random.Generator, rows: np.ndarray, district: np.ndarray, prefix: np.ndarray,
                rest: np.ndarray, words: np.ndarray, industry: np.ndarray, sector: np.ndarray) -> None:
    """XX县丰源茶叶专业合作社: rural district, brand, product, 专业合作社."""
    idx = np.flatnonzero(rows)
    product = rng.integers(0, len(COOP_PRODUCTS), len(idx))
    farmers = rng.random(len(idx)) < 0.3
    prefix[idx] = DISTRICT_NAME[district[idx]]
    words[idx] = [COOP_PRODUCTS[p][0] for p in product]
    rest[idx] = [COOP_PRODUCTS[p][0] + ("农民专业合作社" if f else "专业合作社") for p, f in zip(product, farmers)]
    industry[idx] = [COOP_PRODUCTS[p][1] for p in product]
    sector[idx] = "agriculture"


def _shop_parts(rng: np.random.Generator, rows: np.ndarray, city: np.ndarray, district: np.ndarray,
                prefix: np.ndarray, rest: np.ndarray, words: np.ndarray, industry: np.ndarray,
                sector: np.ndarray) -> None:
    """南山区张三便利店 / 深圳市南山区鑫隆五金店: district (sometimes with city), owner or brand, shop."""
    idx = np.flatnonzero(rows)
    shop = rng.integers(0, len(SHOPS), len(idx))
    with_city = rng.random(len(idx)) < 0.4
    prefix[idx] = [c + d if wc else d for c, d, wc in
                   zip(CITY_FULL[city[idx]], DISTRICT_NAME[district[idx]], with_city)]
    words[idx] = rest[idx] = [SHOPS[s][0] for s in shop]
    industry[idx] = [SHOPS[s][1] for s in shop]
    sector[idx] = [SHOPS[s][2] for s in shop]


def _brands(rng: np.random.Generator, n: int) -> np.ndarray:
    """Made-up brands (字号) of 2 to 4 common name characters."""
    length = rng.choice([2, 3, 4], size=n, p=[0.7, 0.25, 0.05])
    chars = rng.integers(0, len(BRAND_CHARS), (n, 4))
    table = np.array(list(BRAND_CHARS), dtype=object)[chars]
    return np.array(["".join(row[:k]) for row, k in zip(table.tolist(), length)], dtype=object)


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Made-up personal names: a common surname and one or two given-name characters."""
    surname = np.array(list(SURNAMES), dtype=object)[rng.integers(0, len(SURNAMES), n)]
    given = np.array(list(GIVEN_CHARS), dtype=object)[rng.integers(0, len(GIVEN_CHARS), (n, 2))]
    single = rng.random(n) < 0.3
    return np.array([s + g[0] if one else s + g[0] + g[1]
                     for s, g, one in zip(surname, given.tolist(), single)], dtype=object)


def _unique_names(rng: np.random.Generator, parts: _Parts, kind: np.ndarray, city: np.ndarray,
                  district: np.ndarray) -> np.ndarray:
    """Assemble the names, redrawing brands until no two entities share one; then the branches."""
    names = parts.prefix + parts.brand + parts.rest
    others = np.flatnonzero(kind != BRANCH)
    while True:
        dup = others[pd.Series(names[others], dtype=object).duplicated().to_numpy()]
        if not len(dup):
            break
        parts.brand[dup] = _brands(rng, len(dup))
        names[dup] = parts.prefix[dup] + parts.brand[dup] + parts.rest[dup]
    _branch_names(rng, names, kind, city, district)
    return names


def _branch_names(rng: np.random.Generator, names: np.ndarray, kind: np.ndarray, city: np.ndarray,
                  district: np.ndarray) -> None:
    """XX有限公司深圳分公司: a parent enterprise and the branch's city (or district, same city)."""
    branches = np.flatnonzero(kind == BRANCH)
    parents = np.flatnonzero(kind == ENTERPRISE)
    if not len(parents):
        kind[branches] = ENTERPRISE
        return
    taken = pd.Index(names[kind != BRANCH], dtype=object)
    todo = branches
    while len(todo):
        parent = rng.choice(parents, size=len(todo))
        use_district = rng.random(len(todo)) < 0.3
        names[todo] = [n + (d if ud else c) + "分公司" for n, c, d, ud in zip(
            names[parent], CITY_SHORT[city[todo]], DISTRICT_SHORT[district[todo]], use_district)]
        ours = pd.Series(names[branches], dtype=object)
        todo = branches[(ours.duplicated() | ours.isin(taken)).to_numpy()]


def _former_names(rng: np.random.Generator, names: np.ndarray, parts: _Parts, kind: np.ndarray,
                  registered: int) -> np.ndarray:
    """曾用名 for about 3% of registered enterprises: another industry word, sometimes two names."""
    former = np.full(len(names), "", dtype=object)
    rows = np.flatnonzero((rng.random(registered) < 0.03) & (kind[:registered] == ENTERPRISE))
    taken = set(names.tolist())
    other = np.array([i[0] for i in INDUSTRIES], dtype=object)[rng.integers(0, len(INDUSTRIES), len(rows))]
    second = rng.random(len(rows)) < 0.2
    for i, word, two in zip(rows, other, second):
        if parts.word[i] == word:
            continue
        old = parts.prefix[i] + parts.brand[i] + parts.rest[i].replace(parts.word[i], word, 1)
        if old in taken or old == names[i]:
            continue
        taken.add(old)
        older = old.replace("有限公司", "有限责任公司", 1) if "有限责任公司" not in old else ""
        if two and older and older not in taken:
            taken.add(older)
            old = f"{old}；{older}"
        former[i] = old
    return former


_USCC_VALUE = np.zeros(256, dtype=np.int64)
_USCC_VALUE[np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)] = np.arange(31)
_ORG_VALUE = np.zeros(256, dtype=np.int64)
_ORG_VALUE[np.frombuffer(ORG_CODE_ALPHABET.encode(), dtype=np.uint8)] = np.arange(36)
_USCC_BYTES = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ORG_CHECK = np.frombuffer(b"0123456789X0", dtype=np.uint8)  # index 11 - sum % 11 (1..11)


def _usccs(rng: np.random.Generator, kind: np.ndarray, district: np.ndarray, city: np.ndarray,
           established: np.ndarray, old_only: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """USCCs (9 + type + division + organisation code + check) and their organisation codes.

    Codes issued from late 2015 carry an MA organisation code; older entities got a numeric one.
    Shenzhen registers at city level (440300…), the other cities at district level.
    """
    n = len(kind)
    body = _org_bodies(rng, established >= MA_ERA)
    org = np.concatenate([body, _org_checks(body)[:, None]], axis=1)
    division = np.where(CITY_CODE[city] == "440300", "440300", DISTRICT_CODE[district])
    head = np.empty((n, 8), dtype=np.uint8)
    head[:, 0] = ord("9")
    head[:, 1] = np.array([ord("1"), ord("1"), ord("3"), ord("2")], dtype=np.uint8)[kind]
    head[:, 2:] = np.frombuffer("".join(division.tolist()).encode(), dtype=np.uint8).reshape(n, 6)
    first17 = np.concatenate([head, org], axis=1)
    check = _USCC_BYTES[(-(_USCC_VALUE[first17] @ _USCC_WEIGHTS)) % 31]
    codes = np.concatenate([first17, check[:, None]], axis=1)
    uscc = _as_strings(codes, 18)
    orgs = _as_strings(org, 9)
    uscc[old_only] = ""
    orgs[old_only] = ""
    return uscc, orgs


def _org_bodies(rng: np.random.Generator, ma: np.ndarray) -> np.ndarray:
    """Unique 8-character organisation-code bodies: MA + 6 of the USCC alphabet, or 8 digits."""
    n = len(ma)
    body = np.empty((n, 8), dtype=np.uint8)
    todo = np.arange(n)
    while len(todo):
        fresh = _USCC_BYTES[rng.integers(0, 31, (len(todo), 8))]
        digits = rng.integers(ord("0"), ord("9") + 1, (len(todo), 8)).astype(np.uint8)
        fresh = np.where(ma[todo, None], fresh, digits)
        fresh[ma[todo], 0], fresh[ma[todo], 1] = ord("M"), ord("A")
        body[todo] = fresh
        todo = np.flatnonzero(pd.Series(_as_strings(body, 8), dtype=object).duplicated().to_numpy())
    return body


def _org_checks(body: np.ndarray) -> np.ndarray:
    """GB 11714 check characters of 8-character bodies."""
    total = _ORG_VALUE[body] @ _ORG_WEIGHTS
    return _ORG_CHECK[11 - total % 11]


def _reg_nos(rng: np.random.Generator, district: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Unique 15-digit registration numbers (ISO 7064 MOD 11,10) for the pre-2015 entities."""
    n = len(district)
    digits = np.zeros((n, 14), dtype=np.int64)
    digits[:, :6] = np.frombuffer("".join(DISTRICT_CODE[district].tolist()).encode(),
                                  dtype=np.uint8).reshape(n, 6) - ord("0")
    todo = np.arange(n)
    while len(todo):
        digits[todo, 6:] = rng.integers(0, 10, (len(todo), 8))
        text = _as_strings((digits + ord("0")).astype(np.uint8), 14)
        todo = np.flatnonzero(pd.Series(text, dtype=object).duplicated().to_numpy())
    product = np.full(n, 10, dtype=np.int64)
    for col in range(14):
        s = (product + digits[:, col]) % 10
        product = 2 * np.where(s == 0, 10, s) % 11
    check = (1 - product) % 10
    full = np.concatenate([digits, check[:, None]], axis=1) + ord("0")
    reg = _as_strings(full.astype(np.uint8), 15)
    reg[~has] = ""
    return reg


def _as_strings(codes: np.ndarray, width: int) -> np.ndarray:
    """Rows of ASCII bytes as an object array of str."""
    return np.ascontiguousarray(codes).view(f"S{width}").ravel().astype(f"U{width}").astype(object)


def _entity_types(rng: np.random.Generator, kind: np.ndarray, form: np.ndarray) -> np.ndarray:
    """企业类型 consistent with the organisation form in the name."""
    pick = rng.integers(0, 12, len(kind))
    types = np.array([_TYPES_BY_FORM[f][p % len(_TYPES_BY_FORM[f])] for f, p in zip(form, pick)], dtype=object)
    types[kind == BRANCH] = np.where(pick[kind == BRANCH] < 9, "有限责任公司分公司（自然人投资或控股）",
                                     "股份有限公司分公司（非上市）")
    types[kind == COOPERATIVE] = "农民专业合作社"
    types[kind == INDIVIDUAL] = "个体工商户"
    return types


def _capitals(rng: np.random.Generator, kind: np.ndarray, form: np.ndarray) -> np.ndarray:
    """注册资本(万元) as text: round sums, a few with six decimals; none for branches and shops."""
    steps = np.array([10, 30, 50, 100, 100, 200, 300, 500, 500, 1000, 1000, 2000, 5000, 10000])
    amount = steps[rng.integers(0, len(steps), len(kind))] * np.where(form == 2, 10, 1)
    coop = kind == COOPERATIVE
    amount[coop] = np.array([5, 10, 20, 50, 100, 200])[rng.integers(0, 6, coop.sum())]
    decimals = rng.random(len(kind)) < 0.2
    text = np.array([f"{a}.000000" if d else str(a) for a, d in zip(amount, decimals)], dtype=object)
    text[(kind == BRANCH) | (kind == INDIVIDUAL)] = ""
    return text


def _addresses(rng: np.random.Generator, city: np.ndarray, district: np.ndarray) -> np.ndarray:
    """住所: province, city, district, road and number, sometimes a building and room."""
    n = len(city)
    province = np.array([c[2] for c in CITIES], dtype=object)[city]
    road = np.array(_ROADS, dtype=object)[rng.integers(0, len(_ROADS), n)]
    number = rng.integers(1, 999, n)
    building = np.array(_BUILDINGS, dtype=object)[rng.integers(0, len(_BUILDINGS), n)]
    room = rng.integers(101, 2999, n)
    with_building = rng.random(n) < 0.5
    cities = CITY_FULL[city]
    return np.array([
        (p if p != c else "") + c + d + r + f"{no}号" + (f"{b}{rm}室" if wb else "")
        for p, c, d, r, no, b, rm, wb in zip(province, cities, DISTRICT_NAME[district], road, number,
                                            building, room, with_building)], dtype=object)


def _authorities(city: np.ndarray, district: np.ndarray) -> np.ndarray:
    """登记机关: the district bureau of market regulation."""
    return np.array([
        f"{c}市{d}市场监督管理局" if c in _MUNICIPAL else f"{cn}市场监督管理局{ds}分局"
        for c, cn, d, ds in zip(CITY_SHORT[city], CITY_NAME[city], DISTRICT_NAME[district],
                                DISTRICT_SHORT[district])], dtype=object)


def fullwidth(text: str) -> str:
    """The full-width spelling of an ASCII identifier (as some feeds type them)."""
    return text.translate(_FULLWIDTH)


def flip_brackets(text: str) -> str:
    """Swap full-width and half-width round brackets, as other feeds spell the same name."""
    return text.translate(_BRACKET_FLIP)


# --- feed vocabulary: agencies, penalty and licence catalogues, list wordings ----------------

# key: (name pattern, abbreviation in decision numbers)
AGENCIES = {
    "samr": ("{c}市场监督管理局", "市监"), "env": ("{c}生态环境局", "环"), "safety": ("{c}应急管理局", "应急"),
    "transport": ("{c}交通运输局", "交"), "health": ("{c}卫生健康委员会", "卫"),
    "housing": ("{c}住房和城乡建设局", "建"), "urban": ("{c}城市管理和综合执法局", "城管"),
    "tax": ("国家税务总局{c}税务局", "税"), "culture": ("{c}文化广电旅游局", "文旅"),
    "fire": ("{c}消防救援支队", "消"), "hr": ("{c}人力资源和社会保障局", "人社"),
    "ndrc": ("{c}发展和改革委员会", "发改"), "customs": ("{s}海关", "关"),
}
# (agency, 违法行为类型, 违法事实, 处罚依据, sectors it applies to; empty = any)
PENALTIES = (
    ("samr", "销售不符合食品安全标准的食品", "当事人销售的食品经抽样检验，部分项目不符合食品安全标准",
     "《中华人民共和国食品安全法》第一百二十四条第一款", ("food",)),
    ("samr", "未取得食品经营许可从事食品经营活动", "当事人未取得食品经营许可，擅自从事食品销售活动",
     "《中华人民共和国食品安全法》第一百二十二条第一款", ("food",)),
    ("samr", "虚假宣传", "当事人在其经营场所及网络店铺对商品的功能作虚假或者引人误解的商业宣传",
     "《中华人民共和国反不正当竞争法》第二十条第一款", ()),
    ("samr", "销售不合格产品", "当事人销售的产品经监督抽查，检验结论为不合格",
     "《中华人民共和国产品质量法》第四十九条", ("trade", "manufacturing", "tech")),
    ("samr", "发布违法广告", "当事人发布的广告中含有“最佳”“国家级”等绝对化用语",
     "《中华人民共和国广告法》第五十七条第一项", ()),
    ("samr", "未按规定明码标价", "当事人销售商品未按照规定明码标价",
     "《明码标价和禁止价格欺诈规定》第二十一条", ("trade", "food", "services")),
    ("samr", "使用未经定期检验的特种设备", "当事人使用的电梯超过检验有效期仍继续使用",
     "《中华人民共和国特种设备安全法》第八十四条第一项", ("manufacturing", "services", "construction")),
    ("samr", "经营不符合规定的医疗器械", "当事人经营未依法注册的第二类医疗器械",
     "《医疗器械监督管理条例》第八十六条第三项", ("drug",)),
    ("env", "超标排放大气污染物", "当事人废气排放口颗粒物浓度超过排放标准",
     "《中华人民共和国大气污染防治法》第九十九条第二项", ("manufacturing", "chemical", "environment")),
    ("env", "建设项目未依法报批环境影响评价文件擅自开工建设", "当事人建设项目未依法报批环境影响报告表即开工建设",
     "《中华人民共和国环境影响评价法》第三十一条第一款", ("manufacturing", "chemical", "construction")),
    ("env", "未按规定贮存危险废物", "当事人将危险废物露天堆放，未设置危险废物识别标志",
     "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款", ("manufacturing", "chemical")),
    ("safety", "未按规定对从业人员进行安全生产教育和培训", "当事人未如实记录安全生产教育和培训情况",
     "《中华人民共和国安全生产法》第九十七条第三项", ("manufacturing", "chemical", "construction")),
    ("safety", "未建立事故隐患排查治理制度", "当事人未建立事故隐患排查治理制度",
     "《中华人民共和国安全生产法》第一百零一条第五项", ("manufacturing", "chemical")),
    ("transport", "未取得道路运输经营许可擅自从事道路运输经营", "当事人未取得道路运输经营许可，擅自从事道路货物运输经营",
     "《中华人民共和国道路运输条例》第六十三条", ("transport",)),
    ("transport", "车辆超限运输", "当事人车辆违法超限运输", "《公路安全保护条例》第六十六条", ("transport",)),
    ("tax", "未按照规定期限办理纳税申报和报送纳税资料", "当事人未按照规定期限办理纳税申报",
     "《中华人民共和国税收征收管理法》第六十二条", ()),
    ("tax", "偷税", "当事人通过虚列成本方式少缴企业所得税", "《中华人民共和国税收征收管理法》第六十三条第一款", ()),
    ("health", "未取得公共场所卫生许可证擅自营业", "当事人未依法取得公共场所卫生许可证擅自营业",
     "《公共场所卫生管理条例实施细则》第三十五条第一款", ("services",)),
    ("urban", "擅自占用城市道路", "当事人未经批准擅自占用城市道路堆放物料",
     "《城市道路管理条例》第四十二条第二款", ("construction", "trade", "food")),
    ("housing", "未取得施工许可证擅自施工", "当事人未取得施工许可证擅自施工", "《建设工程质量管理条例》第五十七条",
     ("construction",)),
    ("fire", "消防设施、器材未保持完好有效", "当事人场所内消防设施、器材未保持完好有效",
     "《中华人民共和国消防法》第六十条第一款第一项", ()),
)
# (处罚类别, share)
PENALTY_TYPES = (
    ("罚款", 0.46), ("警告", 0.10), ("通报批评", 0.03), ("警告;罚款", 0.12), ("罚款;没收违法所得", 0.15),
    ("没收违法所得", 0.03), ("责令停产停业;罚款", 0.05), ("吊销许可证件", 0.02), ("罚款;吊销许可证件", 0.04),
)
# (许可证书名称, 行政许可决定文书名称, agency, 许可类别, 许可内容, number pattern, years valid, sectors)
LICENCES = (
    ("食品经营许可证", "食品经营许可决定书", "samr", "普通",
     "预包装食品（含冷藏冷冻食品）销售；散装食品（含冷藏冷冻食品）销售；热食类食品制售", "JY1{d}{n7}", 5, ("food",)),
    ("食品生产许可证", "准予食品生产许可决定书", "samr", "普通", "糕点；饮料；方便食品", "SC1{d}{n7}", 5, ("food",)),
    ("药品经营许可证", "准予行政许可决定书", "samr", "普通", "中成药、化学药制剂、抗生素制剂、生物制品",
     "{p}AA{n7}", 5, ("drug",)),
    ("医疗器械经营许可证", "准予行政许可决定书", "samr", "普通", "第三类医疗器械经营", "{p}{a}食药监械经营许{y}{n5}号",
     5, ("drug",)),
    ("建筑业企业资质证书", "准予行政许可决定书", "housing", "认可", "建筑工程施工总承包叁级；市政公用工程施工总承包叁级",
     "D3{d}{n5}", 5, ("construction",)),
    ("安全生产许可证", "准予行政许可决定书", "housing", "普通", "建筑施工", "（{p}）JZ安许证字[{y}]{n6}", 3,
     ("construction",)),
    ("道路运输经营许可证", "道路运输经营许可决定书", "transport", "普通", "道路普通货物运输",
     "{p}交运管许可{a}字{d}{n6}号", 6, ("transport",)),
    ("排污许可证", "准予行政许可决定书", "env", "普通", "大气污染物、水污染物排放", "{u}001P", 5,
     ("manufacturing", "chemical", "environment")),
    ("危险化学品经营许可证", "准予行政许可决定书", "safety", "普通", "不带储存经营：乙醇、甲醇、丙酮",
     "{p}{a}安经字〔{y}〕{n6}", 3, ("chemical",)),
    ("公共场所卫生许可证", "准予行政许可决定书", "health", "普通", "理发店、美容店", "{p}卫公证字[{y}]第{d}{n6}号", 4,
     ("services",)),
    ("人力资源服务许可证", "准予行政许可决定书", "hr", "普通", "职业中介活动；人力资源供求信息的收集和发布",
     "{d}{n6}", 5, ("services",)),
    ("出版物经营许可证", "准予行政许可决定书", "culture", "普通", "出版物零售", "新出发{a}零字第{d}{n5}号", 6,
     ("trade", "services")),
    ("农药经营许可证", "准予行政许可决定书", "samr", "普通", "农药（不含卫生用农药）经营", "农药经许（{p}）{d}{n6}", 5,
     ("agriculture",)),
    ("食品经营许可证", "食品经营许可决定书", "samr", "普通", "预包装食品（不含冷藏冷冻食品）销售", "JY1{d}{n7}", 5, ()),
)
INSPECTION_ITEMS = ("年度报告公示信息的检查", "登记事项检查", "食品经营许可检查", "产品质量监督抽查",
                    "特种设备安全监督检查", "广告发布情况检查", "价格行为检查", "即时信息公示情况检查")
# (检查结果, share)
INSPECTION_RESULTS = (
    ("未发现问题", 0.70), ("发现问题已责令改正", 0.12), ("未按规定公示应当公示的信息", 0.05),
    ("通过登记的住所（经营场所）无法联系", 0.06), ("公示信息隐瞒真实情况、弄虚作假", 0.01),
    ("已关闭停业或正在组织清算", 0.03), ("未发现开展本次抽查涉及的经营活动", 0.03),
)
ABNORMAL_REASONS = (
    "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的",
    "未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息的",
    "公示企业信息隐瞒真实情况、弄虚作假的",
    "通过登记的住所或者经营场所无法联系的",
)
ABNORMAL_REASON_VARIANTS = {0: "未按规定期限公示年度报告", 3: "通过登记的住所或者经营场所无法取得联系"}
ABNORMAL_REMOVALS = (
    ("列入经营异常名录3年内且依照《经营异常名录管理办法》第六条规定被列入经营异常名录的企业，"
     "可以在补报未报年份的年度报告并公示后，申请移出", "补报未报年份的年度报告并公示"),
    ("依照《企业信息公示暂行条例》第十条规定履行公示义务后，申请移出",),
    ("更正其公示的信息后，申请移出",),
    ("依法办理住所或者经营场所变更登记后，申请移出", "提出通过登记的住所或者经营场所可以重新取得联系，申请移出"),
)
AUTO_REMOVAL = "企业注销，自动移出"
SERIOUS_TRANSFER = "被列入经营异常名录届满3年仍未履行相关义务的"
SERIOUS_DOMAINS = ("食品安全", "药品", "医疗器械", "特种设备安全", "产品质量", "虚假注册登记", "破坏公平竞争秩序",
                   "侵害消费者权益")
SERIOUS_REMOVALS = ("列入严重违法失信名单届满三年，移出", "信用修复，提前移出")
COURT_BEHAVIOURS = (
    "有履行能力而拒不履行生效法律文书确定义务", "违反财产报告制度", "违反限制消费令",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
)
TAX_CASES = ("偷税", "逃避缴纳税款", "虚开增值税专用发票", "骗取出口退税", "逃避追缴欠税", "虚开普通发票")
TAX_REMOVALS = ("依法缴纳税款、滞纳金和罚款，经税务机关确认，停止公布并从公告栏中撤出", "公布期满，停止公布")
# (荣誉名称, agency, years valid)
COMMENDATIONS = (
    ("纳税信用A级纳税人", "tax", 1), ("守合同重信用企业", "samr", 2), ("海关高级认证企业", "customs", 3),
    ("劳动保障守法诚信示范单位", "hr", 3), ("诚信示范企业", "ndrc", 2),
)
