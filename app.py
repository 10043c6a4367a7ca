"""f5ui launcher: parse options, then serve. Everything else lives in the f5ui package."""

import argparse

from f5ui import hosting
from f5ui.config import add_cli_arguments, from_args


def main() -> None:
    parser = argparse.ArgumentParser(description="f5ui: voice-cloning studio on F5-TTS. "
                                     "Every flag also has an environment variable (see README).")
    add_cli_arguments(parser)
    settings = hosting.apply(from_args(parser.parse_args()))  # data volume and caches, before any library import
    from f5ui.server import serve  # imported after parsing so --help is instant

    serve(settings)


if __name__ == "__main__":
    main()
