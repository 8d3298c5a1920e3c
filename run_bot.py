#!/usr/bin/env python3
"""Entry point: the Telegram bot with no arguments; `index`, `ask`, `chat`, `eval`, `bench` otherwise.

    python run_bot.py --help
"""
import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
