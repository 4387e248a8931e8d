#!/usr/bin/env bash
# Build the self-contained AVR Studio bundle into dist/avr-studio/ and smoke-test it.
# Usage: packaging/build_bundle.sh   (from the repository root, after `make setup`)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-$root/.venv/bin/python}"
cd "$root/packaging"
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$root/dist" --workpath "$root/build/pyinstaller" avr-studio.spec
app="$root/dist/avr-studio/avr-studio"
cp "$root/resources/avr-studio.svg" "$root/dist/avr-studio/"
cp "$root/packaging/avr-studio.desktop" "$root/dist/avr-studio/"
"$app" --version
if command -v xvfb-run >/dev/null; then
    xvfb-run -a "$app" --smoke-test
else
    QT_QPA_PLATFORM=offscreen "$app" --smoke-test
fi
du -sh "$root/dist/avr-studio"
