"""``avr models``: install and list the model files the pose backends need."""

from __future__ import annotations

import argparse
import json
import sys

from avr_gui.cli.options import add_json_option, progress_for


def cmd_models_install(args: argparse.Namespace) -> int:
    """Install a model group (``pose``: BlazePose from the MediaPipe wheel).

    With ``--if-missing`` nothing is fetched when the models are already usable (found
    intact in ``--dir``, or without it anywhere on the search path, the bundle's folder
    included); one status line is printed instead.
    """
    from avr_gui.core.features.pose.models import (
        default_model_dir,
        install_pose_models,
        pose_models_status,
    )

    # Without --dir the core reads the models.dir setting itself (default_model_dir),
    # and a listing still searches the bundle's folder after it.
    chosen = args.dir
    folder = chosen or default_model_dir()
    if args.if_missing:
        ok, message = pose_models_status(chosen)
        if ok:
            if args.json:
                json.dump({"group": args.group, "installed": False, "status": message}, sys.stdout)
                print()
            else:
                print(message)
            return 0
    paths = install_pose_models(
        folder, wheel=args.wheel, force=args.force, progress=progress_for(args, every_message=True)
    )
    if args.json:
        json.dump(
            {"group": args.group, "dir": str(folder), "files": [str(p) for p in paths]}, sys.stdout
        )
        print()
    else:
        for p in paths:
            print(p)
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    """List the known model files, whether they are installed and intact, and the status.

    Without ``--dir`` the folder listed is the one the app would use (the first on the
    search path holding both files), else the install folder.
    """
    from avr_gui.core.features.pose.models import (
        default_model_dir,
        find_pose_model_dir,
        list_models,
        model_search_path,
        pose_models_status,
    )

    # Without --dir the core reads the models.dir setting itself (default_model_dir),
    # and a listing still searches the bundle's folder after it.
    chosen = args.dir
    folder = chosen or find_pose_model_dir() or default_model_dir()
    rows = list_models(folder)
    ok, message = pose_models_status(chosen)
    if args.json:
        json.dump(
            {
                "dir": str(folder),
                "search_path": [str(p) for p in model_search_path()],
                "status": {"available": ok, "message": message},
                "models": rows,
            },
            sys.stdout,
            indent=2,
        )
        print()
        return 0
    print(f"model folder: {folder}")
    for r in rows:
        state = "installed" if r["intact"] else ("DAMAGED" if r["installed"] else "missing")
        print(f"  {r['group']:5s} {r['name']:28s} {state}")
    print(message)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``avr models install`` and ``avr models list``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
    """
    mo = sub.add_parser(
        "models",
        help="install or list model files (pose models)",
        description="Model files are looked for in $AVR_MODELS_DIR (else "
        "~/.local/share/avr-studio/models), then in the app bundle's own folder; "
        "installs go to the first.",
    )
    msub = mo.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    ins = msub.add_parser(
        "install",
        help="install a model group",
        description="pose: fetch the mediapipe==0.10.21 wheel with pip (no dependencies, "
        "nothing installed into Python) and extract only the BlazePose detector and "
        "landmark model (Apache-2.0) into the model folder.",
    )
    ins.add_argument("group", choices=("pose",))
    ins.add_argument(
        "--dir", default=None, help="model folder (default from config models.dir, else the user's)"
    )
    ins.add_argument(
        "--wheel",
        default=None,
        metavar="FILE",
        help="use this mediapipe 0.10.21 wheel instead of downloading",
    )
    ins.add_argument("--force", action="store_true", help="reinstall even if intact")
    ins.add_argument(
        "--if-missing",
        action="store_true",
        help="do nothing (print one status line) when the models are already usable",
    )
    add_json_option(ins, "print a JSON summary")
    ins.set_defaults(func=cmd_models_install)
    ls = msub.add_parser("list", help="list model files and their state")
    ls.add_argument(
        "--dir", default=None, help="model folder (default from config models.dir, else the user's)"
    )
    add_json_option(ls, "print JSON")
    ls.set_defaults(func=cmd_models_list)
