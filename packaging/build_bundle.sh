#!/usr/bin/env bash
# Build the self-contained AVR Studio bundle into dist/avr-studio/ and smoke-test it.
# Usage: packaging/build_bundle.sh   (from the repository root, after `make setup`)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-$root/.venv/bin/python}"
# The BlazePose models go inside the bundle: install them (idempotent: a digest check when
# present) into the build machine's model folder, where the spec takes them from.
"$py" -m avr_gui.cli models install pose
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
# The bundle finds its own models: with an empty $AVR_MODELS_DIR (which replaces the user
# folder) the only place left is the bundle's avr-models/ folder.
empty="$(mktemp -d)"
status="$(AVR_MODELS_DIR="$empty" "$app" cli models list)"
rmdir "$empty"
echo "$status"
case "$status" in
    *"pose models ready ("*"/_internal/avr-models)"*) ;;
    *) echo "build_bundle.sh: the bundle does not find its pose models" >&2; exit 1 ;;
esac
du -sh "$root/dist/avr-studio"
