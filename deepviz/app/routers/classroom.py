"""Classroom mode's API: the instructor creates a class and drives it, students join, follow
(WebSocket) and answer polls. The rules are in app/classroom/classes.py; docs/classroom.md
tells the design."""

from __future__ import annotations

import io
from typing import Annotated

import segno
from fastapi import APIRouter, Body, Depends, Path, Request, Response, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from deepviz.app import frames
from deepviz.app import questions as ready_made
from deepviz.app.classroom import drawings as hall
from deepviz.app.classroom.classes import Classroom
from deepviz.app.classroom.follow import follow as follow_session
from deepviz.app.classroom.tokens import normal_code
from deepviz.app.dependencies import BudgetDep, SettingsDep
from deepviz.app.errors import InputError
from deepviz.app.schemas import (
    BAD_INPUT,
    AnswerOut,
    AnswerRequest,
    ClassInfoOut,
    ClassOut,
    DrawingOut,
    DrawingRequest,
    ErrorOut,
    GalleryOut,
    JoinOut,
    JoinRequest,
    ModeRequest,
    PollOut,
    PollRequest,
    PollResultOut,
    QuestionOut,
    RevealRequest,
    SeqOut,
    StateRequest,
)

router = APIRouter(prefix="/api/v1/classes", tags=["classroom"])


def _error(description: str) -> dict:
    return {"model": ErrorOut, "description": description}


ERRORS = {
    **BAD_INPUT,
    404: _error("no class with this code, or the token is not one of its own (the same answer for both)"),
    503: _error("the server is busy, classroom mode is off, or the class store is unreachable: see msg"),
}
AS_INSTRUCTOR = {**ERRORS, 401: _error("no Authorization: Bearer <instructor_token> header")}
AS_STUDENT = {**ERRORS, 401: _error("no Authorization: Bearer <student_token> header")}
CLOSED = {409: _error("the poll is closed: its answer was revealed")}

instructor_bearer = HTTPBearer(auto_error=False, scheme_name="instructor", description="the instructor_token")
student_bearer = HTTPBearer(auto_error=False, scheme_name="student", description="a student_token")
Code = Annotated[str, Path(max_length=32, description="the class's join code", examples=["K7QX2M"])]
PollId = Annotated[str, Path(max_length=16, examples=["p1"])]


def get_classroom(request: Request) -> Classroom:
    classroom = request.app.state.classroom
    if classroom is None:
        raise InputError(["server"], request.app.state.classroom_off, "classroom_off", status=503)
    return classroom


ClassroomDep = Annotated[Classroom, Depends(get_classroom)]
InstructorAuth = Annotated[HTTPAuthorizationCredentials | None, Depends(instructor_bearer)]
StudentAuth = Annotated[HTTPAuthorizationCredentials | None, Depends(student_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials else None


def _address(request: Request) -> str:
    return (request.client.host if request.client else None) or "?"


@router.post("", response_model=ClassOut, status_code=201, responses={**ERRORS, 429: _error("too many classes")})
async def create_class(request: Request, classroom: ClassroomDep) -> dict:
    """Open a class: its join code, the instructor's token (keep it: it drives the class) and
    the students' join link. A class ends when its instructor ends it, or class_ttl seconds
    (4 h) after its last activity."""
    return await classroom.create(_address(request), str(request.base_url))


@router.post(
    "/{code}/join",
    response_model=JoinOut,
    status_code=201,
    responses={**ERRORS, 409: _error("the class is full"), 429: _error("too many wrong codes from this address")},
)
async def join(
    code: Code, request: Request, classroom: ClassroomDep, body: Annotated[JoinRequest | None, Body()] = None
) -> dict:
    """Join a class with its code, optionally with a display name (only the instructor sees
    it). The student token lets the page follow the class and answer its polls.

    Following is a WebSocket (not listed in OpenAPI): `WS /api/v1/classes/{code}/follow?student_token=…`
    sends the class's events as JSON, in order, the current ones at once: `{"type": "state",
    "seq", "page", "state"}`, `{"type": "poll", "seq", "poll_id", "question", "kind", "options"}`,
    `{"type": "reveal", "seq", "poll_id", "answer"}`, `{"type": "mode", "seq", "mode"}`,
    `{"type": "ended", "seq"}`. It closes with
    1000 after "ended", 4401 without a token, 4404 for a wrong code or token, 1012 to reconnect
    (the server's feed was reset), 1013 to try again later (full, or the class store unreachable),
    1008 for a client that sends too much (docs/classroom.md)."""
    return await classroom.join(code, body.name if body else "", _address(request))


@router.post("/{code}/state", response_model=SeqOut, responses=AS_INSTRUCTOR)
async def state(code: Code, body: StateRequest, auth: InstructorAuth, classroom: ClassroomDep) -> dict:
    """The instructor's page and its URL state, sent to every follower. A class that the
    server lost (a Redis restart) is restored by its instructor's next state."""
    found, token = classroom.instructor(code, _token(auth))
    return {"seq": await classroom.state(found, token, body.page, body.state)}


@router.post("/{code}/mode", response_model=SeqOut, responses=AS_INSTRUCTOR)
async def mode(code: Code, body: ModeRequest, auth: InstructorAuth, classroom: ClassroomDep) -> dict:
    """Pace, lock or release the class. Followers get {"type": "mode", "seq", "mode"}: "paced",
    their pages follow (each student may explore alone); "locked", every page follows and
    none may leave; "released", every page explores freely. Back from "released", and on
    "locked", every page jumps to the instructor's current state."""
    found, token = classroom.instructor(code, _token(auth))
    return {"seq": await classroom.mode(found, token, body.mode)}


@router.get("/{code}", response_model=ClassInfoOut, responses=AS_INSTRUCTOR)
async def class_info(code: Code, auth: InstructorAuth, classroom: ClassroomDep) -> dict:
    """For the instructor: the class's page and state, students, polls, and the names given."""
    found, token = classroom.instructor(code, _token(auth))
    return await classroom.info(found, token)


@router.post("/{code}/end", response_model=SeqOut, responses=AS_INSTRUCTOR)
async def end(code: Code, auth: InstructorAuth, classroom: ClassroomDep) -> dict:
    """End the class now: followers get {"type": "ended"}, and everything about it is deleted."""
    found, token = classroom.instructor(code, _token(auth))
    return {"seq": await classroom.end(found, token)}


@router.post(
    "/{code}/polls", response_model=PollOut, status_code=201, responses={**AS_INSTRUCTOR, 409: _error("too many polls")}
)
async def add_poll(code: Code, body: PollRequest, auth: InstructorAuth, classroom: ClassroomDep) -> dict:
    """Ask the class a question: a choice among options, a number, or a drawing of the digit
    `target` (students answer it from /lenet: POST …/drawings). Followers get it as {"type":
    "poll", "poll_id", "question", "kind", "options"} (and "target" for a drawing)."""
    found, token = classroom.instructor(code, _token(auth))
    return await classroom.add_poll(found, token, body.question, body.kind, body.options, body.target)


@router.post("/{code}/questions", response_model=list[QuestionOut], responses=AS_INSTRUCTOR)
async def questions(
    code: Code,
    body: StateRequest,
    auth: InstructorAuth,
    classroom: ClassroomDep,
    settings: SettingsDep,
    budget: BudgetDep,
) -> list[dict]:
    """For the instructor: the ready-made questions the page offers for this state (/backprop,
    /convolution, /lenet, /optimizers, /pooling, /receptive-field, /training; none for other
    pages), each with its answer computed by
    the engine and the page state that shows it (`show`: pass it to the reveal). Ask one by
    posting its question, kind and options as a poll. The state is checked as the page's own
    API checks it: 422 with loc ["body", "state", <parameter>]."""
    found, token = classroom.instructor(code, _token(auth))
    await classroom.info(found, token)  # the class exists
    return await run_in_threadpool(ready_made.questions, body.page, body.state, settings, budget.check)


@router.get("/{code}/polls/{poll_id}", response_model=PollResultOut, responses=AS_INSTRUCTOR)
async def poll_result(code: Code, poll_id: PollId, auth: InstructorAuth, classroom: ClassroomDep) -> dict:
    """For the instructor: the poll, how many gave each answer, and who answered what."""
    found, token = classroom.instructor(code, _token(auth))
    return await classroom.poll_result(found, token, poll_id)


@router.post("/{code}/polls/{poll_id}/answers", response_model=AnswerOut, responses={**AS_STUDENT, **CLOSED})
async def answer(code: Code, poll_id: PollId, body: AnswerRequest, auth: StudentAuth, classroom: ClassroomDep) -> dict:
    """A student's answer (one per student: a new one replaces the old), until the reveal."""
    found, token = classroom.student(code, _token(auth))
    return await classroom.answer(found, token, poll_id, body.value)


DRAWING_ERRORS = {
    409: _error("the poll is closed (revealed), is not a drawing poll, or the class keeps max_drawings_per_class")
}


@router.post("/{code}/polls/{poll_id}/drawings", response_model=DrawingOut, responses={**AS_STUDENT, **DRAWING_ERRORS})
async def send_drawing(
    code: Code, poll_id: PollId, body: DrawingRequest, auth: StudentAuth, classroom: ClassroomDep
) -> dict:
    """A student's drawing for a drawing poll: the 28×28 image LeNet-5 saw on /lenet, as grey
    levels 0–255 (nothing else: no strokes, no name). The served LeNet-5 reads it; the reading
    counts as the student's answer and the drawing is kept for the instructor's gallery (one
    per student: a new drawing replaces the old), until the reveal."""
    found, token = classroom.student(code, _token(auth))
    await hall.drawing_poll(classroom, found, token, poll_id)
    image = hall.image_of(body.pixels)
    reading = await run_in_threadpool(frames.reading, image)
    return await hall.draw(classroom, found, token, poll_id, reading, frames.ink(image))


@router.get(
    "/{code}/polls/{poll_id}/gallery",
    response_model=GalleryOut,
    responses={**AS_INSTRUCTOR, 409: _error("not a drawing poll")},
)
async def gallery(code: Code, poll_id: PollId, auth: InstructorAuth, classroom: ClassroomDep) -> dict:
    """For the instructor: a drawing poll's drawings (each with LeNet-5's reading and the
    student's name, if given), its accuracy, and the class's confusion matrix over all its
    drawing polls (row: the digit asked; column: the digit read). A drawing's `ink` shown on
    /lenet (`/lenet?ink=…`) puts it on the projector."""
    found, token = classroom.instructor(code, _token(auth))
    return await hall.gallery(classroom, found, token, poll_id)


@router.post("/{code}/polls/{poll_id}/reveal", response_model=SeqOut, responses={**AS_INSTRUCTOR, **CLOSED})
async def reveal(
    code: Code, poll_id: PollId, auth: InstructorAuth, classroom: ClassroomDep, body: RevealRequest | None = None
) -> dict:
    """Close the poll and show its answer to the followers: {"type": "reveal", "poll_id",
    "answer"} (students never see others' answers nor the counts). With `show` (a page and its
    state, as a ready-made question gives), the followers then get that state: the class
    moves to the page that shows the answer. The seq is the last event's."""
    found, token = classroom.instructor(code, _token(auth))
    seq = await classroom.reveal(found, token, poll_id, body.answer if body else None)
    if body and body.show:
        seq = await classroom.state(found, token, body.show.page, body.show.state)
    return {"seq": seq}


@router.websocket("/{code}/follow")
async def follow(socket: WebSocket, code: str, student_token: str | None = None) -> None:
    """The instructor's events, in order: the current ones at once, then each as it happens
    (app/classroom/follow.py says how it closes)."""
    await follow_session(socket, code, student_token)


@router.get(
    "/{code}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the QR code"}, **BAD_INPUT},
)
def join_qr(code: Code, request: Request) -> Response:
    """The class's join link as a QR code (SVG), for the projector. Drawn from the code alone:
    it says nothing about whether the class exists."""
    normal = normal_code(code)
    if normal is None:
        raise InputError(["path", "code"], "a join code is 6 letters and digits (no 0, O, 1 or I)", "bad_code")
    svg = io.BytesIO()
    join_url = f"{str(request.base_url).rstrip('/')}/join?code={normal}"
    segno.make(join_url, error="m").save(svg, kind="svg", scale=8, border=2, xmldecl=False, svgns=True)
    return Response(svg.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})
