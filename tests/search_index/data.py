"""A small store of entities whose names exercise scripts, widths, pinyin and syntax characters."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from sqlalchemy.orm import Session

from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.identifiers import generate_reg_no
from tests.factories import REGISTRY, REGISTRY_RANK, T0, new_uscc


@dataclass(frozen=True)
class Known:
    """One entity of the set: its id and identifiers."""

    id: int
    uscc: str | None
    reg_no: str | None
    name: str


# seed → (division, attributes); names as regulators write them.
ENTITIES: dict[int, tuple[str, dict[str, str]]] = {
    1: ("440300", {"name": "深圳市华为技术有限公司", "status": "存续", "legal_rep": "任正非",
                   "address": "深圳市龙岗区坂田华为基地", "industry": "软件和信息技术服务业"}),
    2: ("440300", {"name": "華為終端（深圳）有限公司", "status": "存续", "industry": "制造业"}),
    3: ("440300", {"name": "华为", "status": "注销"}),
    4: ("441300", {"name": "ＴＣＬ科技集团股份有限公司", "status": "在业", "industry": "制造业"}),
    5: ("500000", {"name": "重庆银行股份有限公司", "status": "存续", "industry": "金融业"}),
    6: ("110108", {"name": "北京字节跳动科技有限公司", "status": "存续",
                   "former_names": json.dumps(["北京字节跳动网络技术有限公司"], ensure_ascii=False)}),
    7: ("310115", {"name": "上海华为技术有限公司", "status": "吊销"}),
    8: ("440300", {"name": "引号\"测试\"商贸有限公司", "status": "存续"}),
    9: ("440300", {"name": "星号*问号?(AND)贸易有限公司", "status": "存续"}),
}
OLD_ENTITY_NAME = "深圳市老字号酒家"  # registered before the USCC: only a registration number


def build(session: Session) -> dict[int, Known]:
    """Create the set (plus one entity known only by registration number); commits."""
    known: dict[int, Known] = {}
    for seed, (division, attributes) in ENTITIES.items():
        uscc = new_uscc(seed, division)
        entity_id = ensure_entities(session, [EntityIds(uscc=uscc)])[0].entity_id
        assert entity_id is not None
        claim(session, entity_id, **attributes)
        known[seed] = Known(entity_id, uscc, None, attributes["name"])
    reg_no = generate_reg_no(random.Random(99), "440300")
    entity_id = ensure_entities(session, [EntityIds(reg_no=reg_no)])[0].entity_id
    assert entity_id is not None
    claim(session, entity_id, name=OLD_ENTITY_NAME, status="注销")
    known[0] = Known(entity_id, None, reg_no, OLD_ENTITY_NAME)
    session.commit()
    return known


def claim(session: Session, entity_id: int, _seen: int = 0, **attributes: str) -> None:
    """The registry claims these attribute values (``_seen`` seconds after T0: newer wins)."""
    from datetime import timedelta

    at = T0 + timedelta(seconds=_seen)
    apply_claims(session, [ClaimIn(entity_id, f, v, REGISTRY, REGISTRY_RANK, at) for f, v in attributes.items()])
