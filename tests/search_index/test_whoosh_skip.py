"""The skip lists behind Whoosh's posting lists (search_index.whoosh_skip) on a real index."""

from __future__ import annotations

import random
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.codec import whoosh3
from whoosh.fields import ID, KEYWORD, Schema

from search_index import whoosh_engine  # noqa: F401 - installs the skip lists
from search_index.whoosh_skip import SkippingLeafMatcher


def _index(path: Path, docs: int) -> whoosh_index.Index:
    path.mkdir()
    index = whoosh_index.create_in(str(path), Schema(id=ID(stored=True), tags=KEYWORD))
    writer = index.writer()
    for n in range(docs):
        tags = ["公司"] + (["华为"] if n % 97 == 5 else []) + (["小米"] if n % 13 == 0 else [])
        writer.add_document(id=str(n), tags=" ".join(tags))
    writer.commit()
    return index


def test_skip_to_lands_where_a_walk_would_across_many_blocks(tmp_path: Path) -> None:
    index = _index(tmp_path / "ix", 3000)  # 3,000 postings of 公司: 24 blocks of 128
    with index.reader() as reader:
        everyone = sorted(reader.postings("tags", "公司").all_ids())
        rng = random.Random(4)
        for _ in range(50):
            matcher = reader.postings("tags", "公司")
            assert isinstance(matcher, SkippingLeafMatcher)
            position = 0
            for target in sorted(rng.sample(range(3200), 8)):
                if not matcher.is_active():
                    break
                matcher.skip_to(target)
                expected = [d for d in everyone if d >= max(target, everyone[position])]
                assert matcher.is_active() == bool(expected)
                if expected:
                    assert matcher.id() == expected[0]
                    position = everyone.index(expected[0])


def test_intersections_match_whooshs_own_matcher(tmp_path: Path) -> None:
    index = _index(tmp_path / "ix", 3000)
    queries = [wq.And([wq.Term("tags", "公司"), wq.Term("tags", "华为")]),
               wq.And([wq.Term("tags", "小米"), wq.Term("tags", "华为"), wq.Term("tags", "公司")])]
    with index.searcher() as searcher:
        ours = [sorted(q.docs(searcher)) for q in queries]
    original, whoosh3.W3LeafMatcher = whoosh3.W3LeafMatcher, SkippingLeafMatcher.__bases__[0]
    try:
        with index.searcher() as searcher:
            theirs = [sorted(q.docs(searcher)) for q in queries]
    finally:
        whoosh3.W3LeafMatcher = original
    assert ours == theirs
    assert ours[0] == [n for n in range(3000) if n % 97 == 5]
    assert ours[1] == [n for n in range(3000) if n % 97 == 5 and n % 13 == 0]
