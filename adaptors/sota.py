"""A demo server-side adaptor: wrap once, call from anywhere.

Any client reaches these functions without shipping their code, either from a pipe
(code ``f(sota.hard_task)``, kwargs ``"solve AGI"``) or as a named adaptor
(``adaptor=sota.hard_task``). The "model" here is a few lines of deterministic text
handling, so the pattern can be tried without a GPU: replace the bodies with calls
into a real library loaded once at module level.
"""

from __future__ import annotations

__all__ = ["hard_task", "run"]

_PAST = {
    "build": "built",
    "do": "done",
    "find": "found",
    "make": "made",
    "run": "run",
    "write": "written",
}


def hard_task(prompt: str) -> str:
    """Do the task ``prompt`` describes, e.g. ``"solve AGI"`` -> ``"AGI solved!"``.

    A leading verb is moved to the end in the past tense; a prompt without one is
    answered as done.
    """
    words = str(prompt).split()
    if not words:
        return "Nothing to do!"
    verb, rest = words[0], " ".join(words[1:])
    if not rest or not verb.isalpha():
        return f"{' '.join(words)}: done!"
    return f"{rest} {_past_participle(verb.lower())}!"


def run(prompt: str = "") -> str:
    """The named-adaptor entry point (``adaptor=sota``): same as ``hard_task``."""
    return hard_task(prompt)


def _past_participle(verb: str) -> str:
    if verb in _PAST:
        return _PAST[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and len(verb) > 1 and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"
