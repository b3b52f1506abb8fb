"""``aegui [CHECKPOINT] [--watch DIR]``: open the window on a checkpoint (the bundled default if
none), watching a training run's folder if one is given.

Start-up builds the collaborators first and hands them to the window (settings, executor,
explorer, then the window given them). The window is shown and painted before torch is
imported: the model and its libraries load in the background, and ink drawn meanwhile is
encoded as soon as the model is ready.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import logging
import os
import sys
import traceback
from pathlib import Path

from aegui import __version__
from aegui.core.paths import state_dir
from aegui.core.resources import DEFAULT_CHECKPOINT

STARTUP_CHANNEL = "startup"

# The libraries Qt's X11 (xcb) platform plugin and the Qt libraries under it need directly
# (readelf -d on libqxcb.so, libQt6XcbQpa, libQt6Gui, libQt6Core, libQt6DBus of PySide6 6.x),
# with the Debian/Ubuntu package of each; libc, libstdc++, zlib and zstd are always there.
XCB_LIBRARIES = {
    "libglib-2.0.so.0": "libglib2.0-0",  # QtCore itself (its event loop)
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
}


def log_file_path() -> Path:
    return state_dir("aegui.log")


class OneLineParser(argparse.ArgumentParser):
    """A mistake on the command line is one line on stderr (no usage block), exit status 2."""

    def error(self, message: str):
        unknown = message.partition("unrecognized arguments: ")[2].split()
        options = [option for action in self._actions for option in action.option_strings if option.startswith("--")]
        close = difflib.get_close_matches(unknown[0].split("=")[0], options, n=1) if unknown and unknown[0].startswith("--") else []
        hint = f"did you mean {close[0]}?" if close else "aegui --help lists the options"  # as aegui-train says it
        self.exit(2, f"{self.prog}: {message} ({hint})\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(prog="aegui", description="Draw a digit and watch an autoencoder's latent code.")
    parser.add_argument("checkpoint", nargs="?", type=Path, help="model file (.ckpt or .safetensors); default: the model open when aegui last closed, else the bundled k = 32 model")
    parser.add_argument("--settings", type=Path, help="use this INI file for settings instead of the user's")
    parser.add_argument("--watch", type=run_folder_argument, metavar="DIR", help="follow the training run in DIR (a run folder, or what aegui-train fit --progress-dir wrote), as File > Watch does")
    parser.add_argument("--version", action="version", version=f"aegui {__version__}")
    parser.add_argument("--install-desktop-entry", action="store_true", help="add aegui and its icon to this user's desktop application menu (Linux, XDG) and exit")
    return parser.parse_args(argv)


def run_folder_argument(text: str) -> Path:
    """--watch DIR: a folder that exists (a run synced from elsewhere, or one being written)."""
    folder = Path(text).expanduser()
    if not folder.exists():
        raise argparse.ArgumentTypeError(f"{text} does not exist (yet): start the run first (aegui-train fit makes its --progress-dir as it starts)")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    return folder


def missing_system_libraries(libraries: dict[str, str] = XCB_LIBRARIES) -> list[str]:
    """Debian/Ubuntu packages whose shared library cannot be loaded (Linux only)."""
    import ctypes

    missing = []
    for library, package in libraries.items():
        try:
            ctypes.CDLL(library)
        except OSError:
            missing.append(package)
    return list(dict.fromkeys(missing))


def display_problem(environ=os.environ, platform: str = sys.platform) -> str | None:
    """Why Qt could not open a window here, in one sentence, or None if it should work.

    Qt itself aborts with a message naming the wrong package; this says what to install.
    """
    if not platform.startswith("linux"):
        return None
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen and not chosen.startswith("xcb"):
        return None  # offscreen, wayland, vnc...: Qt's own plugins, no X libraries needed
    if not chosen and environ.get("WAYLAND_DISPLAY"):
        return None
    if not environ.get("DISPLAY"):
        return "aegui needs a desktop session: neither DISPLAY nor WAYLAND_DISPLAY is set (start it from your desktop, or under xvfb-run for a virtual one)."
    missing = missing_system_libraries()
    libraries = f"Qt needs system libraries that are missing; install them with: sudo apt-get install {' '.join(missing)}"
    if not x_server_answers(environ["DISPLAY"]):
        server = f"no X server answers on DISPLAY={environ['DISPLAY']} (is that desktop session still running? For a virtual one, start aegui under xvfb-run)"
        return f"aegui cannot open a window: {server}" + (f"; and {libraries}" if missing else ".")
    if missing:
        return f"aegui cannot open a window: {libraries}"
    return None


def x_server_answers(display: str) -> bool:
    """Whether an X server accepts a connection on ``display`` (libxcb, as Qt connects): Qt
    itself aborts when none does, naming a library that is installed."""
    import ctypes

    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True  # the missing libraries are named instead
    xcb.xcb_connect.restype, xcb.xcb_connect.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)  # never NULL: an error connection at worst
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def configure_process_for_live_drawing() -> None:
    """Process-wide settings for one small image at a time, shared with the GUI thread.

    - A short GIL switch interval lets the worker and the GUI thread hand over quickly.
    - No Qt GUI thread pool: Qt's raster engine otherwise hands every fill taller than about
      96 lines to pool threads and waits for them, which on a pen event costs more than the
      fill itself. Qt reads the variable when it first needs the pool (the first large paint).
    """
    sys.setswitchinterval(0.0005)
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def freeze_start_up_objects() -> None:
    """Once the first model is shown, move every object made so far (torch, Qt's wrappers, the
    model, the reference digits: hundreds of thousands) out of the cyclic garbage collector's
    reach. They live as long as the app; without this each full collection walks them all,
    a pause of about 0.4 s on a 2-core machine that can fall in the middle of a stroke or of
    reading a long training stream."""
    import gc

    gc.collect()
    gc.freeze()


def collect_garbage_on_the_gui_thread(interval_s: float = 1.0):
    """Python's cyclic collector runs wherever an allocation crosses its threshold: in a worker
    thread, where freeing a Qt object's wrapper deletes the object off its own thread, or inside
    a Qt call that holds a lock the freed object's destructor needs (a signal's disconnect: a
    window's closed menu, freed there, waited on that lock for ever). Automatic collection is
    switched off and the GUI thread collects between events, on a timer (pyqtgraph's
    ``GarbageCollector``). Keep the returned object as long as the app runs."""
    from pyqtgraph.util.garbage_collector import GarbageCollector

    return GarbageCollector(interval=interval_s)


@contextlib.contextmanager
def past_pysides_import_hook():
    """Imports made meanwhile skip PySide6's import hook.

    Once PySide6 is loaded it replaces ``builtins.__import__`` (for its ``__feature__``
    switches, which aegui does not use) and, after every module imported, reads that module's
    source to see whether it mentions PySide6: a quarter of torch's import (about 1,000
    modules, the longest step before a model is shown) and a tenth of the window's modules'.
    PySide6 keeps the plain import as ``builtins.__orig_import__``; modules imported through
    it are not registered with the hook and keep PySide's default behaviour. Use it where no
    other thread imports at the same time (start-up)."""
    import builtins

    hooked, plain = builtins.__import__, getattr(builtins, "__orig_import__", None)
    if plain is None or hooked is plain:  # no PySide6 yet, or already set aside
        yield
        return
    builtins.__import__ = plain
    try:
        yield
    finally:
        builtins.__import__ = hooked


def import_torch():
    """torch, imported past PySide6's import hook (see ``past_pysides_import_hook``)."""
    with past_pysides_import_hook():
        import torch
    return torch


def configure_torch_for_live_drawing() -> None:
    """One torch intra-op thread: a single 28x28 image is faster without a thread pool's
    hand-offs. Imports torch, so it runs in the background at start-up."""
    import_torch().set_num_threads(1)


def install_exception_dialog(log_path: Path) -> None:
    """Unexpected errors are logged and shown in a dialog; the app keeps running."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    log_path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("aegui")
    logger.setLevel(logging.INFO)
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler):
            logger.removeHandler(handler)
            handler.close()
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)

    def hook(kind, value, trace) -> None:
        details = "".join(traceback.format_exception(kind, value, trace))
        logger.error("unexpected error\n%s", details)
        handler.flush()
        sys.__stderr__.write(details)
        if QApplication.instance() is None:
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "Unexpected error", f"{kind.__name__}: {value}\n\nThe app keeps running. Details were written to {log_path}.")
        box.setDetailedText(details)
        box.open()
        hook.last_box = box

    sys.excepthook = hook


def create_window(settings_store, reference=None):
    """Settings, executor and explorer first, then the window given them (no model yet)."""
    from aegui.core.explorer import Explorer
    from aegui.core.resources import load_reference_digits
    from aegui.qt.main_window import MainWindow
    from aegui.qt.settings import PROJECTION, Settings
    from aegui.qt.worker import LatestWinsExecutor

    settings = Settings(settings_store)
    executor = LatestWinsExecutor()
    explorer = Explorer(reference if reference is not None else load_reference_digits(), executor, projection_method=settings.read(PROJECTION))
    window = MainWindow(explorer, executor, settings)
    executor.setParent(window)
    return window


def first_model_path(window, checkpoint: Path | None) -> Path:
    """The model named on the command line, else the one shown when aegui last closed (the
    newest recent file that still exists), else the bundled default."""
    recent = window.settings.recent_files()
    return Path(checkpoint) if checkpoint else Path(recent[0]) if recent else DEFAULT_CHECKPOINT


def open_first_model(window, path: Path) -> None:
    """Open the model named on the command line; if it is refused, say why (the window's dialog,
    and a line on stderr) and open the bundled default instead, so there is always a model to
    draw into."""
    path = Path(path)
    if path == DEFAULT_CHECKPOINT:
        window.open_model(path)
        return

    def refused(message: str) -> None:
        window.model_refused.disconnect(refused)
        window.model_shown.disconnect(shown)
        if window.explorer.session is None:
            print(f"aegui: could not open {path}: {' '.join(message.split())} Opening the bundled default model instead.", file=sys.stderr, flush=True)
            window.model_shown.connect(default_shown)
            window.open_model(DEFAULT_CHECKPOINT)
            window.add_to_error("The bundled default model opens instead.")

    def default_shown(session) -> None:
        """Said once the default is on show: said before, "Loaded …" replaced it at once."""
        window.model_shown.disconnect(default_shown)
        window.statusBar().showMessage(f"Could not open {path.name}; showing the bundled default model ({session.model.path.name}: k = {session.latent_dim})", 15000)

    def shown(_session) -> None:
        window.model_refused.disconnect(refused)
        window.model_shown.disconnect(shown)

    window.model_refused.connect(refused)
    window.model_shown.connect(shown)
    window.open_model(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.install_desktop_entry:
        from aegui.core.desktop_entry import install_desktop_entry

        for path in install_desktop_entry():
            print(f"wrote {path}")
        return 0
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    configure_process_for_live_drawing()
    try:
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication
    except ImportError as error:  # e.g. libEGL.so.1: cannot open shared object file
        print(f"aegui cannot start Qt: {error}. Install the system libraries the README's set-up names (Debian/Ubuntu: sudo apt-get install {' '.join(dict.fromkeys(XCB_LIBRARIES.values()))}).", file=sys.stderr)
        return 1

    app = QApplication.instance() or QApplication(sys.argv[:1])
    garbage_collector = collect_garbage_on_the_gui_thread()  # noqa: F841 (its timer runs while app.exec() does)
    app.setApplicationName("aegui")
    app.setOrganizationName("aegui")
    install_exception_dialog(log_file_path())
    store = QSettings(str(args.settings), QSettings.Format.IniFormat) if args.settings else QSettings()
    with past_pysides_import_hook():  # the window's modules, imported as it is built
        window = create_window(store)
    window.restore_layout()

    window.first_painted.connect(lambda: open_start_up_files(window, args))
    window.show()
    return app.exec()


def open_start_up_files(window, args: argparse.Namespace) -> None:
    """Once the window has painted (torch's import must not delay the first frame): torch is
    imported in the background, then the model loads (its job would otherwise import torch
    itself, through PySide6's import hook); the run given with --watch is followed at once."""

    def first_model_shown(_session) -> None:
        window.model_shown.disconnect(first_model_shown)
        freeze_start_up_objects()

    def torch_imported(_result) -> None:
        window.model_shown.connect(first_model_shown)
        open_first_model(window, first_model_path(window, args.checkpoint))  # a torch that failed to import is reported by the model's job

    window.executor.submit(STARTUP_CHANNEL, configure_torch_for_live_drawing, torch_imported, torch_imported)
    if args.watch is not None:
        window.watch_training_run(args.watch)


if __name__ == "__main__":
    sys.exit(main())
