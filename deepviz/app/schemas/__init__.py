"""Request and response models of the HTTP API v1, one module per topic. Every size a user
controls is bounded here or, where the bound is a setting, checked against ``Settings``."""

from deepviz.app.schemas.backprop import *  # noqa: F403
from deepviz.app.schemas.classroom import *  # noqa: F403
from deepviz.app.schemas.cnn import *  # noqa: F403
from deepviz.app.schemas.common import BAD_INPUT, ErrorItem, ErrorOut, Finite, Name, Strict  # noqa: F401
from deepviz.app.schemas.lenet import *  # noqa: F403
from deepviz.app.schemas.optimize import *  # noqa: F403
