"""A program running in a pseudo-terminal: spawn, non-blocking read/write, resize, exit status.

Pure (no Textual): the terminal pane registers :attr:`PtySession.fd` with its event loop and calls
:meth:`PtySession.read` when it is readable; tests and benchmarks drive it directly.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import termios
import time

from claude_tui.claude_code import which

TYPE_CHECKING = False
if TYPE_CHECKING:  # not imported at run time: this module is on the path to Claude's spawn (docs/startup.md)
    from collections.abc import Iterator, Mapping, Sequence

__all__ = [
    "CommandNotFound",
    "ExitStatus",
    "PtySession",
    "SpawnError",
    "build_environment",
    "find_program",
    "resolve_command",
]

# Variables that would override the window size we set with TIOCSWINSZ (`tput cols` honours COLUMNS).
_SIZE_VARIABLES = ("COLUMNS", "LINES")


class SpawnError(Exception):
    """The program could not be started (bad working directory, exec failure, ...)."""


class CommandNotFound(SpawnError):
    """The command is not on PATH or not executable; raised before anything is spawned.

    Attributes:
        name: the command as given (``argv[0]``).
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"command not found: {name}")
        self.name = name


class ExitStatus:
    """How a program ended: an exit ``code``, or the ``signal`` that killed it (the other is None).

    A plain class, not a NamedTuple: `typing` costs ~3 ms to import, and this module loads before Claude is
    spawned (docs/startup.md). Compares, hashes and unpacks as the pair ``(code, signal)``.
    """

    __slots__ = ("code", "signal")

    def __init__(self, code: int | None, signal: int | None = None) -> None:
        self.code = code
        self.signal = signal

    def _pair(self) -> tuple[int | None, int | None]:
        return (self.code, self.signal)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ExitStatus):
            return self._pair() == other._pair()
        if isinstance(other, tuple):
            return self._pair() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._pair())

    def __iter__(self) -> Iterator[int | None]:
        return iter(self._pair())

    def __repr__(self) -> str:
        return f"ExitStatus(code={self.code!r}, signal={self.signal!r})"

    @property
    def success(self) -> bool:
        """True for exit code 0 without a signal."""
        return self.code == 0 and self.signal is None

    @classmethod
    def from_wait_status(cls, status: int) -> ExitStatus:
        """Decode a raw ``waitpid`` status."""
        if os.WIFSIGNALED(status):
            return cls(None, os.WTERMSIG(status))
        if os.WIFEXITED(status):
            return cls(os.WEXITSTATUS(status), None)
        return cls(None, None)

    def describe(self) -> str:
        """A short human text: ``status 0``, ``status 2``, ``signal 9 (SIGKILL)``."""
        if self.signal is not None:
            import signal as signal_module

            try:
                name = signal_module.Signals(self.signal).name
            except ValueError:
                return f"signal {self.signal}"
            return f"signal {self.signal} ({name})"
        if self.code is None:
            return "unknown status"
        return f"status {self.code}"


def build_environment(
    overrides: Mapping[str, str | None] | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The child's environment: ``base`` (default: ours), minus size variables, plus terminal type, plus
    ``overrides``.

    An override whose value is None removes that variable. The session owner passes the environment of the
    client that asked for the session as ``base``: a program started from another shell gets that shell's
    variables, not the owner's.
    """
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if k not in _SIZE_VARIABLES}
    env["TERM"] = "xterm-256color"
    env["COLORTERM"] = "truecolor"
    for key, value in (overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def resolve_command(name: str, path: str | None) -> str:
    """The absolute path of ``name`` (searched on ``path`` unless it contains a slash).

    Raises:
        CommandNotFound: when it does not exist or is not an executable file.
    """
    if "/" in name:
        if os.path.isfile(name) and os.access(name, os.X_OK):
            return os.path.abspath(name)
        raise CommandNotFound(name)
    found = which(name, path if path is not None else os.defpath)
    if found is None:
        raise CommandNotFound(name)
    return found


def find_program(command: str) -> str | None:
    """The program's absolute path (a path, or a name looked up on `$PATH`), or None when there is none."""
    try:
        return os.path.abspath(resolve_command(command, os.environ.get("PATH")))
    except CommandNotFound:
        return None


def _default_signals() -> None:
    """In the child before exec: every signal at its default and none blocked, as a terminal starts a program.

    Ignored signals survive exec: without this the program would inherit Python's ignored SIGPIPE and SIGXFSZ
    (`yes | head` complains of a broken pipe), and SIGINT/SIGQUIT/SIGHUP when claude-tui itself was started in
    the background or under nohup (ctrl+c would interrupt nothing). tmux resets them the same way. `_signal`
    (built into the interpreter) rather than `signal`, whose enums take ~2 ms to build before Claude's exec.
    """
    import _signal

    for sig in _signal.valid_signals():
        if sig in (_signal.SIGKILL, _signal.SIGSTOP):
            continue
        try:
            _signal.signal(sig, _signal.SIG_DFL)
        except (OSError, ValueError):  # a signal the platform will not let us set
            pass
    _signal.pthread_sigmask(_signal.SIG_SETMASK, set())


def _set_window_size(fd: int, cols: int, rows: int) -> None:
    """TIOCSWINSZ: the terminal's size as the program reads it (`struct winsize`: rows, cols, 0, 0)."""
    size = rows.to_bytes(2, sys.byteorder) + cols.to_bytes(2, sys.byteorder) + bytes(4)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, size)


def _window_size(fd: int) -> tuple[int, int]:
    """TIOCGWINSZ: ``(cols, rows)``."""
    size = fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(8))
    return int.from_bytes(size[2:4], sys.byteorder), int.from_bytes(size[0:2], sys.byteorder)


def _fork_exec(
    program: str, argv: list[str], cwd: str | None, env: dict[str, str], cols: int, rows: int
) -> tuple[int, int]:
    """Fork `argv` onto a new PTY of `cols` x `rows`, as its session leader with the PTY as its controlling
    terminal; ``(pid, master fd)``. Returns once the program is exec'd.

    What ptyprocess's spawn did, without importing it (with `pty`, `tty`, `resource`: ~5 ms before Claude's
    exec, docs/startup.md): the size is set before the fork (no SIGWINCH), the child closes every other fd,
    and an exec that fails reports its errno through a close-on-exec pipe (read here: EOF means exec'd).

    Raises:
        OSError: the child could not change to `cwd` or exec `program` (its errno).
    """
    open_max = os.sysconf("SC_OPEN_MAX")
    master, slave = os.openpty()
    try:
        _set_window_size(master, cols, rows)
        report_read, report_write = os.pipe()  # both close-on-exec (PEP 446)
    except BaseException:
        os.close(master)
        os.close(slave)
        raise
    pid = os.fork()
    if pid == 0:  # the child: nothing here may return or raise
        try:
            os.close(master)
            os.close(report_read)
            os.login_tty(slave)  # setsid, the controlling terminal, stdio
            os.closerange(3, report_write)
            os.closerange(report_write + 1, max(open_max, report_write + 1))
            if cwd is not None:
                os.chdir(cwd)
            _default_signals()
            os.execve(program, argv, env)
        except OSError as exc:
            os.write(report_write, str(exc.errno or errno.EIO).encode())
        finally:
            os._exit(127)
    os.close(slave)
    os.close(report_write)
    try:
        report = b""
        while chunk := os.read(report_read, 64):
            report += chunk
    finally:
        os.close(report_read)
    if report:
        os.close(master)
        os.waitpid(pid, 0)
        code = int(report) if report.isdigit() else errno.EIO
        raise OSError(code, os.strerror(code))
    return pid, master


class PtySession:
    """One program attached to the slave side of a PTY; we hold the master side.

    Use :meth:`spawn` to create one. The master fd is non-blocking: :meth:`read` returns ``b""`` when
    nothing is available and raises ``EOFError`` once the program (and everything that held the
    terminal open) is gone.
    """

    def __init__(self, pid: int, fd: int, argv: list[str]) -> None:
        self.argv = argv
        """The argv as spawned (``argv[0]`` resolved to an absolute path)."""
        self.started_at = time.time()
        """Wall-clock time just after the program was spawned."""
        self.fd = fd
        """The master side of the PTY (non-blocking)."""
        self.pid = pid
        """The program's process id (it leads its own session and process group)."""
        self._status: ExitStatus | None = None
        self._closed = False
        os.set_blocking(self.fd, False)

    @classmethod
    def spawn(
        cls,
        argv: Sequence[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str | None] | None = None,
        cols: int = 80,
        rows: int = 24,
        base_env: Mapping[str, str] | None = None,
    ) -> PtySession:
        """Start ``argv`` in a new PTY of ``cols`` x ``rows``.

        Args:
            argv: the program and its arguments; ``argv[0]`` is looked up on the child's PATH.
            cwd: working directory (default: ours).
            env: overrides on top of the base environment (None values remove a variable).
            cols: window width.
            rows: window height.
            base_env: the environment to start from (default: ours).

        Raises:
            CommandNotFound: ``argv[0]`` does not exist (nothing is spawned).
            SpawnError: the working directory does not exist, or exec failed.
        """
        if not argv:
            raise SpawnError("no command given")
        child_env = build_environment(env, base_env)
        program = resolve_command(argv[0], child_env.get("PATH"))
        if cwd is not None and not os.path.isdir(cwd):
            raise SpawnError(f"working directory does not exist: {os.fspath(cwd)}")
        full_argv = [program, *argv[1:]]
        try:
            pid, fd = _fork_exec(
                program,
                full_argv,
                os.fspath(cwd) if cwd is not None else None,
                child_env,
                max(1, cols),
                max(1, rows),
            )
        except OSError as exc:  # a failed chdir or exec, reported back by the child
            raise SpawnError(f"cannot start {argv[0]}: {exc.strerror or exc}") from exc
        return cls(pid, fd, full_argv)

    # -- I/O -----------------------------------------------------------------------------------------

    def read(self, max_bytes: int = 65536) -> bytes:
        """Whatever the program wrote, up to ``max_bytes``; ``b""`` when nothing is waiting.

        Raises:
            EOFError: the terminal is closed (on Linux the master reads EIO once the slave is gone).
        """
        if self._closed:
            raise EOFError("PTY closed")
        try:
            data = os.read(self.fd, max_bytes)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno in (errno.EIO, errno.EBADF):
                raise EOFError("PTY closed") from exc
            raise
        if not data:
            raise EOFError("PTY closed")
        return data

    def write_some(self, data: bytes) -> int:
        """Write without blocking; return how many bytes the PTY took (0 when its buffer is full)."""
        if self._closed or not data:
            return 0
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            if exc.errno in (errno.EIO, errno.EBADF):
                raise EOFError("PTY closed") from exc
            raise

    def write(self, data: bytes, timeout: float = 10.0) -> None:
        """Write all of ``data``, waiting (up to ``timeout`` seconds in all) while the PTY buffer is full.

        A big paste fills the terminal's input queue (4 KiB in canonical mode) until the program
        reads; we wait for room instead of failing. The event loop uses :meth:`write_some` instead.

        Raises:
            TimeoutError: the program did not read its input in time.
            EOFError: the terminal is closed.
        """
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            written = self.write_some(bytes(view[:65536]))
            view = view[written:]
            if view and written == 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"program did not read {len(view)} bytes of input")
                import select

                select.select([], [self.fd], [], min(remaining, 0.05))

    @property
    def size(self) -> tuple[int, int]:
        """The window size as ``(cols, rows)``."""
        return _window_size(self.fd)

    def resize(self, cols: int, rows: int) -> None:
        """Set the window size (TIOCSWINSZ); the program gets SIGWINCH (only when the size changes)."""
        if self._closed:
            return
        try:
            _set_window_size(self.fd, max(1, cols), max(1, rows))
        except OSError:
            pass  # the terminal went away between our check and the ioctl

    # -- lifetime -------------------------------------------------------------------------------------

    def poll(self) -> ExitStatus | None:
        """The exit status if the program has ended (reaping it), else None. Never blocks."""
        if self._status is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self._status = ExitStatus(None, None)  # reaped elsewhere: the status is lost
                return self._status
            if pid == 0:
                return None
            self._status = ExitStatus.from_wait_status(status)
        return self._status

    @property
    def alive(self) -> bool:
        """True while the program runs."""
        return self.poll() is None

    def wait(self, timeout: float | None = None) -> ExitStatus:
        """Block until the program ends (or ``timeout`` passes: then ``TimeoutError``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.001
        while True:
            status = self.poll()
            if status is not None:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"process {self.pid} still running")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def send_signal(self, sig: int) -> None:
        """Send `sig` to the program (and its process group); nothing when it is gone."""
        self._signal(sig)

    def _signal(self, sig: int) -> None:
        try:
            # The program leads its own process group: its children (e.g. a pipeline) get it too.
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self, grace: float = 3.0) -> ExitStatus:
        """End the program: SIGHUP and SIGTERM, then SIGKILL if it is still there after ``grace`` seconds."""
        if self.poll() is None:
            import signal as signal_module

            self._signal(signal_module.SIGHUP)
            self._signal(signal_module.SIGCONT)  # a stopped program must wake up to see the HUP
            self._signal(signal_module.SIGTERM)
            try:
                self.wait(timeout=grace)
            except TimeoutError:
                self._signal(signal_module.SIGKILL)
                self.wait(timeout=5.0)
        self.close()
        status = self._status
        assert status is not None
        return status

    def close(self) -> None:
        """Close our side of the PTY (the program, if still running, gets SIGHUP from the kernel)."""
        if self._closed:
            return
        self._closed = True
        try:
            os.close(self.fd)
        except OSError:
            pass

    @property
    def closed(self) -> bool:
        """True once :meth:`close` (or :meth:`terminate`) ran."""
        return self._closed

    @property
    def exit_status(self) -> ExitStatus | None:
        """The exit status once known (see :meth:`poll`)."""
        return self._status
