"""The unified social credit code (统一社会信用代码), GB 32100-2015. Pure Python, no Django.

Eighteen characters from the code's alphabet (digits and the capital letters without I, O, Z, S and V):
position 1 the registration authority, 2 the kind of body, 3–8 the administrative division code, 9–17 the
organization code, 18 the check character. The check character is computed over the first seventeen:
with each character's value ``v_i`` (its index in the alphabet) and the weight ``w_i = 3^(i-1) mod 31``,
``check = 31 - (Σ v_i·w_i mod 31)``, where 31 becomes 0.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(
    pow(3, i, 31) for i in range(17)
)  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
LENGTH = 18


def check_character(first17: str) -> str:
    """The check character of the first seventeen characters (which must be of the alphabet)."""
    if len(first17) != LENGTH - 1:
        raise ValueError("a credit code's check is computed over exactly 17 characters")
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize(value: str) -> str:
    """Trimmed and upper-cased (codes are written in capitals; people type them in any case)."""
    return value.strip().upper()


def problem(value: str) -> tuple[str, dict[str, object]] | None:
    """Why ``value`` (normalized) is not a valid credit code: ``(kind, details)``, or ``None`` when it is.

    Kinds: ``length`` (``{"length": n}``), ``character`` (``{"position": p, "char": c}``), ``check``
    (``{"expected": c, "given": c}``). The caller words the message.
    """
    if len(value) != LENGTH:
        return "length", {"length": len(value)}
    for i, c in enumerate(value, start=1):
        if c not in VALUES:
            return "character", {"position": i, "char": c}
    expected = check_character(value[:17])
    if value[17] != expected:
        return "check", {"expected": expected, "given": value[17]}
    return None


def is_valid(value: str) -> bool:
    return problem(normalize(value)) is None
