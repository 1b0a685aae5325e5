"""What routes receive from FastAPI besides their request body: the settings and the budget."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from deepviz.app.budget import UNLIMITED, Budget
from deepviz.app.settings import Settings, get_settings


def get_budget(request: Request) -> Budget:
    """The request's budget, set by the Work middleware (unlimited where there is none)."""
    return getattr(request.state, "budget", UNLIMITED)


SettingsDep = Annotated[Settings, Depends(get_settings)]
BudgetDep = Annotated[Budget, Depends(get_budget)]
