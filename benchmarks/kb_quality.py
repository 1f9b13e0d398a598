"""Knowledge search quality: labelled customer queries against the demo's 81 articles.

The queries are written in customer voice (typos, order numbers, chat
shorthand, Chinese colloquialisms), not copied from the articles. Each is
labelled with the article(s) that answer it. Prints JSON with hit@1, hit@3
and MRR per language, and the misses.

    .venv/bin/python benchmarks/kb_quality.py [--db URL] [--misses]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from agent_tui.domain.enums import Source
from agent_tui.domain.views_knowledge import ArticleCreate
from agent_tui.services import knowledge, knowledge_articles
from agent_tui.store import open_store
from agent_tui.store.events import Actor
from agent_tui.store.migrate import upgrade

DATA = Path(__file__).parents[1] / "agent_tui" / "services" / "demo" / "data"

# (query, acceptable external ids without the "kb-en-"/"kb-zh-" prefix)
EN: list[tuple[str, set[str]]] = [
    ("i want to cancel my order #12345", {"cancel-order"}),
    ("how do I cancel order 4471-22 I placed by mistake", {"cancel-order"}),
    ("cancelling an order i just made", {"cancel-order"}),
    ("i need a refund", {"request-refund", "refund-policy"}),
    ("refudn please, the product is useless", {"request-refund", "refund-policy", "returns"}),
    ("how long does it take to get my money back", {"refund-policy"}),
    ("when will i see the refund on my credit card", {"refund-policy"}),
    ("i was billed two times for the same purchase", {"duplicate-charge"}),
    ("you charged my card twice!!!", {"duplicate-charge"}),
    ("double charge on my statement order 88123", {"duplicate-charge"}),
    ("where can i get an invoice for my order", {"invoice-vat"}),
    ("need a vat receipt for my company", {"invoice-vat", "business-orders"}),
    ("cancelling subscription", {"plus-manage"}),
    ("how do i stop my aurora plus membership renewing", {"plus-manage"}),
    ("unsubscribe me from the plus plan", {"plus-manage"}),
    ("what's the difference between the plus plans", {"plus-plans"}),
    ("where is my order??", {"track-order", "delivery-delays"}),
    ("track my package", {"track-order"}),
    ("my parcel hasnt arrived yet its been a week", {"delivery-delays", "track-order"}),
    ("order still not delivered, running late", {"delivery-delays"}),
    ("the box came smashed and the camera is cracked", {"damaged-delivery"}),
    ("item arrived broken", {"damaged-delivery"}),
    ("you sent me the wrong thing, I ordered a doorbell", {"wrong-item"}),
    ("got an incorrect item in my package", {"wrong-item"}),
    ("can i change my shipping adress", {"change-address"}),
    ("i moved, need to update delivery address on order 5512", {"change-address"}),
    ("how do i send something back", {"returns", "return-label"}),
    ("i want to return my thermostat", {"returns", "return-label"}),
    ("need a return label printed", {"return-label"}),
    ("forgot my password", {"password-reset"}),
    ("cant login, forgot pasword", {"password-reset", "account-locked"}),
    ("how do i reset my pwd", {"password-reset"}),
    ("lost my phone and cant get the 2fa code", {"2fa-recovery"}),
    ("new phone, verification codes dont come anymore", {"2fa-recovery"}),
    ("my account got locked after too many attempts", {"account-locked"}),
    ("account blocked, i think someone hacked it", {"account-locked"}),
    ("how to change the email on my account", {"change-email"}),
    ("please close my account and delete everything", {"delete-account"}),
    ("i want to delete my profile", {"delete-account"}),
    ("send me a copy of all the data you have about me", {"personal-data-request"}),
    ("camera keeps going offline", {"camera-offline"}),
    ("my aurora cam says offline in the app", {"camera-offline"}),
    ("how do i connect the device to my wifi", {"wifi-setup"}),
    ("setup fails at the wi-fi step", {"wifi-setup"}),
    ("the doorbell rings on my phone but not the chime inside", {"doorbell-chime"}),
    ("not receiving any alerts on my phone", {"notifications"}),
    ("app keeps crashing when i open it", {"app-crash"}),
    ("thermostat ignores the schedule i set", {"thermostat-schedule"}),
    ("can't pair my sensor with the hub", {"hub-pairing"}),
    ("firmware update stuck at 40%", {"firmware-update"}),
    ("battery drains in 2 days", {"battery-life"}),
    ("recordings missing from video history", {"video-history"}),
    ("my device broke after 6 months, is it under warranty", {"warranty-claim",
                                                               "warranty-coverage"}),
    ("what does the warranty cover", {"warranty-coverage"}),
    ("does it work with alexa", {"compatibility"}),
    ("promo code not working at checkout", {"discount-codes"}),
    ("i found it cheaper somewhere else", {"price-match"}),
    ("we want to buy 200 units for our office", {"business-orders"}),
    ("i want to make a complaint about your service", {"feedback-complaints"}),
    ("let me talk to a manager", {"feedback-complaints"}),
    ("my payment keeps getting declined", {"payment-declined"}),
    ("card was rejected when paying", {"payment-declined"}),
    ("smart plug wont turn on", {"smart-plug-offline"}),
    ("set up the speaker mini as chime", {"speaker-mini-setup"}),
]

ZH: list[tuple[str, set[str]]] = [
    ("我想退款", {"request-refund", "refund-time"}),
    ("退款多久能到", {"refund-time"}),
    ("钱什么时候退回来", {"refund-time"}),
    ("怎么申请退款啊", {"request-refund"}),
    ("被扣了两次钱", {"duplicate-charge"}),
    ("怎么开发票", {"invoice"}),
    ("公司要开专票", {"vat-special-invoice"}),
    ("会员怎么取消自动续费", {"plus-manage"}),
    ("订单还没到", {"delivery-delay", "track-order"}),
    ("快递到哪了", {"track-order"}),
    ("物流一直不更新", {"delivery-delay"}),
    ("收到的东西坏了", {"damaged"}),
    ("包裹破了，里面东西碎了", {"damaged"}),
    ("发错货了", {"wrong-item"}),
    ("地址写错了想改", {"change-address"}),
    ("七天无理由退货吗", {"return-policy"}),
    ("怎么预约上门取件退货", {"return-pickup"}),
    ("密码忘了怎么办", {"password-reset"}),
    ("登陆不了，忘记密码", {"password-reset", "account-locked"}),
    ("手机号换了收不到验证码", {"lost-phone"}),
    ("账号被锁了", {"account-locked"}),
    ("换绑邮箱", {"change-email"}),
    ("注销账号", {"delete-account"}),
    ("摄像头离线了", {"camera-offline"}),
    ("设备连不上wifi", {"wifi-setup", "camera-offline"}),
    ("门铃响了家里不响", {"doorbell-chime"}),
    ("app老是闪退", {"app-crash"}),
    ("收不到通知", {"notifications"}),
    ("固件升级失败", {"firmware"}),
    ("电池太不耐用了", {"battery"}),
    ("回放看不了", {"video-history"}),
    ("坏了能保修吗", {"warranty-claim", "warranty-policy"}),
    ("优惠券用不了", {"coupon"}),
    ("买完就降价了能退差价吗", {"price-protect"}),
    ("我要投诉", {"complaint"}),
    ("付款失败", {"payment-failed"}),
    ("在京东买的怎么退", {"third-party-orders"}),
    ("怎么取消订单", {"cancel-order"}),
]


def load(url: str) -> dict[str, int]:
    store = open_store(url)
    upgrade(store)
    actor = Actor.system(Source.CLI)
    ids: dict[str, int] = {}
    with store.write() as s:
        existing = {r.title for r in knowledge_articles.list_articles(s, limit=10_000)}
        for name in ("kb_en.json", "kb_zh.json"):
            for a in json.loads((DATA / name).read_text(encoding="utf-8")):
                if a["title"] in existing:
                    continue
                view = knowledge_articles.add_article(s, actor, ArticleCreate(
                    title=a["title"], body=a["body"], tags=a["tags"], locale=a["locale"],
                    external_id=a["external_id"]))
                ids[a["external_id"]] = view.id
        for r in s.connection().exec_driver_sql(
                "SELECT external_id, id FROM knowledge_article").fetchall():
            if r[0]:
                ids[r[0]] = r[1]
    store.dispose()
    return ids


def evaluate(url: str, ids: dict[str, int], lang: str,
             cases: list[tuple[str, set[str]]]) -> dict[str, Any]:
    store = open_store(url)
    h1 = h3 = 0
    rr = 0.0
    misses = []
    with store.read() as s:
        for query, wanted in cases:
            want = {ids[f"kb-{lang}-{w}"] for w in wanted}
            got = [h.article_id for h in knowledge.search(s, query, k=10)]
            rank = next((i + 1 for i, a in enumerate(got) if a in want), None)
            h1 += rank == 1
            h3 += rank is not None and rank <= 3
            rr += 1.0 / rank if rank else 0.0
            if rank != 1:
                by_id = {v: k for k, v in ids.items()}
                misses.append({"query": query, "rank": rank,
                               "top": [by_id.get(a) for a in got[:3]]})
    store.dispose()
    n = len(cases)
    return {"queries": n, "hit@1": round(h1 / n, 3), "hit@3": round(h3 / n, 3),
            "mrr": round(rr / n, 3), "misses": misses}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", help="store URL (default: a fresh SQLite file)")
    ap.add_argument("--misses", action="store_true", help="list the queries not ranked first")
    args = ap.parse_args()
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='kb-quality-')) / 'kb.db'}"
    ids = load(url)
    out: dict[str, Any] = {}
    for lang, cases in (("en", EN), ("zh", ZH)):
        result = evaluate(url, ids, lang, cases)
        if not args.misses:
            result.pop("misses")
        out[lang] = result
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
