"""Did the customer confirm that the bot's answer solved it? A small EN/ZH classifier.

The bot asks "did this solve it?" and the customer's next message decides:
a confirmation solves the ticket as self-service, anything else hands it to
a person. Wrongly solving costs a customer more than wrongly handing off,
so the rules lean to "not confirmed":

1. A long message (more than 12 words, or 40 CJK characters) is a new
   question or an explanation, never a bare confirmation.
2. Any negation or doubt ("not", "didn't", "still", "but", "没", "不",
   "还是", "仍然", "未") means not confirmed — except inside fixed positive
   phrases that contain one ("no problem", "没问题", "不错", "没事了").
3. Otherwise one positive marker confirms: "yes", "thanks", "solved",
   "fixed", "works", "perfect", "ok", "谢谢", "解决了", "好了", "可以了"…
"""

from __future__ import annotations

import re

POSITIVE_EN = frozenset({
    "yes", "yeah", "yep", "yup", "y", "ok", "okay", "thanks", "thank", "thx", "ty", "solved",
    "resolved", "fixed", "works", "worked", "working", "perfect", "great", "awesome",
    "excellent", "helpful", "helped", "sorted", "done", "cheers", "brilliant", "correct",
})
NEGATIVE_EN = frozenset({
    "no", "not", "nope", "nah", "didn't", "didnt", "doesn't", "doesnt", "don't", "dont",
    "isn't", "isnt", "wasn't", "wasnt", "won't", "wont", "can't", "cant", "cannot", "never",
    "still", "but", "however", "wrong", "unhelpful", "useless", "human", "agent", "person",
})
#: Positive phrases that contain a negative word; removed before the negation check.
POSITIVE_PHRASES_EN = ("no problem", "no problems", "no worries", "not anymore")
POSITIVE_ZH = ("谢谢", "多谢", "感谢", "解决了", "已解决", "好了", "可以了", "行了", "明白了",
               "懂了", "搞定", "没问题", "不错", "没事了", "是的", "对的", "好的", "有用", "有帮助")
NEGATIVE_ZH = ("没", "不", "还是", "仍然", "未", "但是", "可是", "人工", "客服")
POSITIVE_PHRASES_ZH = ("没问题", "不错", "没事了", "不客气")

_WORD = re.compile(r"[a-z']+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def is_confirmation(text: str) -> bool:
    """True when ``text`` confirms the bot's answer solved the problem."""
    lowered = text.strip().lower().replace("\u2019", "'")
    if not lowered:
        return False
    cjk = _CJK.findall(lowered)
    words = _WORD.findall(lowered)
    if len(words) > 12 or len(cjk) > 40:
        return False
    for phrase in POSITIVE_PHRASES_EN:
        lowered = lowered.replace(phrase, " yes ")
    zh = lowered
    for phrase in POSITIVE_PHRASES_ZH:
        zh = zh.replace(phrase, "好的")
    words = _WORD.findall(lowered)
    if any(w in NEGATIVE_EN for w in words) or any(n in zh for n in NEGATIVE_ZH):
        return False
    return any(w in POSITIVE_EN for w in words) or any(p in zh for p in POSITIVE_ZH)
