"""Demo customers: profiles, identities across channels, orders.

A customer's profile is a pure function of ``(seed, index)`` (a 64-bit hash,
no generator state), so the ticket generator can recompute the name,
language, tier and orders of any customer it writes to without holding
hundreds of thousands of customers in memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import NamedTuple

from agent_tui.services.demo.content import Content
from agent_tui.services.demo.plan import CUSTOMER_BATCH, DAY_US, DemoPlan, mix64
from agent_tui.store.bulk import Batch

ZH_SHARE = 40  # percent of customers who write in Chinese
UK_CITIES = frozenset({"London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Edinburgh",
                       "Bristol", "Cardiff", "Belfast", "Dublin", "Cork"})
ZH_MAIL = frozenset({"qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "aliyun.com",
                     "139.com"})
EN_STREETS = ("High Street", "Station Road", "Church Lane", "Park Avenue", "Victoria Road",
              "Mill Lane", "Oak Street", "Maple Drive", "King Street", "Queen's Road")
ZH_ROADS = ("中山", "人民", "解放", "建设", "和平", "长江", "新华", "文化")
ZH_DISTRICTS = ("朝阳", "海淀", "浦东", "天河", "南山", "西湖", "武侯", "鼓楼")
# What became of orders older than a week.
ORDER_STATUSES = (("delivered", 80), ("refunded", 9), ("cancelled", 6), ("returned", 5))
# Catalogue prices in minor units: GBP, USD, CNY.
PRICES = {
    "Aurora Cam 2": (8999, 9999, 69900), "Aurora Doorbell Pro": (17999, 19999, 129900),
    "Aurora Smart Plug": (2499, 2999, 14900), "Aurora Smart Bulb": (1499, 1799, 9900),
    "Aurora Thermostat": (14999, 16999, 99900), "Aurora Hub": (6999, 7999, 49900),
    "Aurora Speaker Mini": (4999, 5999, 29900),
}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


def _js(value: str) -> str:
    return encode_basestring(value)  # type: ignore[no-any-return]


def _js_opt(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)  # type: ignore[no-any-return]


def _pick(values: tuple[str, ...], h: int) -> str:
    return values[h % len(values)]


def price(product: str, currency: str) -> int:
    gbp, usd, cny = PRICES.get(product) or (5999, 6999, 39900)
    return gbp if currency == "GBP" else usd if currency == "USD" else cny


class Order(NamedTuple):
    number: str
    product: str
    items: tuple[str, ...]
    amount_cents: int
    currency: str
    status: str
    created_us: int


class Brief(NamedTuple):
    """What a ticket needs to know about its customer (cheap to compute)."""

    idx: int  # 0-based position among the demo's customers
    locale: str
    name: str
    greeting_name: str  # what an agent calls them: first name, or the full Chinese name
    tier: str
    city: str
    currency: str
    organization: tuple[int, str, str | None] | None
    created_us: int
    hash: int
    order_count: int
    order_start_us: int  # orders k = 0, 1, … fall in consecutive slots from here
    order_slot_us: int


class Profile(NamedTuple):
    """Everything the demo knows about a customer."""

    brief: Brief
    email: str
    phone: str | None


def brief(plan: DemoPlan, content: Content, index: int) -> Brief:
    """Customer ``index`` (0-based), the same every time for the same seed."""
    h = mix64(plan.seed * 0x1F1F1F1F + index)
    h2 = mix64(h)
    names = content.names
    zh = h % 100 < ZH_SHARE
    h >>= 7
    tier_roll = h % 100
    tier = "vip" if tier_roll < 5 else "gold" if tier_roll < 18 else "standard"
    h >>= 7
    org = None
    orgs = plan.organizations.get("zh" if zh else "en") or ()
    if orgs and h % 100 < 15:
        org = orgs[(h >> 7) % len(orgs)]
    h >>= 14
    if zh:
        surname, given = _pick(names.zh_surname, h), _pick(names.zh_given, h >> 8)
        name = greeting = surname + given
        city = _pick(names.cities_zh, h >> 16)
        currency = "CNY"
    else:
        first, last = _pick(names.en_first, h), _pick(names.en_last, h >> 8)
        name, greeting = f"{first} {last}", first
        city = _pick(names.cities_en, h >> 16)
        currency = "GBP" if city in UK_CITIES else "USD"
    # Customers joined one after another over the two years before the window.
    span = 2 * 365 * DAY_US
    slot = span // max(1, plan.customers)
    created = plan.window_start_us - span + index * slot + (h2 >> 20) % max(1, slot)
    orders = 1 + h2 % 4
    order_start = max(created, plan.window_start_us - 180 * DAY_US)
    order_slot = max(1, (plan.now_us - DAY_US - order_start) // orders)
    return Brief(index, "zh" if zh else "en", name, greeting, tier, city, currency, org, created,
                 h2, orders, order_start, order_slot)


def profile(plan: DemoPlan, content: Content, index: int) -> Profile:
    """The full customer: the brief plus contact details."""
    b = brief(plan, content, index)
    h = b.hash >> 24
    names = content.names
    if b.locale == "zh":
        domains = tuple(d for d in names.email_domains if d in ZH_MAIL) or names.email_domains
        # An affine map mod 9·10^8 is a bijection: QQ-style numbers never collide.
        local = str(100_000_000 + (index * 7919 + 12_345) % 900_000_000)
        phone = f"+861{3 + (b.hash % 7)}{index:09d}"
    else:
        domains = tuple(d for d in names.email_domains if d not in ZH_MAIL) or names.email_domains
        local = f"{b.name.replace(' ', '.')}{index}".lower().replace("'", "")
        phone = f"+447{index:09d}" if b.currency == "GBP" else f"+1555{index:07d}"
    org = b.organization
    domain = org[2] if org and org[2] else _pick(domains, h)
    has_phone = (b.hash >> 12) % 100 < 75
    return Profile(b, f"{local}@{domain}", phone if has_phone else None)


def order(plan: DemoPlan, content: Content, b: Brief, k: int) -> Order:
    """Order ``k`` of a customer; a pure function too, for ticket placeholders."""
    h = mix64(b.hash + 0x51ED * (k + 1))
    products = content.products
    main = products[h % len(products)]
    items: tuple[str, ...] = (main,)
    if (h >> 8) % 3 == 0:
        items = (main, products[(h >> 12) % len(products)])
    amount = sum(price(p, b.currency) for p in items)
    created = b.order_start_us + k * b.order_slot_us + (h >> 8) % b.order_slot_us
    age = plan.now_us - created
    status = "processing" if age < 2 * DAY_US else "shipped" if age < 6 * DAY_US else "delivered"
    if status == "delivered":
        roll = (h >> 20) % 100
        for name, weight in ORDER_STATUSES:
            if roll < weight:
                status = name
                break
            roll -= weight
    # Sequential numbers (unique: at most five orders per customer) keep the unique
    # index on order numbers append-only during a bulk load.
    return Order(f"AU-{10_000_000 + b.idx * 5 + k}", main, items, amount, b.currency, status,
                 created)


def order_before(plan: DemoPlan, content: Content, b: Brief, moment_us: int) -> Order:
    """The customer's latest order placed before ``moment_us`` (else their first)."""
    k = min(b.order_count - 1, max(0, (moment_us - b.order_start_us) // b.order_slot_us))
    found = order(plan, content, b, k)
    if found.created_us >= moment_us and k > 0:
        found = order(plan, content, b, k - 1)
    return found


def money(cents: int, currency: str) -> str:
    """How the topic texts expect {amount}: with a symbol in English, bare for ¥."""
    value = f"{cents // 100}.{cents % 100:02d}"
    if currency == "CNY":
        return value
    return ("£" if currency == "GBP" else "$") + value


def day_text(epoch_us: int, locale: str) -> str:
    """A day as the texts write it: "12 March" or "3月12日"."""
    return _day_text(epoch_us // DAY_US, locale)


@cache
def _day_text(day: int, locale: str) -> str:
    moment = datetime.fromtimestamp(day * 86_400, UTC)
    if locale == "zh":
        return f"{moment.month}月{moment.day}日"
    return f"{moment.day} {MONTHS_EN[moment.month - 1]}"


def _identities(p: Profile) -> list[tuple[str, str]]:
    """(channel, address) pairs: e-mail always, the rest by chance."""
    cust = p.brief
    out = [("email", p.email)]
    h = cust.hash >> 10
    if p.phone:
        out.append(("phone", p.phone))
    if h % 100 < 40:
        out.append(("app", f"app-user-{cust.idx + 100_000:07d}"))
    if (h >> 7) % 100 < 35:
        # An odd multiplier is a bijection mod 2**40: visitor ids never collide.
        out.append(("chat", f"visitor-{cust.idx * 2_654_435_761 % 16**10:010x}"))
    if (h >> 14) % 100 < 30:
        if cust.locale == "zh":
            network = ("weibo", "wechat")[(h >> 21) % 2]
            out.append(("social", f"{network}:{cust.name}{cust.idx}"))
        else:
            network = ("twitter", "instagram")[(h >> 21) % 2]
            handle = p.email.split("@")[0].replace(".", "_")
            out.append(("social", f"{network}:@{handle}"))
    return out


def _address(cust: Brief) -> str:
    h = cust.hash >> 30
    if cust.locale == "zh":
        return (f"{cust.city}市{ZH_DISTRICTS[h % len(ZH_DISTRICTS)]}区"
                f"{ZH_ROADS[(h >> 4) % len(ZH_ROADS)]}路{1 + (h >> 8) % 300}号")
    return f"{1 + h % 240} {EN_STREETS[(h >> 8) % len(EN_STREETS)]}, {cust.city}"


def customer_batch(plan: DemoPlan, content: Content, number: int) -> Batch:
    """Customers of batch ``number`` with identities, orders and events (local ids)."""
    batch = Batch()
    customers, idents = batch.table("customer"), batch.table("identity")
    orders, events = batch.table("customer_order"), batch.table("event")
    start = number * CUSTOMER_BATCH
    for index in range(start, min(plan.customers, start + CUSTOMER_BATCH)):
        p = profile(plan, content, index)
        cust = p.brief
        local = index - start
        at = cust.created_us
        org_id = cust.organization[0] if cust.organization else None
        customers.append((local, cust.name, p.email, p.phone, cust.tier, cust.locale,
                          _address(cust), f"demo-{index + 1:07d}", org_id, at, at))
        for channel, address in _identities(p):
            idents.append((local, channel, address, channel in ("email", "phone"), at))
        for k in range(cust.order_count):
            o = order(plan, content, cust, k)
            updated = min(plan.now_us, o.created_us + 3 * DAY_US)
            items = "[" + ", ".join(_js(i) for i in o.items) + "]"
            orders.append((local, o.number, o.number, o.status, o.amount_cents, o.currency,
                           items, o.created_us, updated))
        # The same JSON dump_diff() writes (sorted keys), without its per-call cost.
        events.append((at, "customer.created", "customer", local,
                       f'{{"after": {{"email": {_js(p.email)}, "language": "{cust.locale}", '
                       f'"name": {_js(cust.name)}, "phone": {_js_opt(p.phone)}, '
                       f'"tier": "{cust.tier}"}}}}'))
    return batch
