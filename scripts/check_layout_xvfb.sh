#!/bin/sh
# The layout probe (tests/qt/layout_probe.py) on a real X server: Xvfb as a 1366 x 768 and a
# 1280 x 720 screen, Qt's xcb platform, the fonts the machine has. Lists every configuration
# and exits with 1 if anything is cut, elided, too small or off the screen.
#
#   sudo apt-get install xvfb xauth fonts-dejavu-core   # plus the Qt libraries the README lists
#   scripts/check_layout_xvfb.sh [FOLDER]               # FOLDER keeps the k = 16 / 64 test models
set -eu
cd "$(dirname "$0")/.."
models="${1:-$(mktemp -d)}"
status=0
for screen in 1366x768 1280x720; do
    QT_QPA_PLATFORM=xcb PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" \
        xvfb-run -a -s "-screen 0 ${screen}x24" python -m tests.qt.layout_probe --models "$models" --strict \
        > "$models/layout-$screen.json" || status=1
done
exit $status
