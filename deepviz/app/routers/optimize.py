"""POST /api/v1/optimize and GET /api/v1/optimize/options: the optimizers page's race."""

from __future__ import annotations

from fastapi import APIRouter

from deepviz.app.dependencies import BudgetDep, SettingsDep
from deepviz.app.errors import InputError
from deepviz.app.mathml import tex
from deepviz.app.schemas import BAD_INPUT, OptimizeOut, OptimizeRequest, OptionsOut
from deepviz.app.schemas.optimize import START_BOUND
from deepviz.app.settings import Settings
from deepviz.lessons import race, surfaces

router = APIRouter(prefix="/api/v1/optimize", tags=["optimizers"])

OPTIONS = {  # the fields of a racer each optimizer reads
    "gd": ["learning_rate"],
    "sgd": ["learning_rate"],
    "minibatch": ["learning_rate", "batch_size"],
    "momentum": ["learning_rate", "momentum"],
    "nesterov": ["learning_rate", "momentum"],
    "adam": ["learning_rate"],
    "rmsprop": ["learning_rate"],
    "newton": ["learning_rate", "damping"],
    "newton_safeguarded": ["learning_rate", "damping"],
}


def surface_json(surface: surfaces.Surface) -> dict:
    return {
        "name": surface.name,
        "title": surface.title,
        "formula": str(tex(surface.formula, display=True)),
        "extent": list(surface.extent),
        "start": list(surface.start),
        "minima": [list(m) for m in surface.minima],
        "minimum": surface.minimum,
        "stationary": [{"x": x, "y": y, "kind": kind} for x, y, kind in surface.stationary],
        "optimizers": list(surface.optimizers),
        "learning_rates": {name: surface.learning_rates[name] for name in surface.optimizers},
        "examples": surface.examples,
        "note": surface.note,
    }


def _check_sizes(request: OptimizeRequest, settings: Settings) -> None:
    """The limits of settings, before anything is built."""
    if request.steps > settings.max_optimize_steps:
        raise InputError(["body", "steps"], f"at most {settings.max_optimize_steps} steps, not {request.steps}")
    if len(request.optimizers) > settings.max_racers:
        raise InputError(["body", "optimizers"], f"at most {settings.max_racers} optimizers in one race")
    if request.dataset.points > settings.max_optimize_points:
        raise InputError(["body", "dataset", "points"], f"at most {settings.max_optimize_points} points")


def _check(request: OptimizeRequest, surface: surfaces.Surface, settings: Settings) -> None:
    """What the schema cannot say: what this surface allows, and the race's cost."""
    seen = set()
    for i, racer in enumerate(request.optimizers):
        where = ["body", "optimizers", i, "name"]
        if racer.name in seen:
            raise InputError(where, f"optimizer {i + 1}: {racer.name} is already racing (each at most once)")
        seen.add(racer.name)
        if racer.name not in surface.optimizers:
            raise InputError(
                where,
                f"optimizer {i + 1}: {racer.name} samples examples, and only the logistic regression surface has "
                "examples (its loss is a mean over them): on this surface use gd",
            )
        if racer.name == "nesterov" and racer.momentum == 0:
            raise InputError(
                ["body", "optimizers", i, "momentum"],
                f"optimizer {i + 1}: Nesterov momentum needs a momentum μ above 0 (with 0 it is gradient descent)",
            )
        if racer.name == "minibatch" and racer.batch_size > surface.examples:
            raise InputError(
                ["body", "optimizers", i, "batch_size"],
                f"optimizer {i + 1}: the batch size is at most the dataset's {surface.examples} points",
            )
    racers = [race.Racer(r.name, r.learning_rate, r.momentum, r.batch_size, r.damping) for r in request.optimizers]
    cost = race.work(racers, request.steps)
    if cost > settings.max_optimize_work:
        raise InputError(
            ["body"],
            f"{request.steps} steps of these optimizers are {cost} steps of work (a Newton step counts "
            f"{race.NEWTON_COST}); the limit is {settings.max_optimize_work}: use fewer steps or fewer optimizers",
            kind="too_expensive",
        )


# Plain `def`: FastAPI runs it in a worker thread, so a slow request never blocks others.
@router.post("", response_model=OptimizeOut, responses=BAD_INPUT)
def optimize(request: OptimizeRequest, settings: SettingsDep, budget: BudgetDep) -> dict:
    """Race optimizers on a loss surface from one start: each one's trajectory [x, y, loss],
    step sizes and where it stopped (null, or "diverged" at the first non-finite value or
    far outside the plot), and the surface's contour."""
    _check_sizes(request, settings)
    if request.surface == "logistic":
        data = request.dataset
        surface = surfaces.make("logistic", dataset=data.name, points=data.points, noise=data.noise, seed=data.seed)
    else:
        surface = surfaces.make(request.surface, request.condition)
    _check(request, surface, settings)
    racers = [race.Racer(r.name, r.learning_rate, r.momentum, r.batch_size, r.damping) for r in request.optimizers]
    start = tuple(request.start) if request.start is not None else surface.start
    trajectories = race.race(surface, start, racers, request.steps, request.seed, between=budget.check)
    xs, ys, z = surface.contour(surfaces.GRID)
    return {
        "surface": surface_json(surface),
        "contour": {
            "x": xs.round(6).tolist(),
            "y": ys.round(6).tolist(),
            "z": z.round(4).tolist(),
            "label": f"log₁₀(L − L* + {surfaces.CONTOUR_EPSILON:g})",
        },
        "tolerance": race.within(surface),
        "trajectories": [
            {
                "name": t.name,
                "title": surfaces.OPTIMIZER_TITLES[t.name],
                "learning_rate": t.learning_rate,
                "points": [list(p) for p in t.points],
                "gaps": t.gaps,
                "step_sizes": t.step_sizes,
                "stopped": t.stopped,
                "reached": t.reached,
                "final_loss": t.points[-1][2],
                "notes": t.notes,
            }
            for t in trajectories
        ],
    }


@router.get("/options", response_model=OptionsOut)
def options(settings: SettingsDep) -> dict:
    """The surfaces (each at its defaults, with the optimizers that apply and their default
    learning rates), the optimizers and the options each reads, the datasets, the limits."""
    return {
        "surfaces": [surface_json(surfaces.make(name)) for name in surfaces.SURFACES],
        "optimizers": [
            {"name": name, "title": surfaces.OPTIMIZER_TITLES[name], "options": OPTIONS[name]}
            for name in surfaces.OPTIMIZERS
        ],
        "datasets": list(surfaces.DATASETS),
        "limits": {
            "steps": settings.max_optimize_steps,
            "racers": settings.max_racers,
            "work": settings.max_optimize_work,
            "newton_cost": race.NEWTON_COST,
            "points": settings.max_optimize_points,
            "start": START_BOUND,
            "condition": [1.0, 1000.0],
            "learning_rate": 100.0,
        },
    }
