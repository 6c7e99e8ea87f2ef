"""``acd prompts build``: real synthesis of a handful of prompts (espeak-ng + sox) into
Asterisk's layout as 8 kHz mono 16-bit WAV with speech in it; existing files are kept unless
--force; clear errors without the tools or the voice.

The tests that synthesise need espeak-ng and sox: without them they are skipped, except
under CI=true, where they fail (``.ci/run`` installs both).
"""

from __future__ import annotations

import array
import math
import os
import stat
import sys
import wave
from pathlib import Path

import pytest

from acd.cli import main
from acd.prompts import default_catalogue
from acd.prompts.build import (
    Tools,
    ToolsMissing,
    existing_files,
    find_tools,
    plan,
    prompt_path,
)

# A handful: Russian, Kazakh and English, a number file, a Kazakh ablative, and the language
# menu's Kazakh prompt that also goes into the Russian directory, spoken in Kazakh.
ONLY = "acd/your-position,acd/digits/2f,acd/digits/abl-4,kz/choose-language-kk"
EXPECTED = [
    "ru/acd/your-position.wav",
    "kk/acd/your-position.wav",
    "en/acd/your-position.wav",
    "ru/acd/digits/2f.wav",
    "kk/acd/digits/abl-4.wav",
    "ru/kz/choose-language-kk.wav",
    "kk/kz/choose-language-kk.wav",
]


@pytest.fixture
def tools() -> Tools:
    try:
        return find_tools()
    except ToolsMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"espeak-ng and sox are required under CI: {exc}")
        pytest.skip(str(exc))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["prompts", *args])
    out, err = capsys.readouterr()
    return code, out, err


def check_wav(path: Path) -> float:
    """Asserts an 8 kHz mono 16-bit PCM WAV with speech; returns its duration."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getcomptype() == "NONE"
        frames = wav.readframes(wav.getnframes())
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    duration = len(samples) / 8000
    assert 0.25 < duration < 10, duration
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    assert max(abs(s) for s in samples) > 8000, "peak too low: normalised to -3 dBFS"
    assert rms > 1000, f"too quiet to be speech: RMS {rms:.0f}"
    loud = sum(1 for s in samples if abs(s) > 1000) / len(samples)
    assert loud > 0.2, f"mostly silence: {loud:.0%} of samples above the noise floor"
    return duration


def test_builds_a_handful_of_prompts_for_real(
    tools: Tools, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "build", "--out", str(tmp_path), "--only", ONLY)
    assert (code, err) == (0, "")
    assert out == f"built 7 prompt files in {tmp_path} (ru 3, kk 3, en 1)\n"
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(EXPECTED)
    durations = {name: check_wav(tmp_path / name) for name in EXPECTED}
    # A phrase lasts longer than a word; the same text and voice make the same sound.
    assert durations["ru/acd/your-position.wav"] > durations["ru/acd/digits/2f.wav"]
    same = [(tmp_path / lang / "kz/choose-language-kk.wav").read_bytes() for lang in ("ru", "kk")]
    assert same[0] == same[1]
    mode = (tmp_path / EXPECTED[0]).stat().st_mode
    assert mode & stat.S_IRUSR and not any(tmp_path.rglob(".acd-prompt-*"))


def test_existing_files_are_kept_unless_forced(
    tools: Tools, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = prompt_path(tmp_path, "ru", "acd/your-position", "gsm")  # a real recording
    recorded.parent.mkdir(parents=True)
    recorded.write_bytes(b"recorded")
    stale = prompt_path(tmp_path, "kk", "acd/your-position")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old synthetic file")
    code, out, _ = run(capsys, "build", "--out", str(tmp_path), "--only", "acd/your-position")
    assert code == 0
    assert out.startswith(f"built 1 prompt files in {tmp_path} (en 1); kept 2 that exist")
    assert stale.read_bytes() == b"old synthetic file"

    code, out, _ = run(capsys, "build", "--out", str(tmp_path), "--only", "acd/your-position")
    assert (code, out.split(":")[0]) == (0, "nothing to build")

    code, out, _ = run(
        capsys, "build", "--out", str(tmp_path), "--only", "acd/your-position", "--force"
    )
    assert code == 0
    assert "built 2 prompt files" in out and "kept 1 that exist" in out
    check_wav(stale)  # rebuilt
    assert recorded.read_bytes() == b"recorded"  # a recording in another format is never touched
    assert not prompt_path(tmp_path, "ru", "acd/your-position").exists()


def test_a_voice_espeak_does_not_have_is_a_clear_error(
    tools: Tools, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "build",
        "--out",
        str(tmp_path),
        "--only",
        "acd/digits/abl-4",
        "--voice",
        "kk=no-such-voice",
    )
    assert (code, out) == (1, "")
    assert "espeak-ng has no voice 'no-such-voice' (for kk)" in err
    assert "--voice LANG=VOICE" in err
    assert not any(tmp_path.rglob("*.wav"))


def test_missing_tools_say_which_packages_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, out, err = run(capsys, "build", "--out", str(tmp_path / "sounds"), "--only", "acd/*")
    assert (code, out) == (1, "")
    assert err == (
        "acd prompts: espeak-ng and sox are not installed (not on PATH): install the Debian "
        "packages espeak-ng and sox (apt-get install espeak-ng sox)\n"
    )
    assert not (tmp_path / "sounds").exists()


def _fake_tool(directory: Path, name: str, script: str) -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(0o755)


def test_a_failing_synthesiser_is_reported_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    voices = "Pty Language Age/Gender VoiceName File Other\\n 5 kk --/M Kazakh trk/kk"
    _fake_tool(
        bin_dir,
        "espeak-ng",
        f'if [ "$1" = --voices ]; then printf "{voices}\\n"; exit 0; fi\n'
        'echo "cannot open the audio device" >&2; exit 3',
    )
    _fake_tool(bin_dir, "sox", "exit 0")
    monkeypatch.setenv("PATH", str(bin_dir))
    out_dir = tmp_path / "sounds"
    code, out, err = run(
        capsys, "build", "--out", str(out_dir), "--lang", "kk", "--only", "acd/digits/abl-*"
    )
    assert code == 1
    assert out == f"built 0 prompt files in {out_dir}\n"
    lines = err.splitlines()
    assert len(lines) == 22  # 21 ablative numbers, then the count
    assert lines[0].endswith("abl-0.wav: espeak-ng: cannot open the audio device")
    assert lines[-1] == "acd prompts: 21 prompt files failed"
    assert not any(out_dir.rglob("*.wav"))


def test_the_plan_follows_the_catalogue_and_the_files(tmp_path: Path) -> None:
    catalogue = default_catalogue()
    to_build, kept = plan(catalogue, tmp_path, ["ru", "kk", "en"])
    assert len(to_build) == sum(len(entry.texts) for entry in catalogue) and kept == []
    menu = [j for j in to_build if j.name == "kz/choose-language-kk"]
    assert [(j.language, j.voice) for j in menu] == [("ru", "kk"), ("kk", "kk")]

    ulaw = prompt_path(tmp_path, "kk", "acd/greeting", "ulaw")
    ulaw.parent.mkdir(parents=True)
    ulaw.touch()
    to_build, kept = plan(catalogue, tmp_path, ["kk"], only=["acd/greeting", "acd/wait-*"])
    assert [j.name for j in kept] == ["acd/greeting"]
    assert [j.name for j in to_build] == ["acd/wait-about", "acd/wait-less-than-a-minute"]
    assert existing_files(tmp_path, "kk", "acd/greeting") == [ulaw]
    to_build, kept = plan(catalogue, tmp_path, ["kk"], only=["acd/greeting"], force=True)
    assert (to_build, [j.name for j in kept]) == ([], ["acd/greeting"])  # not a .wav: kept
    to_build, _ = plan(catalogue, tmp_path, ["ru"], only=["acd/digits/1f"], voices={"ru": "ru-lv"})
    assert [(j.voice, j.text.spoken) for j in to_build] == [("ru-lv", "одна")]
