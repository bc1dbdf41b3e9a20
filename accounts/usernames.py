"""Usernames that cannot pass for one another.

A name is compared through its `skeleton`: Unicode compatibility forms folded (NFKC, as
Django stores usernames), case folded, and every character replaced by one representative of
the characters it can be mistaken for, from the confusables table of Unicode's TR39 as the
confusable-homoglyphs package ships it. So "alice", "ALICE", "aIice" (capital i), "а1ice"
(Cyrillic а, digit one) share a skeleton. Sign-up refuses a name whose skeleton is another
user's, and a name that mixes scripts with a letter that imitates another script's
("pаypal" with a Cyrillic а); scripts written together (Japanese kanji and kana, Korean
hangul and hanja) count as one. Multi-letter look-alikes ("rn" for "m") are not folded.
"""

import functools
import unicodedata

from confusable_homoglyphs import categories, confusables

_MARKS = "\u200e\u200f"  # the table wraps right-to-left characters in direction marks


@functools.cache
def _representatives() -> dict[str, str]:
    """Character -> the plainest character it passes for: one ASCII character per group of
    ASCII look-alikes, and for any other character the choice of its ASCII look-alike. Not
    closed over chains through other scripts, which end up joining letters nobody confuses."""
    ascii_alikes: dict[str, set] = {}
    for char, homoglyphs in confusables.confusables_data.items():
        if len(char) != 1:
            continue
        for homoglyph in homoglyphs:
            other = homoglyph["c"].strip(_MARKS)
            if len(other) == 1 and other.isascii() and other != char:
                ascii_alikes.setdefault(char, set()).add(other)
    # Among ASCII the look-alikes form a few small groups (l 1 I |, O 0...): one choice per group.
    group = {}
    for char, alikes in ascii_alikes.items():
        if char.isascii():
            members = {char, *alikes}
            for member in list(members):
                members |= group.get(member, set())
            for member in members:
                group[member] = members
    representative = {char: min(members) for char, members in group.items()}
    for char, alikes in ascii_alikes.items():  # "а" (Cyrillic) -> "a" -> the choice for "a"
        if not char.isascii():
            chosen = min(alikes)
            representative[char] = representative.get(chosen, chosen)
    return representative


def skeleton(name: str) -> str:
    """The one spelling shared by `name`'s look-alikes: mapped before case folding (a capital I
    passes for an l) and after it. Case alone is compared apart (`username__iexact`)."""
    representative = _representatives()

    def plain(text):
        return "".join(representative.get(char, char) for char in text)

    return plain(plain(unicodedata.normalize("NFKC", name)).casefold())


# Scripts that are written together: a Japanese name mixes Han, Hiragana and Katakana, a
# Korean one may hold Han among Hangul (Unicode TR39's "highly restrictive" combinations).
_WRITTEN_TOGETHER = {"HAN": "CJK", "HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK", "BOPOMOFO": "CJK"}
_CJK = [alias.lower() for alias in _WRITTEN_TOGETHER]


def _script(char):
    alias = categories.alias(char)
    return _WRITTEN_TOGETHER.get(alias, alias)


def mixes_look_alike_scripts(name: str) -> bool:
    """Letters of several scripts (those written together count as one), one of which can be
    mistaken for a letter of another script in the name: "pаypal" with a Cyrillic а."""
    scripts = {_script(char) for char in name} - {"COMMON", "INHERITED"}
    if len(scripts) <= 1:
        return False
    for char in name:
        own = _script(char)
        if own in ("COMMON", "INHERITED"):
            continue
        others = [s.lower() for s in scripts if s not in (own, "CJK")] + (_CJK if "CJK" in scripts - {own} else [])
        if confusables.is_confusable(char, preferred_aliases=others):
            return True
    return False
