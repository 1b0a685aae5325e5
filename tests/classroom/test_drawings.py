"""The hall's drawings (a drawing poll, "Draw a 7"), with the classes in process and in a real
Redis: LeNet-5's reading of each drawing is the one /api/v1/lenet/predict gives for the same
28×28; one drawing per student, a new one replacing the old, counted exactly (concurrently
too); the gallery, its accuracy and the confusion matrix for the instructor only; every bad
input a clear 4xx."""

from __future__ import annotations

import asyncio
import base64
import contextlib

import numpy as np
import pytest

from deepviz.lessons import lenet
from tests.classroom.conftest import Class, bearer

MISTAKES = lenet.mistakes()  # test digits the served model misreads, with its readings


def digit(i: int) -> list[list[int]]:
    return MISTAKES["images"][i].astype(int).tolist()


def predicted(client, pixels: list[list[int]]) -> int:
    """What the LeNet-5 page's own API reads in the same 28×28 (levels / 255)."""
    r = client.post("/api/v1/lenet/predict", json={"pixels": (np.array(pixels) / 255.0).tolist()})
    assert r.status_code == 200, r.text
    return r.json()["prediction"]


def ask(client, lesson: Class, target: int) -> str:
    r = client.post(f"{lesson.url}/polls", headers=lesson.instructor,
                    json={"question": f"Draw a {target}", "kind": "drawing", "target": target})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()["poll_id"]


def send(client, lesson: Class, poll_id: str, student: dict, pixels) -> object:
    return client.post(f"{lesson.url}/polls/{poll_id}/drawings", json={"pixels": pixels}, headers=bearer(student))


def levels(ink: str) -> list[list[int]]:
    raw = base64.urlsafe_b64decode(ink + "=" * (-len(ink) % 4))
    assert len(raw) == 784
    return np.frombuffer(raw, dtype=np.uint8).reshape(28, 28).astype(int).tolist()


def test_drawings_are_read_by_lenet_kept_one_per_student_and_shown_to_the_instructor(make_client):
    with make_client() as client:
        lesson = Class(client)
        ada, bob, cy = lesson.join("Ada"), lesson.join("<b>Bob</b>"), lesson.join()
        with lesson.follow(ada) as ws:
            ws.receive_json()
            poll_id = ask(client, lesson, 6)
            assert ws.receive_json() == {"type": "poll", "seq": 1, "poll_id": poll_id, "question": "Draw a 6",
                                         "kind": "drawing", "options": [], "target": 6}  # fmt: skip
        # MISTAKES[0] is a 6 the model reads as 0; [6] a 6 read as 0; [7] a 6 read as 5
        sent = {}
        for student, i in [(ada, 0), (bob, 7), (cy, 1)]:
            r = send(client, lesson, poll_id, student, digit(i))
            assert r.status_code == 200, r.text
            sent[student["student_id"]] = i
            assert r.json() == {"poll_id": poll_id, "reading": predicted(client, digit(i))}
            assert r.json()["reading"] == MISTAKES["predictions"][i]
        blank = [[0] * 28 for _ in range(28)]
        replaced = send(client, lesson, poll_id, cy, blank)  # Cy draws again: the new one replaces the old
        assert replaced.json()["reading"] == predicted(client, blank)
        sent[cy["student_id"]] = None

        gallery = client.get(f"{lesson.url}/polls/{poll_id}/gallery", headers=lesson.instructor).json()
        assert gallery["target"] == 6 and gallery["question"] == "Draw a 6" and gallery["total"] == 3
        names = {d["student_id"]: d["name"] for d in gallery["drawings"]}
        assert names == {ada["student_id"]: "Ada", bob["student_id"]: "<b>Bob</b>", cy["student_id"]: ""}
        for d in gallery["drawings"]:
            i = sent[d["student_id"]]
            assert levels(d["ink"]) == (blank if i is None else digit(i))  # the drawing as sent, byte for byte
        readings = [d["reading"] for d in gallery["drawings"]]
        assert gallery["correct"] == readings.count(6) and gallery["accuracy"] == readings.count(6) / 3
        # the readings are the poll's answers: counted once per student
        result = client.get(f"{lesson.url}/polls/{poll_id}", headers=lesson.instructor).json()
        assert result["kind"] == "drawing" and result["target"] == 6 and result["total"] == 3
        assert sorted(c["value"] for c in result["counts"] for _ in range(c["count"])) == sorted(readings)

        second = ask(client, lesson, 2)  # MISTAKES[2] and [3]: 2s read as 7
        for student, i in [(ada, 2), (bob, 3)]:
            assert send(client, lesson, second, student, digit(i)).json()["reading"] == 7
        confusion = client.get(f"{lesson.url}/polls/{second}/gallery", headers=lesson.instructor).json()["confusion"]
        expected = np.zeros((10, 10), dtype=int)
        for r in readings:
            expected[6, r] += 1
        expected[2, 7] += 2
        assert confusion["matrix"] == expected.tolist()
        assert confusion["total"] == 5 and confusion["correct"] == int(np.trace(expected))

        # students never see the drawings; a closed poll takes no more
        assert client.get(f"{lesson.url}/polls/{poll_id}/gallery", headers=bearer(ada)).status_code == 404
        reveal = client.post(f"{lesson.url}/polls/{poll_id}/reveal", json={"answer": 6}, headers=lesson.instructor)
        assert reveal.status_code == 200
        late = send(client, lesson, poll_id, ada, digit(1))
        assert late.status_code == 409 and late.json()["detail"][0]["type"] == "closed"


def test_every_bad_drawing_gets_a_clear_4xx(make_client):
    with make_client(max_drawings_per_class=2) as client:
        lesson = Class(client)
        ada, bob, cy = lesson.join("Ada"), lesson.join("Bob"), lesson.join("Cy")
        polls = f"{lesson.url}/polls"
        bad_polls = [
            {"question": "Draw", "kind": "drawing"},  # no digit
            {"question": "Draw", "kind": "drawing", "target": 10},
            {"question": "Draw", "kind": "drawing", "target": 7, "options": ["a", "b"]},
            {"question": "Draw", "kind": "number", "target": 7},
            {"question": "Draw", "kind": "drawing", "target": "7"},
        ]
        for body in bad_polls:
            r = client.post(polls, json=body, headers=lesson.instructor)
            assert r.status_code == 422 and r.json()["detail"][0]["msg"], body
        poll_id = ask(client, lesson, 7)
        good = digit(8)
        row = [0] * 28
        bad_drawings = [
            [row] * 27,  # 27 rows
            [row + [0]] * 28,  # 29 columns
            [[256] + row[1:]] + [row] * 27,  # a level above 255
            [[-1] + row[1:]] + [row] * 27,
            [[0.5] + row[1:]] + [row] * 27,  # not a whole number
            [["1"] + row[1:]] + [row] * 27,
            [[True] + row[1:]] + [row] * 27,
            None,
        ]
        for pixels in bad_drawings:
            r = send(client, lesson, poll_id, ada, pixels)
            assert r.status_code == 422, pixels
            assert r.json()["detail"][0]["loc"][:2] == ["body", "pixels"]
        extra = client.post(f"{polls}/{poll_id}/drawings", json={"pixels": good, "strokes": []}, headers=bearer(ada))
        assert extra.status_code == 422  # nothing but the 28×28
        answer = client.post(f"{polls}/{poll_id}/answers", json={"value": 7}, headers=bearer(ada))
        assert answer.status_code == 409 and answer.json()["detail"][0]["type"] == "wrong_kind"
        number = client.post(polls, json={"question": "x?", "kind": "number"}, headers=lesson.instructor).json()
        wrong = send(client, lesson, number["poll_id"], ada, good)
        assert wrong.status_code == 409 and "not a drawing poll" in wrong.json()["detail"][0]["msg"]
        gallery = client.get(f"{polls}/{number['poll_id']}/gallery", headers=lesson.instructor)
        assert gallery.status_code == 409
        assert send(client, lesson, "p99", ada, good).status_code == 404
        by_instructor = client.post(f"{polls}/{poll_id}/drawings", json={"pixels": good}, headers=lesson.instructor)
        assert by_instructor.status_code == 404
        assert client.post(f"{polls}/{poll_id}/drawings", json={"pixels": good}).status_code == 401
        # the class keeps max_drawings_per_class drawings: a third student is refused, a replacement is not
        assert [send(client, lesson, poll_id, s, good).status_code for s in (ada, bob)] == [200, 200]
        full = send(client, lesson, poll_id, cy, good)
        assert full.status_code == 409 and "at most 2 drawings" in full.json()["detail"][0]["msg"]
        assert send(client, lesson, poll_id, bob, digit(9)).status_code == 200
        assert client.get(f"{polls}/{poll_id}/gallery", headers=lesson.instructor).json()["total"] == 2
        reveal = client.post(f"{polls}/{poll_id}/reveal", json={"answer": 10}, headers=lesson.instructor)
        assert reveal.status_code == 422


@pytest.mark.anyio
async def test_concurrent_drawings_replace_each_students_earlier_one_atomically(brokers):
    a, b = brokers()
    try:
        await a.create("AAAAAA", "id1", 10)
        body = {"question": "Draw a 3", "kind": "drawing", "options": [], "target": 3}
        poll_id, _ = await a.add_poll("AAAAAA", "id1", body, 5)
        students = [f"s{i}" for i in range(60)]
        # every student sends twice at once, through two brokers: only one drawing each is kept
        sends = [(a if i % 2 else b).draw("AAAAAA", "id1", poll_id, s, str(k), f"ink-{s}-{k}", 100)
                 for i, s in enumerate(students) for k in (3, 8)]  # fmt: skip
        assert set(await asyncio.gather(*sends)) == {"ok"}
        found = await b.drawings("AAAAAA", "id1", poll_id)
        assert set(found) == set(students)
        assert all(ink == f"ink-{s}-{key}" for s, (key, ink) in found.items())  # each drawing beside its reading
        result = await a.poll_result("AAAAAA", "id1", poll_id)
        kept = [key for key, _ in found.values()]
        assert result.counts == {k: kept.count(k) for k in set(kept)} and sum(result.counts.values()) == 60
        assert await a.draw("AAAAAA", "id1", poll_id, "late", "3", "x", 60) == "full"
        assert await a.draw("AAAAAA", "id1", poll_id, "s1", "3", "x", 60) == "ok"  # a replacement is no more
        [(poll, counts)] = await b.tallies("AAAAAA", "id1")
        assert poll == {"poll_id": poll_id, **body} and counts == (await a.poll_result("AAAAAA", "id1", poll_id)).counts
        assert await a.drawings("AAAAAA", "id2", poll_id) == "gone"
        assert await a.drawings("AAAAAA", "id1", "p9") == "missing"
        await a.reveal("AAAAAA", "id1", poll_id, {"poll_id": poll_id, "answer": 3})
        assert await b.draw("AAAAAA", "id1", poll_id, "s2", "3", "x", 100) == "closed"
        await a.end("AAAAAA", "id1")
        assert await b.tallies("AAAAAA", "id1") is None
    finally:
        with contextlib.suppress(Exception):
            await a.close()
            await b.close()


def test_a_frames_ink_is_its_input_as_levels_and_comes_back_unchanged(make_client):
    """/lenet writes a frame's `ink` into its URL and sends it back as pixels (levels / 255)
    when the link is opened: the same 784 levels, so the same reading, every time."""
    with make_client() as client:
        for i in (0, 4, 11):
            frame = client.post("/api/v1/lenet/predict", json={"pixels": (MISTAKES["images"][i] / 255.0).tolist()})
            assert levels(frame.json()["ink"]) == digit(i)
        drawn = client.post("/api/v1/lenet/predict", json={"image": DRAWING}).json()  # a drawing, made MNIST-like
        seen = np.frombuffer(base64.b64decode(drawn["input"]["data"]), dtype=np.uint8) / 255.0
        seen = drawn["input"]["min"] + seen * (drawn["input"]["max"] - drawn["input"]["min"])
        assert np.abs(np.array(levels(drawn["ink"])) - seen.reshape(28, 28) * 255).max() <= 1.5
        again = client.post("/api/v1/lenet/predict", json={"pixels": (np.array(levels(drawn["ink"])) / 255).tolist()})
        assert again.json()["ink"] == drawn["ink"]


def _drawing() -> str:
    """A 7 drawn as the page draws it: dark strokes on a transparent 84×84 PNG."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (84, 84), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(20, 18), (64, 18), (36, 70)], fill=(17, 17, 17, 255), width=7)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


DRAWING = _drawing()
