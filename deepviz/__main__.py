"""``python -m deepviz serve`` is ``deepviz serve``."""

from deepviz.app.cli import main

main()
