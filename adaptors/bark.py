"""Streaming text to speech with Suno's bark (https://github.com/suno-ai/bark): the seed's adaptor.

Needs a machine with bark, nltk (and its punkt data), numpy and scipy installed, ideally
with a GPU: the models are loaded once per worker (``preload_models()``) and stay warm.
Each event carries the sentence just generated and everything so far, as base64 WAVs::

    data: {"sentence": "<base64 WAV>", "cumulative": "<base64 WAV>"}

and the stream ends with ``data: [DONE]``. ``speak.py`` speaks the same protocol with
espeak-ng, for machines without bark.
"""

# adaptors/bark.py (the seed's lib/bark.py)
import contextlib
import importlib.machinery
import importlib.util
import sys
from typing import Literal


@contextlib.contextmanager
def _bark_library():
    """Make ``import bark`` mean the bark library while the block runs.

    This file is ``bark.py`` in an adaptor directory, which owt puts on ``sys.path``:
    a plain ``from bark.generation import ...`` would find this module, not the
    library. The library is looked up in the other ``sys.path`` entries, bound to
    ``bark`` for the imports, and the adaptor module put back afterwards (so
    ``adaptor=bark`` still names this adaptor); ``bark.generation`` and the rest of
    the library stay imported.
    """
    current = sys.modules.get("bark")
    if current is not None and hasattr(current, "__path__"):
        yield  # the library (or a stand-in package) is already there
        return
    library = _BARK_LIBRARY[0] if _BARK_LIBRARY else None
    if library is None:
        for entry in sys.path:
            spec = importlib.machinery.PathFinder.find_spec("bark", [entry or "."])
            if spec is not None and spec.loader is not None and spec.submodule_search_locations:
                break
        else:
            raise ModuleNotFoundError(
                "No module named 'bark': the bark library (github.com/suno-ai/bark) "
                "is not installed on this server", name="bark")
        library = importlib.util.module_from_spec(spec)
    sys.modules["bark"] = library
    try:
        if not _BARK_LIBRARY:
            spec.loader.exec_module(library)
            _BARK_LIBRARY.append(library)
        yield
    finally:
        if current is None:
            sys.modules.pop("bark", None)
        else:
            sys.modules["bark"] = current


_BARK_LIBRARY = []


def run(
    text: str = "",
    speaker: str = "v2/en_speaker_6",
    sentence_template: str = "%s",
    split_type: Literal["sentence", "none"] = "sentence",
    model_size: Literal["small", "large"] = "small",
):
    import os
    import logging
    import json
    import io
    import nltk  # type: ignore
    import numpy as np
    import base64
    from scipy.io.wavfile import write as write_wav  # type: ignore

    os.environ["CUDA_VISIBLE_DEVICES"] = "0"
    os.environ["SUNO_OFFLOAD_CPU"] = "0"
    match model_size:
        case "small":
            os.environ["SUNO_USE_SMALL_MODELS"] = "1"
        case "large":
            os.environ["SUNO_USE_SMALL_MODELS"] = "0"

    with _bark_library():
        from bark.generation import generate_text_semantic, preload_models, SAMPLE_RATE  # type: ignore
        from bark.api import semantic_to_waveform  # type: ignore

    preload_models()

    def base64_wav(arr):
        buf = io.BytesIO()
        write_wav(buf, SAMPLE_RATE, arr)
        wav = buf.getvalue()
        return base64.b64encode(wav).decode("utf-8")

    def generate():
        clean_text = text.replace("\n", " ").strip()
        match split_type:
            case "sentence":
                sentences = nltk.sent_tokenize(clean_text)
            case "none":
                sentences = [clean_text]
        full_wav_array: np.ndarray | None = None
        for i, raw_sentence in enumerate(sentences):
            sentence = sentence_template % raw_sentence
            logging.info(
                "Generating sentence %d/%d: %s", i + 1, len(sentences), sentence
            )
            semantic_tokens: np.ndarray = generate_text_semantic(
                sentence,
                history_prompt=speaker,
                temp=0.6,
                min_eos_p=0.05,
            )
            wav_array: np.ndarray = semantic_to_waveform(
                semantic_tokens, history_prompt=speaker
            )
            full_wav_array = (
                wav_array
                if full_wav_array is None
                else np.concatenate((full_wav_array, wav_array))
            )

            yield "data: %s\n\n" % (
                json.dumps(
                    {
                        "sentence": base64_wav(wav_array),
                        "cumulative": base64_wav(full_wav_array),
                    }
                )
            )
        yield "data: [DONE]\n\n"

    return generate(), {"Content-Type": "text/event-stream"}
