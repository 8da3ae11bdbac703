"""Start the KeepSmiling desktop app (``python main.py [PHOTO]``)."""

from keepsmiling_gui.app import main

if __name__ == "__main__":
    raise SystemExit(main())
