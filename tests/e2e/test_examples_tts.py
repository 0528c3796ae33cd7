"""examples/tts: the speech adaptors and speak.sh.

- ``adaptors/speak.py`` (espeak-ng) through a real server: one event per sentence, each a
  real WAV (RIFF header, PCM, duration > 0) with ``cumulative`` the PCM so far, then
  ``[DONE]``; ``examples/tts/speak.sh`` saves the sentences; with ``use_cache`` the same
  request again is a cache hit with the same events.
- ``adaptors/bark.py`` (the seed's, for machines with bark) with bark itself replaced by
  fake ``bark.generation`` / ``bark.api`` modules: its event framing, in-process and
  through ``owt-fcgi --cgi``. numpy, scipy and nltk are the real ones; NLTK's punkt data
  (not packaged by Debian) is generated into a temporary directory.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import types
import wave
from pathlib import Path
from typing import Any

import pytest

import owt_e2e
from owt_e2e import SRCDIR, OwtServer, Req, b64, get, http_send, post_json, run_cgi

SPEAK = SRCDIR / "adaptors" / "speak.py"
BARK = SRCDIR / "adaptors" / "bark.py"
SPEAK_SH = SRCDIR / "examples" / "tts" / "speak.sh"
BARK_SH = SRCDIR / "examples" / "tts" / "bark.sh"

TEXT = "Ey up! This is owt speaking. It says each sentence as soon as it is ready."
SENTENCES = ["Ey up!", "This is owt speaking.", "It says each sentence as soon as it is ready."]


# ---- helpers ---------------------------------------------------------------------------


def parse_events(body: bytes) -> list[str]:
    """The ``data:`` payloads of an event stream, in order; any other field fails."""
    text = body.decode("utf-8")
    assert text.endswith("\n\n"), text[-200:]
    out = []
    for frame in text[:-2].split("\n\n"):
        assert frame.startswith("data: ") and "\n" not in frame, frame[:200]
        out.append(frame[len("data: "):])
    return out


def read_wav(data: bytes) -> tuple[int, int, int, bytes]:
    """``(channels, sample width, rate, frames)`` of a PCM WAV, checking its RIFF header."""
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt ", data[:16]
    assert int.from_bytes(data[4:8], "little") == len(data) - 8, "RIFF size"
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.readframes(w.getnframes())


def check_speech_events(events: list[str], n_sentences: int) -> list[float]:
    """Events of the speech protocol: n sentence events then ``[DONE]``; the durations."""
    assert len(events) == n_sentences + 1, [e[:80] for e in events]
    assert events[-1] == "[DONE]"
    assert "[DONE]" not in events[:-1]
    so_far = b""
    durations = []
    rate0 = None
    for i, event in enumerate(events[:-1]):
        obj = json.loads(event)
        assert set(obj) == {"sentence", "cumulative"}, obj.keys()
        channels, width, rate, pcm = read_wav(base64.b64decode(obj["sentence"], validate=True))
        assert (channels, width) == (1, 2) and rate > 0
        rate0 = rate0 or rate
        assert rate == rate0
        duration = len(pcm) / (2 * rate)
        assert duration > 0.2, f"sentence {i}: {duration} s"
        # espeak-ng's speech is not silence
        assert max(abs(int.from_bytes(pcm[j:j + 2], "little", signed=True))
                   for j in range(0, len(pcm), 2)) > 1000
        so_far += pcm
        c_channels, c_width, c_rate, c_pcm = read_wav(base64.b64decode(obj["cumulative"], validate=True))
        assert (c_channels, c_width, c_rate) == (1, 2, rate)
        assert c_pcm == so_far, f"event {i}: cumulative is not the PCM so far"
        durations.append(duration)
    return durations


def speak_req(text: str = TEXT, path: str = "/speak.wav", **kwargs: Any) -> Req:
    return get(path, code_b64=b64(SPEAK.read_bytes()),
               kwargs_b64=b64(json.dumps({"text": text, **kwargs})))


@pytest.fixture(scope="module")
def espeak() -> None:
    owt_e2e.require_tools("espeak-ng")


def load_module(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- speak.py through the server ---------------------------------------------------------


def test_speak_streams_one_wav_per_sentence(server: OwtServer, espeak: None) -> None:
    resp = http_send(server, speak_req(), timeout=60)
    assert resp.status == 200, resp.describe()
    assert resp.content_type == "text/event-stream"
    assert resp.headers.get("Cache-Control") == "no-cache"
    durations = check_speech_events(parse_events(resp.body), len(SENTENCES))
    assert durations[2] > durations[0], durations  # the long sentence takes longer to say


def test_speak_split_none_and_template(server: OwtServer, espeak: None) -> None:
    resp = http_send(server, speak_req(split_type="none"), timeout=60)
    assert resp.status == 200, resp.describe()
    [whole] = check_speech_events(parse_events(resp.body), 1)
    resp = http_send(server, speak_req("One. Two.", sentence_template="Sentence %s"), timeout=60)
    short = check_speech_events(parse_events(resp.body), 2)
    assert all(d < whole for d in short)


def test_speak_bark_speaker_names_and_voices(server: OwtServer, espeak: None) -> None:
    for speaker in ("v2/en_speaker_6", "en-us", "en+f3"):
        resp = http_send(server, speak_req("Hello there.", speaker=speaker), timeout=60)
        assert resp.status == 200, resp.describe()
        check_speech_events(parse_events(resp.body), 1)


def test_speak_empty_text_is_just_done(server: OwtServer, espeak: None) -> None:
    resp = http_send(server, speak_req("   "), timeout=60)
    assert resp.status == 200 and parse_events(resp.body) == ["[DONE]"], resp.describe()


def test_speak_unknown_voice_is_an_adaptor_error(server: OwtServer, espeak: None) -> None:
    resp = http_send(server, speak_req("Hello.", speaker="zz-no-such-voice"), timeout=60)
    assert resp.status == 500, resp.describe()
    assert resp.text.startswith("Error executing code: ValueError: espeak-ng voice 'zz-no-such-voice'")
    assert "does not exist" in resp.text
    resp = http_send(server, speak_req("Hello.", speaker="en; rm -rf /"), timeout=60)
    assert resp.status == 500 and "not an espeak-ng voice name" in resp.text, resp.describe()


def test_speak_sh_saves_sentences_and_repeat_is_a_cache_hit(
        fresh_server: Any, tmp_path: Path, espeak: None) -> None:
    owt_e2e.require_tools("curl", "jo", "jq")
    srv = fresh_server(("-vv", "--cache-dir", str(tmp_path / "cache")))
    env = dict(os.environ, PATH=owt_e2e._tool_path())
    runs = []
    for attempt in ("first", "second"):
        out = tmp_path / attempt
        done = subprocess.run([str(SPEAK_SH), f"{srv.url}/file.wav", TEXT, str(out)], cwd="/",
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        names = [f"sentence{i}.wav" for i in range(len(SENTENCES))]
        assert done.stdout.split() == [str(out / n) for n in names], done.stdout
        assert sorted(p.name for p in out.iterdir()) == sorted(names + ["cumulative.wav"])
        runs.append((done, out))
    assert "X-Owt-Cache: miss" in runs[0][0].stderr, runs[0][0].stderr
    assert "X-Owt-Cache: hit" in runs[1][0].stderr, runs[1][0].stderr
    first, second = runs[0][1], runs[1][1]
    so_far = b""
    for i in range(len(SENTENCES)):
        data = (first / f"sentence{i}.wav").read_bytes()
        assert data == (second / f"sentence{i}.wav").read_bytes()
        channels, width, rate, pcm = read_wav(data)
        assert (channels, width) == (1, 2) and len(pcm) / (2 * rate) > 0.2
        so_far += pcm
    assert read_wav((first / "cumulative.wav").read_bytes())[3] == so_far


def test_bark_sh_without_bark_shows_the_servers_words(server: OwtServer, tmp_path: Path) -> None:
    """bark.sh on a server without bark: the 500's text reaches the user, not just "no [DONE]"."""
    owt_e2e.require_tools("curl", "jo", "jq")
    env = dict(os.environ, PATH=owt_e2e._tool_path())
    done = subprocess.run([str(BARK_SH), f"{server.url}/file.wav", "Hello world.", str(tmp_path / "out")],
                          cwd="/", env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "speak.sh: the server answered:\n  Error executing code: ModuleNotFoundError: No module named 'bark': " \
           "the bark library (github.com/suno-ai/bark) is not installed on this server" in done.stderr, done.stderr
    assert "ended without [DONE]" not in done.stderr
    assert done.stdout == ""


def test_speak_cache_hit_replays_the_same_events(
        fresh_server: Any, tmp_path: Path, espeak: None) -> None:
    srv = fresh_server(("-vv", "--cache-dir", str(tmp_path / "cache")))
    req = post_json("/tts/hello.wav", code_b64=b64(SPEAK.read_bytes()),
                    kwargs_b64=b64(json.dumps({"text": TEXT})), use_cache=True, cache_kwargs=True)
    miss = http_send(srv, req, timeout=60)
    hit = http_send(srv, req, timeout=60)
    assert miss.status == hit.status == 200, (miss.describe(), hit.describe())
    assert miss.headers.get("X-Owt-Cache") == "miss"
    assert hit.headers.get("X-Owt-Cache") == "hit"
    assert hit.content_type == "text/event-stream"
    assert hit.body == miss.body
    check_speech_events(parse_events(hit.body), len(SENTENCES))
    # cache_kwargs: other text is another entry
    other = post_json("/tts/hello.wav", code_b64=b64(SPEAK.read_bytes()),
                      kwargs_b64=b64(json.dumps({"text": "Something else."})),
                      use_cache=True, cache_kwargs=True)
    resp = http_send(srv, other, timeout=60)
    assert resp.headers.get("X-Owt-Cache") == "miss"
    check_speech_events(parse_events(resp.body), 1)


# ---- speak.py in-process: the sentence splitter --------------------------------------------


def test_speak_sentence_splitters() -> None:
    speak = load_module(SPEAK, "owt_example_speak")
    text = 'Hello world. This is Mr. Smith, e.g. a test! Is it? "Yes." Fine'
    expected = ["Hello world.", "This is Mr. Smith, e.g. a test!", "Is it?", '"Yes."', "Fine"]
    try:
        import nltk  # noqa: F401
    except ImportError:
        owt_e2e.unavailable("needs python3-nltk")
    assert speak.split_sentences(text) == expected
    assert speak._regex_sentences(text) == expected
    assert speak.split_sentences("  ") == []
    assert speak.voice_for("v2/en_speaker_6") == "en+m7"
    assert speak.voice_for("v2/zh_speaker_0") == "cmn+m1"
    with pytest.raises(ValueError):
        speak.voice_for("-w /etc/passwd")


# ---- bark.py with bark replaced at the model boundary ----------------------------------------


FAKE_RATE = 24_000


def write_punkt(root: Path) -> Path:
    """NLTK punkt data: an English Punkt tokenizer with common abbreviations, pickled."""
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = {"mr", "mrs", "dr", "e.g", "i.e", "etc"}
    for sub in ("tokenizers/punkt", "tokenizers/punkt/PY3"):
        (root / sub).mkdir(parents=True, exist_ok=True)
        with open(root / sub / "english.pickle", "wb") as f:
            pickle.dump(PunktSentenceTokenizer(params), f)
    return root


FAKE_BARK = {
    "__init__.py": "",
    "generation.py": '''
        """Stands in for bark.generation: tokens are the sentence's code points."""
        import numpy as np

        SAMPLE_RATE = 24_000
        CALLS = []

        def preload_models(*args, **kwargs):
            CALLS.append(("preload_models", args, kwargs))

        def generate_text_semantic(text, history_prompt=None, temp=0.7, min_eos_p=0.2, **kwargs):
            CALLS.append(("generate_text_semantic", (text,), dict(history_prompt=history_prompt,
                          temp=temp, min_eos_p=min_eos_p, **kwargs)))
            return np.array([ord(c) for c in text], dtype=np.int64)
    ''',
    "api.py": '''
        """Stands in for bark.api: 10 ms of a tone per semantic token, float32 as bark's."""
        import numpy as np

        from bark.generation import CALLS, SAMPLE_RATE

        def semantic_to_waveform(semantic_tokens, history_prompt=None, **kwargs):
            CALLS.append(("semantic_to_waveform", (semantic_tokens.tolist(),),
                          dict(history_prompt=history_prompt, **kwargs)))
            n = len(semantic_tokens) * SAMPLE_RATE // 100
            t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
            return (0.5 * np.sin(2 * np.pi * (200 + len(semantic_tokens)) * t)).astype(np.float32)
    ''',
}


def write_fake_bark(root: Path) -> Path:
    pkg = root / "bark"
    pkg.mkdir(parents=True, exist_ok=True)
    for name, text in FAKE_BARK.items():
        (pkg / name).write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def bark_deps() -> None:
    for module in ("numpy", "scipy.io.wavfile", "nltk"):
        try:
            importlib.import_module(module)
        except ImportError:
            owt_e2e.unavailable(f"bark.py needs {module} (python3-numpy, python3-scipy, python3-nltk)")


@pytest.fixture
def fake_bark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bark_deps: None) -> types.ModuleType:
    """Fake bark, bark.generation and bark.api in sys.modules; punkt data on nltk's path."""
    import nltk.data

    root = write_fake_bark(tmp_path / "fake")
    pkg = types.ModuleType("bark")
    pkg.__path__ = [str(root / "bark")]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bark", pkg)
    generation = load_module(root / "bark" / "generation.py", "bark.generation")
    monkeypatch.setitem(sys.modules, "bark.generation", generation)
    monkeypatch.setitem(sys.modules, "bark.api", load_module(root / "bark" / "api.py", "bark.api"))
    monkeypatch.setattr(nltk.data, "path", [str(write_punkt(tmp_path / "nltk_data")), *nltk.data.path])
    for name in ("CUDA_VISIBLE_DEVICES", "SUNO_OFFLOAD_CPU", "SUNO_USE_SMALL_MODELS"):
        monkeypatch.delenv(name, raising=False)
    return generation


def read_float_wav(data: bytes) -> tuple[int, Any]:
    from scipy.io import wavfile

    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", data[:16]
    return wavfile.read(io.BytesIO(data))


def check_bark_events(events: list[str], waves: list[Any]) -> None:
    import numpy as np

    assert len(events) == len(waves) + 1 and events[-1] == "[DONE]", [e[:60] for e in events]
    so_far = np.zeros(0, dtype=np.float32)
    for event, wav in zip(events, waves):
        obj = json.loads(event)
        assert set(obj) == {"sentence", "cumulative"}
        rate, data = read_float_wav(base64.b64decode(obj["sentence"], validate=True))
        assert rate == FAKE_RATE and data.dtype == np.float32 and len(data) / rate > 0
        assert np.array_equal(data, wav)
        so_far = np.concatenate((so_far, wav))
        rate, data = read_float_wav(base64.b64decode(obj["cumulative"], validate=True))
        assert rate == FAKE_RATE and np.array_equal(data, so_far)


def test_bark_event_framing_with_a_fake_model(fake_bark: types.ModuleType) -> None:
    bark = load_module(BARK, "owt_example_bark")
    text = "Hello there, Mr. Smith.\nThis is bark! Is it?"
    gen, headers = bark.run(text=text, speaker="v2/en_speaker_3", sentence_template="[%s]")
    assert headers == {"Content-Type": "text/event-stream"}
    assert os.environ["SUNO_USE_SMALL_MODELS"] == "1"
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0" and os.environ["SUNO_OFFLOAD_CPU"] == "0"
    frames = list(gen)
    assert all(f.startswith("data: ") and f.endswith("\n\n") for f in frames), frames
    events = [f[len("data: "):-2] for f in frames]
    sentences = ["[Hello there, Mr. Smith.]", "[This is bark!]", "[Is it?]"]
    calls = fake_bark.CALLS
    assert calls[0][0] == "preload_models"
    semantic = [c for c in calls if c[0] == "generate_text_semantic"]
    assert [c[1][0] for c in semantic] == sentences
    assert all(c[2] == {"history_prompt": "v2/en_speaker_3", "temp": 0.6, "min_eos_p": 0.05}
               for c in semantic)
    to_wave = [c for c in calls if c[0] == "semantic_to_waveform"]
    assert [c[1][0] for c in to_wave] == [[ord(ch) for ch in s] for s in sentences]
    assert all(c[2] == {"history_prompt": "v2/en_speaker_3"} for c in to_wave)
    check_bark_events(events, [fake_wave(len(s)) for s in sentences])


def test_bark_split_none_and_large_model(fake_bark: types.ModuleType) -> None:
    bark = load_module(BARK, "owt_example_bark")
    gen, _ = bark.run(text="One. Two.", split_type="none", model_size="large")
    events = [f[len("data: "):-2] for f in gen]
    assert os.environ["SUNO_USE_SMALL_MODELS"] == "0"
    check_bark_events(events, [fake_wave(len("One. Two."))])


def fake_wave(n_tokens: int) -> Any:
    """What the fake semantic_to_waveform answers for n tokens."""
    import numpy as np

    n = n_tokens * FAKE_RATE // 100
    t = np.arange(n, dtype=np.float32) / FAKE_RATE
    return (0.5 * np.sin(2 * np.pi * (200 + n_tokens) * t)).astype(np.float32)


def test_bark_through_owt_fcgi_cgi(tmp_path: Path, bark_deps: None) -> None:
    """The same adaptor shipped as code to the real binary, fake bark on --python-path."""
    owt_e2e.require_binary()
    fake = write_fake_bark(tmp_path / "fake")
    punkt = write_punkt(tmp_path / "nltk_data")
    req = get("/file.wav", code_b64=b64(BARK.read_bytes()),
              kwargs_b64=b64(json.dumps({"text": "Hello world. Bye now!"})))
    run = run_cgi(req, ("--python-path", str(fake)), timeout=60, env={"NLTK_DATA": str(punkt)})
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    resp = run.resp
    assert resp.status == 200 and resp.content_type == "text/event-stream", resp.describe()
    events = parse_events(resp.body)
    check_bark_events(events, [fake_wave(len(s)) for s in ("Hello world.", "Bye now!")])
