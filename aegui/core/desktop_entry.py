"""A Linux desktop entry for aegui: the launcher and its icon, per user, as XDG describes them.

``aegui --install-desktop-entry`` writes ``$XDG_DATA_HOME/applications/aegui.desktop`` and
the icon under ``$XDG_DATA_HOME/icons/hicolor/256x256/apps/`` (``~/.local/share`` by
default), so the app appears in the desktop's application menu with its icon.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from aegui.core.resources import ICON

DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=aegui
GenericName=Autoencoder latent space explorer
Comment=Draw a digit and watch an autoencoder's latent code
Exec={command} %f
Icon=aegui
Terminal=false
Categories=Education;Science;ArtificialIntelligence;
Keywords=autoencoder;latent;MNIST;machine learning;
"""


def data_home(environ=os.environ) -> Path:
    return Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launch_command() -> str:
    """The command a launcher runs: the installed ``aegui`` script, else this Python with -m."""
    script = shutil.which("aegui")
    return shlex.quote(script) if script else f"{shlex.quote(sys.executable)} -m aegui"


def install_desktop_entry(target: Path | None = None, command: str | None = None) -> list[Path]:
    """Write the desktop entry and the icon; return the files written."""
    target = Path(target) if target is not None else data_home()
    entry = target / "applications" / "aegui.desktop"
    icon = target / "icons" / "hicolor" / "256x256" / "apps" / "aegui.png"
    entry.parent.mkdir(parents=True, exist_ok=True)
    icon.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(DESKTOP_ENTRY.format(command=command or launch_command()))
    shutil.copyfile(ICON, icon)
    return [entry, icon]
