"""Streaming text to speech with espeak-ng: the bark adaptor's protocol, on any CPU.

``run(text=...)`` answers a ``text/event-stream``. The text is split into sentences
and each one is spoken by ``espeak-ng`` as soon as the previous one has been sent,
so a client can start playing the first sentence while the rest are generated::

    data: {"sentence": "<base64 WAV of this sentence>", "cumulative": "<base64 WAV so far>"}

    ...

    data: [DONE]

The WAVs are 16-bit mono PCM at espeak-ng's rate (22050 Hz); ``cumulative`` is the
PCM of every sentence so far, concatenated. Same kwargs as ``bark.py`` (``text``,
``speaker``, ``sentence_template``, ``split_type``; ``model_size`` is accepted and
ignored), so a client can switch between the two by changing the code it sends.

``speaker`` is an espeak-ng voice (``en``, ``en-us``, ``en+f3``, ``de``, ...;
``espeak-ng --voices`` lists them) or a bark speaker such as ``v2/en_speaker_6``,
mapped to language ``en`` and the sixth of espeak-ng's voice variants.

Sentences: ``nltk.sent_tokenize`` when NLTK's punkt data is installed. Debian packages
NLTK (python3-nltk) but not its data, and nothing is downloaded here, so without the
data the same Punkt algorithm runs with untrained parameters plus the common English
abbreviations below ("Mr.", "e.g.", ... do not end a sentence). Without NLTK at all, a
regular expression splits after ``.``, ``!``, ``?`` or ``...`` (optionally followed by
closing quotes or brackets) that are followed by white space.

Needs the ``espeak-ng`` program (Debian: ``apt-get install espeak-ng``).
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from typing import Literal

__all__ = ["run", "split_sentences", "synthesize", "wav_bytes", "voice_for", "check_voice"]

ESPEAK = "espeak-ng"

ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt vs etc e.g i.e cf al approx dept est fig inc ltd co corp "
    "jan feb mar apr jun jul aug sep sept oct nov dec no vol".split()
)
"""Lower-case, without the final dot: the Punkt fallback does not end a sentence after them."""

_REGEX_SPLIT = re.compile(r"(?<=[.!?])[\"')\]\u201d\u2019]*\s+")

_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3")
_BARK_LANGUAGES = {"zh": "cmn"}
_BARK_SPEAKER = re.compile(r"^v2/([a-z]{2})_speaker_(\d)$")
_VOICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+\-/.]*$")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (see the module docstring for how)."""
    text = text.strip()
    if not text:
        return []
    try:
        import nltk  # type: ignore[import-not-found]
    except ImportError:
        return _regex_sentences(text)
    try:
        return [s for s in nltk.sent_tokenize(text) if s.strip()]
    except LookupError:
        pass
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer  # type: ignore

    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return [s for s in PunktSentenceTokenizer(params).tokenize(text) if s.strip()]


def _regex_sentences(text: str) -> list[str]:
    parts = []
    start = 0
    for m in _REGEX_SPLIT.finditer(text):
        before = text[start:m.start()]
        word = before.rsplit(None, 1)[-1] if before.split() else ""
        if word.rstrip(".").lower() in ABBREVIATIONS:
            continue
        parts.append(text[start:m.end()].strip())
        start = m.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def voice_for(speaker: str) -> str:
    """The espeak-ng voice for ``speaker`` (an espeak-ng voice, or a bark speaker)."""
    m = _BARK_SPEAKER.match(speaker)
    if m:
        lang, n = m.groups()
        return f"{_BARK_LANGUAGES.get(lang, lang)}+{_VARIANTS[int(n)]}"
    if not _VOICE.match(speaker):
        raise ValueError(f"not an espeak-ng voice name: {speaker!r}")
    return speaker


def _espeak() -> str:
    path = shutil.which(ESPEAK) or shutil.which(ESPEAK, path="/usr/bin:/bin")
    if path is None:
        raise RuntimeError("espeak-ng is not installed on the server (apt-get install espeak-ng)")
    return path


def check_voice(voice: str) -> None:
    """Raise ValueError unless espeak-ng has ``voice`` (before the stream starts)."""
    proc = subprocess.run([_espeak(), "--stdin", "-q", "-v", voice], input=b"",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, check=False)
    if proc.returncode != 0:
        message = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
        raise ValueError(f"espeak-ng voice {voice!r}: {message}")


def synthesize(sentence: str, voice: str = "en", speed: int = 175, pitch: int = 50) -> tuple[int, bytes]:
    """Speak one sentence: ``(sample_rate, 16-bit mono PCM)``.

    The text goes to espeak-ng on stdin, never on its command line.
    """
    with tempfile.TemporaryDirectory(prefix="owt-speak-") as tmp:
        out = f"{tmp}/sentence.wav"
        proc = subprocess.run(
            [_espeak(), "--stdin", "-b", "1", "-v", voice, "-s", str(int(speed)),
             "-p", str(int(pitch)), "-w", out],
            input=sentence.encode("utf-8"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=120, check=False,
        )
        if proc.returncode != 0:
            message = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
            raise RuntimeError(f"espeak-ng -v {voice} failed ({proc.returncode}): {message}")
        with wave.open(out, "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2:
                raise RuntimeError(f"espeak-ng wrote an unexpected WAV: {w.getparams()}")
            return w.getframerate(), w.readframes(w.getnframes())


def wav_bytes(rate: int, pcm: bytes) -> bytes:
    """A complete WAV file (RIFF header and data) for 16-bit mono PCM."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


def _b64_wav(rate: int, pcm: bytes) -> str:
    return base64.b64encode(wav_bytes(rate, pcm)).decode("ascii")


def run(
    text: str = "",
    speaker: str = "en",
    sentence_template: str = "%s",
    split_type: Literal["sentence", "none"] = "sentence",
    model_size: Literal["small", "large"] = "small",
    speed: int = 175,
    pitch: int = 50,
):
    voice = voice_for(str(speaker))
    if split_type not in ("sentence", "none"):
        raise ValueError(f"split_type must be 'sentence' or 'none', not {split_type!r}")
    check_voice(voice)
    clean_text = str(text).replace("\n", " ").strip()
    sentences = split_sentences(clean_text) if split_type == "sentence" else [clean_text]
    sentences = [s for s in sentences if s]

    def generate() -> Iterator[str]:
        full_pcm = b""
        rate = 22050
        for raw_sentence in sentences:
            sentence = sentence_template % raw_sentence
            rate, pcm = synthesize(sentence, voice, speed, pitch)
            full_pcm += pcm
            yield "data: %s\n\n" % json.dumps(
                {"sentence": _b64_wav(rate, pcm), "cumulative": _b64_wav(rate, full_pcm)}
            )
        yield "data: [DONE]\n\n"

    return generate(), {"Content-Type": "text/event-stream"}
