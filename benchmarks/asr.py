"""``make bench-asr``: spoken request numbers, for whatever Vosk model IVR_VOSK_MODEL names.

Two measurements over the development set in ``../shared/asr-dev`` (80 Russian request
numbers through a telephone chain, 8 kHz WAV; ``manifest.jsonl`` holds the truth):

* **offline**: each file is recognised exactly as the server does it (a ``VoskRecognizer``
  with the number grammar, then ``parse_number``) and the digits compared with the truth.
  Reported: exact-match accuracy (overall and per reading style), total audio and decode
  seconds, the decode real-time factor (decode / audio; Vosk's own time, as
  ``Transcript.decode_seconds`` counts it) and p50/p95 decode time per file;
* **end to end**: the webhook app in-process (Flask test client, a fresh SQLite database,
  the shipped flows, webhooks signed as Twilio signs them) with a local stand-in for
  Twilio's recording host serving each file. Per file, one call dials the main line at a
  working hour and presses 4 (untimed); then the ``<Record>`` action is posted with the
  recording already available, and the time to the TwiML answer is measured (download,
  conversion, recognition, parsing, the database turn and rendering). Reported: p50/p95.
  The number read back (the call's candidate) is also compared with the truth.

Targets (the Russian small model): at least 97 % exact digit strings, decode at most
0.1× real time on one core, answer at most 1.5 s after the recording is available. By
default the process is pinned to one CPU core (``--no-pin`` to leave it free), so the
figures are one core's.

Exit status: 0 with a report whatever the figures (a benchmark, not a test); 2 when no
model is configured; 1 when something broke (no data set, an answer that is not TwiML).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT.parent / "shared" / "asr-dev"

TARGET_ACCURACY = 0.97
TARGET_RTF = 0.10
TARGET_P95_ANSWER_S = 1.5

AUTH_TOKEN = "bench-auth-token"
ACCOUNT_SID = "AC" + "a" * 32
PUBLIC_URL = "https://ivr.bench.test"
LINE = "+78005553535"
CALLER = "+79161234567"
# Wednesday 25 November 2026, 10:00 Moscow time: the main line is open.
CLOCK = "2026-11-25T10:00:00+03:00"
STATUS_MENU_KEY = "4"


class BenchError(Exception):
    """Something broke: the run cannot give meaningful figures."""


@dataclass
class Sample:
    """One file of the development set and what became of it."""

    file: str
    style: str
    truth: str
    text: str = ""
    digits: str | None = None
    reason: str = ""
    ok: bool = False
    audio_seconds: float = 0.0
    decode_seconds: float = 0.0
    answer_seconds: float | None = None
    read_back: str | None = None


@dataclass
class Report:
    """Everything the run measured."""

    model: str
    data: str
    files: int
    one_core: bool
    allow_unknown: bool
    model_load_seconds: float
    missing_grammar_words: list[str]
    offline: dict[str, Any] = field(default_factory=dict)
    e2e: dict[str, Any] = field(default_factory=dict)
    verdict: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def model_setting() -> str:
    """IVR_VOSK_MODEL from the process environment over ``./.env``, as ``ivr`` reads it."""
    import os

    from ivr.cli.common import ENV_FILE
    from ivr.config import Settings

    return Settings.from_environ(os.environ, env_file=ENV_FILE).vosk_model


def load_manifest(data_dir: Path, limit: int | None) -> list[dict[str, str]]:
    manifest = data_dir / "manifest.jsonl"
    if not manifest.is_file():
        raise BenchError(f"no development set: {manifest} does not exist")
    items = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line]
    for item in items:
        if not (data_dir / item["file"]).is_file():
            raise BenchError(f"{item['file']} is listed in the manifest but missing")
    return items[:limit] if limit is not None else items


def pin_to_one_core() -> bool:
    """Pin this process (and the threads it starts later) to one CPU; False if impossible."""
    setter = getattr(os, "sched_setaffinity", None)
    getter = getattr(os, "sched_getaffinity", None)
    if setter is None or getter is None:
        return False
    setter(0, {min(getter(0))})
    return True


# -- offline -----------------------------------------------------------------------------------


def run_offline(recognizer: Any, data_dir: Path, items: list[dict[str, str]]) -> list[Sample]:
    from ivr.speech.numbers import GRAMMAR_WORDS, parse_number

    grammar = list(GRAMMAR_WORDS)
    samples: list[Sample] = []
    for item in items:
        wav = (data_dir / item["file"]).read_bytes()
        transcript = recognizer.recognize(wav, grammar)
        reading = parse_number(transcript.text)
        samples.append(
            Sample(
                file=item["file"],
                style=item.get("style", "?"),
                truth=item["digits"],
                text=transcript.text,
                digits=reading.digits,
                reason=reading.reason,
                ok=reading.digits == item["digits"],
                audio_seconds=transcript.audio_seconds,
                decode_seconds=transcript.decode_seconds,
            )
        )
    return samples


def offline_figures(samples: list[Sample]) -> dict[str, Any]:
    audio = sum(sample.audio_seconds for sample in samples)
    decode = sum(sample.decode_seconds for sample in samples)
    styles: dict[str, dict[str, Any]] = {}
    for sample in samples:
        entry = styles.setdefault(sample.style, {"files": 0, "exact": 0})
        entry["files"] += 1
        entry["exact"] += int(sample.ok)
    for entry in styles.values():
        entry["accuracy"] = entry["exact"] / entry["files"]
    decodes = [sample.decode_seconds for sample in samples]
    exact = sum(sample.ok for sample in samples)
    return {
        "files": len(samples),
        "exact": exact,
        "accuracy": exact / len(samples) if samples else 0.0,
        "by_style": dict(sorted(styles.items())),
        "audio_seconds": audio,
        "decode_seconds": decode,
        "rtf": decode / audio if audio else 0.0,
        "decode_p50": percentile(decodes, 0.50),
        "decode_p95": percentile(decodes, 0.95),
    }


# -- end to end --------------------------------------------------------------------------------


def recording_sid(index: int) -> str:
    return f"RE{index:032x}"


@contextmanager
def recording_host(recordings: dict[str, bytes]) -> Iterator[str]:
    """Twilio's recording host, locally: ``/2010-04-01/Accounts/{AC}/Recordings/{RE}.wav``."""
    expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    prefix = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = None
            if self.headers.get("Authorization") == expected and self.path.startswith(prefix):
                body = recordings.get(self.path.removeprefix(prefix).removesuffix(".wav"))
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "audio/x-wav")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class SignedClient:
    """Posts webhooks to the app with ``X-Twilio-Signature`` as Twilio computes it."""

    def __init__(self, app: Any) -> None:
        from twilio.request_validator import RequestValidator

        self.client = app.test_client()
        self.validator = RequestValidator(AUTH_TOKEN)

    def post(self, path: str, params: dict[str, str]) -> tuple[int, str]:
        signature = self.validator.compute_signature(PUBLIC_URL + path, params)
        response = self.client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        return response.status_code, response.get_data(as_text=True)


def call_params(sid: str, **fields: str) -> dict[str, str]:
    params = {
        "CallSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": CALLER,
        "To": LINE,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    params.update(fields)
    return params


def run_e2e(
    recognizer: Any,
    data_dir: Path,
    samples: list[Sample],
    workdir: Path,
) -> None:
    """Fills each sample's ``answer_seconds`` and ``read_back``."""
    from benchmarks.local_app import in_process_settings
    from ivr.engine.request_status import CANDIDATE
    from ivr.store.migrate import upgrade
    from ivr.store.models import Call
    from ivr.web import create_app

    recordings = {
        recording_sid(index): (data_dir / sample.file).read_bytes()
        for index, sample in enumerate(samples)
    }
    # The first file again, for an untimed warm-up call.
    warm_up = len(samples)
    recordings[recording_sid(warm_up)] = recordings[recording_sid(0)]
    url = f"sqlite:///{workdir}/bench.db"
    upgrade(url)
    moment = datetime.fromisoformat(CLOCK)
    with recording_host(recordings) as base_url:
        settings = in_process_settings(
            workdir,
            url,
            PUBLIC_URL,
            ACCOUNT_SID,
            AUTH_TOKEN,
            twilio_api_base=base_url,
            reload_interval=0,
        )
        app = create_app(settings, clock=lambda: moment, recognizer=recognizer)
        db = app.extensions["ivr"].db
        client = SignedClient(app)
        try:
            for index in [warm_up, *range(len(samples))]:
                sid = f"CA{index:032x}"
                status, body = client.post("/voice/incoming", call_params(sid))
                if status != 200:
                    raise BenchError(f"/voice/incoming answered {status}: {body[:300]}")
                status, body = client.post(
                    "/voice/step?turn=1", call_params(sid, Digits=STATUS_MENU_KEY)
                )
                if status != 200 or "<Record " not in body:
                    raise BenchError(
                        "the status line did not offer a recording (is the recogniser wired?): "
                        f"{status} {body[:300]}"
                    )
                rec = recording_sid(index)
                params = call_params(
                    sid,
                    RecordingSid=rec,
                    RecordingUrl=f"{base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{rec}",
                    RecordingDuration="5",
                )
                started = time.perf_counter()
                status, body = client.post("/voice/step?turn=2", params)
                elapsed = time.perf_counter() - started
                if status != 200 or not body.startswith("<?xml") or "<Response>" not in body:
                    raise BenchError(f"the <Record> action answered {status}: {body[:300]}")
                if index == warm_up:
                    continue
                with db.sessions() as session:
                    call = session.get(Call, sid)
                    state = call.state if call is not None else {}
                samples[index].answer_seconds = elapsed
                candidate = (state.get("vars") or {}).get(CANDIDATE)
                samples[index].read_back = str(candidate) if candidate else None
        finally:
            db.dispose()


def e2e_figures(samples: list[Sample]) -> dict[str, Any]:
    answers = [s.answer_seconds for s in samples if s.answer_seconds is not None]
    exact = sum(s.read_back == s.truth for s in samples if s.answer_seconds is not None)
    return {
        "answers": len(answers),
        "read_back_exact": exact,
        "answer_p50": percentile(answers, 0.50),
        "answer_p95": percentile(answers, 0.95),
        "answer_max": max(answers, default=0.0),
        "answer_mean": statistics.fmean(answers) if answers else 0.0,
    }


# -- report ------------------------------------------------------------------------------------


def verdict(report: Report) -> dict[str, Any]:
    offline, e2e = report.offline, report.e2e
    checks: dict[str, Any] = {
        "accuracy": {
            "value": offline["accuracy"],
            "target": TARGET_ACCURACY,
            "pass": offline["accuracy"] >= TARGET_ACCURACY,
        },
        "rtf": {
            "value": offline["rtf"],
            "target": TARGET_RTF,
            "pass": offline["rtf"] <= TARGET_RTF,
        },
    }
    if e2e:
        checks["answer_p95"] = {
            "value": e2e["answer_p95"],
            "target": TARGET_P95_ANSWER_S,
            "pass": e2e["answer_p95"] <= TARGET_P95_ANSWER_S,
        }
    return checks


def mark(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def text_report(report: Report) -> str:
    offline, e2e, checks = report.offline, report.e2e, report.verdict
    core = "pinned to one core" if report.one_core else "not pinned"
    lines = [
        f"ASR benchmark: {report.files} files from {report.data}",
        f"model {report.model} (loaded in {report.model_load_seconds:.1f} s; {core}; "
        f"unknown word {'on' if report.allow_unknown else 'off, as the server'})",
    ]
    if report.missing_grammar_words:
        missing = report.missing_grammar_words
        lines.append(
            f"WARNING: the model lacks {len(missing)} of the grammar's words "
            f"({', '.join(missing[:6])}{' …' if len(missing) > 6 else ''}): it cannot give "
            "these digits, so accuracy means little"
        )
    lines += [
        "",
        f"{'':<40}{'measured':>12}  {'target':>10}",
        f"{'exact digit strings':<40}{offline['accuracy']:>11.1%}  {'≥ 97%':>10}  "
        f"{mark(checks['accuracy']['pass'])}",
        f"{'decode real-time factor (1 core)':<40}{offline['rtf']:>11.3f}×  {'≤ 0.10×':>10}  "
        f"{mark(checks['rtf']['pass'])}",
    ]
    if e2e:
        lines.append(
            f"{'answer p95, recording → TwiML':<40}{e2e['answer_p95']:>10.3f} s  {'≤ 1.5 s':>10}  "
            f"{mark(checks['answer_p95']['pass'])}"
        )
    lines += [
        "",
        "offline (VoskRecognizer + number grammar + parse_number):",
        f"  exact {offline['exact']}/{offline['files']}; audio {offline['audio_seconds']:.1f} s, "
        f"decode {offline['decode_seconds']:.2f} s; decode per file p50 "
        f"{offline['decode_p50']:.3f} s, p95 {offline['decode_p95']:.3f} s",
    ]
    for style, entry in offline["by_style"].items():
        lines.append(
            f"  {style:<10} {entry['exact']:>3}/{entry['files']:<3} {entry['accuracy']:>7.1%}"
        )
    if e2e:
        lines += [
            "end to end (in-process app, SQLite, signed webhooks, local recording host):",
            f"  answers {e2e['answers']}: p50 {e2e['answer_p50']:.3f} s, p95 "
            f"{e2e['answer_p95']:.3f} s, max {e2e['answer_max']:.3f} s; number read back "
            f"right {e2e['read_back_exact']}/{e2e['answers']}",
        ]
    wrong = [sample for sample in report.samples if not sample.ok]
    if wrong:
        lines.append(f"misses ({len(wrong)}; the first 10):")
        for sample in wrong[:10]:
            lines.append(
                f"  {sample.file}: {sample.truth} → {sample.digits or '-'} "
                f"({sample.reason}; heard {sample.text!r})"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.asr",
        description="Accuracy, decode speed and answer time for spoken request numbers.",
    )
    parser.add_argument("--model", help="a Vosk model directory (default: IVR_VOSK_MODEL)")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the development set")
    parser.add_argument("--limit", type=int, help="only the first N files")
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU core")
    parser.add_argument("--skip-e2e", action="store_true", help="offline figures only")
    parser.add_argument(
        "--allow-unknown",
        action="store_true",
        help="add the model's unknown word to the grammar (the server does not)",
    )
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setting = (args.model or model_setting()).strip()
    if not setting:
        print(
            "IVR_VOSK_MODEL is not set: the ASR benchmark needs a Vosk model directory "
            "(e.g. IVR_VOSK_MODEL=var/models/vosk-model-small-ru-0.22, from "
            "`ivr model fetch ru-small`).",
            file=sys.stderr,
        )
        return 2
    from ivr.speech.model_fetch import is_model_dir

    model_dir = Path(setting).expanduser()
    if not is_model_dir(model_dir):
        print(
            f"{model_dir} is not a Vosk model directory (no am/final.mdl and conf/).",
            file=sys.stderr,
        )
        return 2
    try:
        items = load_manifest(args.data, args.limit)
    except BenchError as exc:
        print(f"bench-asr: {exc}", file=sys.stderr)
        return 1
    one_core = pin_to_one_core() if not args.no_pin else False

    import vosk

    from ivr.speech.numbers import GRAMMAR_WORDS
    from ivr.speech.recognizer import SpeechModel, SpeechModelError, VoskRecognizer

    model = SpeechModel(model_dir)
    started = time.perf_counter()
    try:
        model.load()
    except SpeechModelError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    load_seconds = time.perf_counter() - started
    missing = [w for w in GRAMMAR_WORDS if model.vocabulary_has(w) is False]
    # Missing grammar words are in the report; the recogniser's own warning and Kaldi's (for
    # every file) would only bury it.
    logging.getLogger("ivr.speech.recognizer").setLevel(logging.ERROR)
    vosk.SetLogLevel(-2)
    recognizer = VoskRecognizer(model, allow_unknown=args.allow_unknown)
    if not args.json:
        print(f"recognising {len(items)} files …", file=sys.stderr)
    samples = run_offline(recognizer, args.data, items)
    report = Report(
        model=str(model_dir.resolve()),
        data=str(args.data),
        files=len(samples),
        one_core=one_core,
        allow_unknown=args.allow_unknown,
        model_load_seconds=load_seconds,
        missing_grammar_words=missing,
        offline=offline_figures(samples),
        samples=samples,
    )
    if not args.skip_e2e:
        if not args.json:
            print("answering the same files through the webhook app …", file=sys.stderr)
        try:
            with tempfile.TemporaryDirectory(prefix="bench-asr-") as workdir:
                run_e2e(recognizer, args.data, samples, Path(workdir))
        except BenchError as exc:
            print(f"bench-asr: {exc}", file=sys.stderr)
            return 1
        report.e2e = e2e_figures(samples)
    report.verdict = verdict(report)
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    else:
        print(text_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
