"""Models of the classroom routes (/api/v1/classes/...). Sizes are bounded by the settings
(max_class_state_bytes, max_name_length, max_question_length, max_poll_options), checked by
app/classroom/classes.py with a message naming the limit; the bounds written here are only
the hard ceilings no setting may exceed."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from deepviz.app.schemas.common import Finite, Strict

__all__ = ["JoinRequest", "StateRequest", "ModeRequest", "PollRequest", "AnswerRequest", "RevealRequest", "ClassOut",
           "JoinOut", "SeqOut", "PollOut", "AnswerOut", "PollResultOut", "ClassInfoOut", "QuestionOut",
           "DrawingRequest", "DrawingOut", "GalleryOut"]  # fmt: skip

Text = Annotated[str, Field(max_length=5000)]


def _printable(text: str) -> str:
    if not text.isprintable():
        raise ValueError("only printable characters (no line breaks or control characters)")
    return text


class JoinRequest(Strict):
    name: Text = Field("", description="a display name, shown only to the instructor (default: anonymous)")

    @field_validator("name")
    @classmethod
    def _name_printable(cls, name: str) -> str:
        return _printable(name)


class StateRequest(Strict):
    page: str = Field(
        pattern=r"^/[A-Za-z0-9_\-/]*$", max_length=100, description="the page's path", examples=["/backprop"]
    )
    state: dict[Annotated[str, Field(max_length=100)], Text] = Field(
        default_factory=dict,
        description="the page's URL state, parameter by parameter (at most max_class_state_bytes as JSON, "
        "with the page)",
        examples=[{"preset": "notes", "phase": "backward"}],
    )


Mode = Literal["paced", "locked", "released"]


class ModeRequest(Strict):
    mode: Mode = Field(
        description="paced: the students' pages follow (each may explore alone); locked: every page follows; "
        "released: every page explores freely",
        examples=["released"],
    )


class PollRequest(Strict):
    question: Text = Field(min_length=1, description="at most max_question_length characters")
    kind: Literal["choice", "number", "drawing"] = Field(
        description="choose an option, give a number, or draw the digit `target` on /lenet"
    )
    options: list[Text] = Field(
        default_factory=list, max_length=100, description="for a choice: 2 to max_poll_options options"
    )
    target: int | None = Field(None, ge=0, le=9, description="for a drawing: the digit asked", examples=[7])

    @field_validator("question")
    @classmethod
    def _question_printable(cls, question: str) -> str:
        return _printable(question)


class AnswerRequest(Strict):
    value: Finite = Field(description="a choice's index (0 for the first option), or a number")


class RevealRequest(Strict):
    answer: Finite | None = Field(None, description="the right answer (a choice's index, or a number), if any")
    show: StateRequest | None = Field(
        None, description="the page state that shows the answer: sent to the followers as a state after the reveal"
    )


class QuestionOut(BaseModel):
    question: str
    kind: Literal["choice", "number"]
    options: list[str]
    answer: float = Field(description="computed by the engine: a choice's index, or the number")
    show: StateRequest = Field(description="the page and its state that show the answer (for the reveal)")


class ClassOut(BaseModel):
    code: str = Field(description="what students type to join")
    instructor_token: str = Field(description="whoever holds it drives the class: keep it secret")
    join_url: str


class JoinOut(BaseModel):
    student_id: str
    student_token: str = Field(description="for following (WebSocket) and answering (Bearer)")


class SeqOut(BaseModel):
    seq: int = Field(description="the change's place in the class's order of events")


class PollOut(BaseModel):
    poll_id: str
    seq: int


class AnswerOut(BaseModel):
    poll_id: str
    value: float


class CountOut(BaseModel):
    value: float
    count: int


class StudentAnswerOut(BaseModel):
    student_id: str
    name: str
    value: float


class PollResultOut(BaseModel):
    poll_id: str
    question: str
    kind: Literal["choice", "number", "drawing"]
    options: list[str]
    target: int | None = Field(None, description="a drawing poll's digit (its answers are LeNet-5's readings)")
    revealed: bool
    total: int = Field(description="students who answered")
    counts: list[CountOut] = Field(description="for each answer given, how many gave it (every option of a choice)")
    answers: list[StudentAnswerOut] = Field(description="who answered what: for the instructor only")


class StudentOut(BaseModel):
    student_id: str
    name: str


class ClassInfoOut(BaseModel):
    code: str
    seq: int
    students: int = Field(description="students who joined")
    connected: int = Field(description="pages following the class now (a student's tab each), on every instance")
    polls: int
    mode: Mode = Field(description="paced, locked or released (see POST /classes/{code}/mode)")
    page: str | None = Field(description="the instructor's page, None before their first state")
    state: dict[str, str] | None
    names: list[StudentOut] = Field(description="the students who gave a name")


Level = Annotated[int, Field(ge=0, le=255)]


class DrawingRequest(Strict):
    pixels: list[Annotated[list[Level], Field(min_length=28, max_length=28)]] = Field(
        min_length=28,
        max_length=28,
        description="the 28×28 image LeNet-5 saw on /lenet (light ink on black, MNIST's format): 28 rows of 28 "
        "grey levels, whole numbers 0 to 255; nothing else of the drawing is sent",
    )


class DrawingOut(BaseModel):
    poll_id: str
    reading: int = Field(description="the digit the served LeNet-5 reads in the drawing")


class DrawingItemOut(BaseModel):
    student_id: str
    name: str = Field(description="as typed ('' for none): show it as text, never as HTML")
    reading: int
    ink: str = Field(description="the 28×28 levels 0..255, base64url without padding: /lenet?ink=… shows it")


class ConfusionOut(BaseModel):
    matrix: list[list[int]] = Field(description="10×10: row = the digit asked, column = LeNet-5's reading")
    total: int
    correct: int = Field(description="drawings read as the digit asked (the diagonal)")
    accuracy: float | None = Field(description="correct / total; None before the first drawing")


class GalleryOut(BaseModel):
    poll_id: str
    question: str
    target: int
    total: int = Field(description="drawings sent for this poll (one per student)")
    correct: int = Field(description="of them, read as the target")
    accuracy: float | None = Field(description="correct / total; None before the first drawing")
    drawings: list[DrawingItemOut]
    confusion: ConfusionOut = Field(description="over all the class's drawing polls")
