"""The classroom API through FastAPI's TestClient, with the classes in process and in a real
Redis: a class from creation to its end, followers in order and given the current state at
once, polls counted exactly, who may see and do what, and the same 404 for a wrong code and a
wrong token."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.classroom.conftest import Class, bearer


def close_code(ws) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_text()
    return closed.value.code


def test_a_follower_gets_the_current_state_at_once_then_every_change_in_order(make_client):
    with make_client() as client:
        lesson, student = Class(client), None
        student = lesson.join()
        with lesson.follow(student) as ws:  # before the instructor's first state: a state with no page
            assert ws.receive_json() == {"type": "state", "seq": 0, "page": None, "state": None}
        assert [lesson.state(step=str(i)) for i in range(3)] == [1, 2, 3]
        with lesson.follow(student) as ws:
            assert ws.receive_json() == {"type": "state", "seq": 3, "page": "/backprop", "state": {"step": "2"}}
            seqs = [lesson.state("/convolution", stride=str(i)) for i in range(1, 11)]
            received = [ws.receive_json() for _ in seqs]
        assert [m["seq"] for m in received] == seqs == list(range(4, 14))
        assert [m["state"]["stride"] for m in received] == [str(i) for i in range(1, 11)]
        assert {m["page"] for m in received} == {"/convolution"}


def test_a_poll_is_answered_once_per_student_and_counted_exactly(make_client):
    with make_client() as client:
        lesson = Class(client)
        students = [lesson.join(f"student {i}") for i in range(12)]
        with lesson.follow(students[0]) as ws:
            ws.receive_json()
            poll = client.post(
                f"{lesson.url}/polls",
                headers=lesson.instructor,
                json={"question": "∂f/∂x at this node?", "kind": "choice", "options": ["-4", "3", "-2"]},
            )
            assert poll.status_code == 201 and poll.json() == {"poll_id": "p1", "seq": 1}
            assert ws.receive_json() == {
                "type": "poll",
                "seq": 1,
                "poll_id": "p1",
                "question": "∂f/∂x at this node?",
                "kind": "choice",
                "options": ["-4", "3", "-2"],
            }
            for i, s in enumerate(students):
                r = client.post(f"{lesson.url}/polls/p1/answers", json={"value": i % 3}, headers=bearer(s))
                assert r.status_code == 200 and r.json() == {"poll_id": "p1", "value": i % 3}
            for s in students[:4]:  # four change their minds: their new answer replaces the old
                changed = client.post(f"{lesson.url}/polls/p1/answers", json={"value": 0}, headers=bearer(s))
                assert changed.status_code == 200
            result = client.get(f"{lesson.url}/polls/p1", headers=lesson.instructor).json()
            assert result["total"] == 12 and not result["revealed"]
            assert result["counts"] == [{"value": 0, "count": 6}, {"value": 1, "count": 3}, {"value": 2, "count": 3}]
            assert {a["name"] for a in result["answers"]} == {f"student {i}" for i in range(12)}
            reveal = client.post(f"{lesson.url}/polls/p1/reveal", json={"answer": 0}, headers=lesson.instructor)
            assert reveal.json() == {"seq": 2}
            # students get the answer, never the counts nor anyone's name
            assert ws.receive_json() == {"type": "reveal", "seq": 2, "poll_id": "p1", "answer": 0}
        late = client.post(f"{lesson.url}/polls/p1/answers", json={"value": 1}, headers=bearer(students[5]))
        assert late.status_code == 409 and late.json()["detail"][0]["type"] == "closed"
        again = client.post(f"{lesson.url}/polls/p1/reveal", json={}, headers=lesson.instructor)
        assert again.status_code == 409
        assert client.get(f"{lesson.url}/polls/p1", headers=lesson.instructor).json()["counts"][0]["count"] == 6


def test_number_polls_count_equal_numbers_together(make_client):
    with make_client() as client:
        lesson = Class(client)
        client.post(
            f"{lesson.url}/polls", json={"question": "output size?", "kind": "number"}, headers=lesson.instructor
        )
        for value in (5, 5.0, -0.0, 0, 2.5):
            r = client.post(f"{lesson.url}/polls/p1/answers", json={"value": value}, headers=bearer(lesson.join()))
            assert r.status_code == 200
        counts = client.get(f"{lesson.url}/polls/p1", headers=lesson.instructor).json()["counts"]
        assert counts == [{"value": 0, "count": 2}, {"value": 2.5, "count": 1}, {"value": 5, "count": 2}]


def test_a_wrong_code_and_a_wrong_token_get_the_same_404(make_client):
    with make_client() as client:
        lesson, other = Class(client), Class(client)
        student = lesson.join()
        body = {"json": {"page": "/", "state": {}}}
        attempts = [
            client.post("/api/v1/classes/ZZZZZZ/state", headers=lesson.instructor, **body),  # no such code
            client.post(f"{other.url}/state", headers=lesson.instructor, **body),  # another class's token
            client.post(f"{lesson.url}/state", headers=bearer(student), **body),  # a student's token
            client.post(f"{lesson.url}/state", headers={"Authorization": "Bearer i.x.y"}, **body),  # forged
            client.get(f"{lesson.url}/polls/p1", headers=bearer(student)),  # students never see answers
            client.get(lesson.url, headers=bearer(student)),  # nor names
            client.post(f"{lesson.url}/end", headers=other.instructor),
            client.post(f"{lesson.url}/polls/p1/answers", json={"value": 1}, headers=other.instructor),
            client.post("/api/v1/classes/ZZZZZZ/join", json={}),
        ]
        assert {r.status_code for r in attempts} == {404}
        assert len({r.text for r in attempts}) == 1
        assert attempts[0].json()["detail"][0]["loc"] == ["path", "code"]
        missing = client.post(f"{lesson.url}/state", **body)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert client.post(f"{lesson.url}/polls/p1/answers", json={"value": 1}).status_code == 401
        with client.websocket_connect(f"{lesson.url}/follow?student_token={other.join()['student_token']}") as ws:
            assert close_code(ws) == 4404
        with client.websocket_connect(f"/api/v1/classes/ZZZZZZ/follow?student_token={student['student_token']}") as ws:
            assert close_code(ws) == 4404
        with client.websocket_connect(f"{lesson.url}/follow") as ws:
            assert close_code(ws) == 4401


def test_codes_are_read_as_people_type_them(make_client):
    with make_client() as client:
        lesson = Class(client)
        r = client.post(f"/api/v1/classes/ {lesson.code.lower()} /join", json={"name": "  Ada   Lovelace "})
        assert r.status_code == 201
        info = client.get(lesson.url, headers=lesson.instructor).json()
        assert info["names"] == [{"student_id": r.json()["student_id"], "name": "Ada Lovelace"}]
        assert lesson.out["join_url"].endswith(f"/join?code={lesson.code}")


def test_wrong_codes_are_rate_limited_per_address_right_or_wrong_afterwards(make_client):
    with make_client(max_join_failures=3) as client:
        lesson = Class(client)
        assert [client.post("/api/v1/classes/ZZZZZZ/join").status_code for _ in range(3)] == [404] * 3
        blocked = client.post(f"{lesson.url}/join")
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "60"
        assert "wrong code" in blocked.json()["detail"][0]["msg"]


def test_every_input_is_bounded_by_a_setting(make_client):
    limits = {
        "max_class_state_bytes": 300,
        "max_name_length": 8,
        "max_poll_options": 3,
        "max_polls_per_class": 2,
        "max_students_per_class": 2,
        "max_question_length": 20,
        "max_classes": 2,
        "max_classes_per_address": 3,
    }
    with make_client(**limits) as client:
        lesson = Class(client)
        big = client.post(
            f"{lesson.url}/state", json={"page": "/", "state": {"x": "a" * 300}}, headers=lesson.instructor
        )
        assert big.status_code == 422 and "the limit is 300" in big.json()["detail"][0]["msg"]
        for name, status in [
            ("Ada", 201),
            ("Ada Lovelace", 422),
            ("a\nb", 422),
            ("x\u202e", 422),
            ("<b>B</b>", 201),
            ("Cy", 409),
        ]:
            assert client.post(f"{lesson.url}/join", json={"name": name}).status_code == status, name
        names = client.get(lesson.url, headers=lesson.instructor).json()["names"]
        assert {n["name"] for n in names} == {"Ada", "<b>B</b>"}  # as typed: JSON; the page shows it as text
        polls = f"{lesson.url}/polls"
        bad = [
            {"question": "q", "kind": "choice", "options": ["a"]},
            {"question": "q", "kind": "choice", "options": ["a", "b", "c", "d"]},
            {"question": "q" * 21, "kind": "number"},
            {"question": "q", "kind": "number", "options": ["a", "b"]},
            {"question": "q", "kind": "choice", "options": ["a", " "]},
            {"question": "", "kind": "number"},
            {"question": "q", "kind": "essay"},
        ]
        assert [client.post(polls, json=b, headers=lesson.instructor).status_code for b in bad] == [422] * len(bad)
        ok = {"question": "q", "kind": "choice", "options": ["a", "b", "c"]}
        assert [client.post(polls, json=ok, headers=lesson.instructor).status_code for _ in range(3)] == [201, 201, 409]
        class_id = lesson.out["instructor_token"].split(".")[1]  # the class is full: a token made as a join would
        student = bearer({"student_token": client.app.state.classroom.signer.student(lesson.code, class_id, "s1")})
        for value in (3, -1, 0.5, "1", None):
            r = client.post(f"{polls}/p1/answers", json={"value": value}, headers=student)
            assert r.status_code == 422, value
        assert client.post(f"{polls}/p9/answers", json={"value": 0}, headers=student).status_code == 404
        assert client.post(f"{polls}/x/answers", json={"value": 0}, headers=student).status_code == 404
        Class(client)
        full = client.post("/api/v1/classes")
        assert full.status_code == 503 and "2 classes are open" in full.json()["detail"][0]["msg"]
        client.post(f"{lesson.url}/end", headers=lesson.instructor)
        Class(client)  # a place freed; the third class from this address this hour
        assert client.post("/api/v1/classes").status_code == 429


def test_ending_a_class_closes_its_followers_and_forgets_it(make_client):
    with make_client() as client:
        lesson = Class(client)
        student = lesson.join("Ada")
        lesson.state(step="1")
        with lesson.follow(student) as ws:
            assert ws.receive_json()["seq"] == 1
            assert client.post(f"{lesson.url}/end", headers=lesson.instructor).json() == {"seq": 2}
            assert ws.receive_json() == {"type": "ended", "seq": 2}
            assert close_code(ws) == 1000
        gone = [
            client.post(f"{lesson.url}/state", json={"page": "/", "state": {}}, headers=lesson.instructor),
            client.get(lesson.url, headers=lesson.instructor),
            client.post(f"{lesson.url}/join", json={}),
            client.post(f"{lesson.url}/polls", json={"question": "?", "kind": "number"}, headers=lesson.instructor),
        ]
        assert [r.status_code for r in gone] == [404] * 4  # an ended class is not restored by its instructor's state
        with lesson.follow(student) as ws:
            assert close_code(ws) == 4404


def test_a_class_that_was_lost_is_restored_by_its_instructors_next_state(make_client):
    with make_client() as client:
        lesson = Class(client)
        student = lesson.join()
        lesson.state(step="1")
        broker = client.app.state.classroom.broker
        if hasattr(broker, "rooms"):
            broker.rooms.clear()  # as a Redis restart loses them (test_instances.py restarts a real one)
        else:
            client.portal.call(broker.client.flushall)
        with lesson.follow(student) as ws:
            assert close_code(ws) == 4404  # nothing to follow until the instructor acts
        assert lesson.state(step="2") == 1  # restored: its seqs start again
        with lesson.follow(student) as ws:  # the student's token still holds
            assert ws.receive_json() == {"type": "state", "seq": 1, "page": "/backprop", "state": {"step": "2"}}


def test_followers_per_address_are_bounded_like_every_stream(make_client):
    with make_client(max_ws_per_address=1) as client:
        lesson = Class(client)
        student = lesson.join()
        with lesson.follow(student) as first:
            first.receive_json()
            with lesson.follow(student) as second:
                assert close_code(second) == 1013
        with lesson.follow(student) as again:  # the first one's place is free again
            assert again.receive_json()["seq"] == 0


def test_a_follower_that_talks_too_much_is_closed(make_client):
    with make_client(max_ws_rate=2) as client:
        lesson = Class(client)
        with lesson.follow(lesson.join()) as ws:
            ws.receive_json()
            for _ in range(10):
                ws.send_text("hello")
            assert close_code(ws) == 1008


def test_with_several_workers_and_no_redis_classroom_mode_is_off_and_says_why():
    from fastapi.testclient import TestClient

    from deepviz.app.main import create_app
    from deepviz.app.settings import Settings

    with TestClient(create_app(Settings(workers=2))) as client:
        r = client.post("/api/v1/classes")
        assert r.status_code == 503 and "DEEPVIZ_REDIS_URL" in r.json()["detail"][0]["msg"]
        with client.websocket_connect("/api/v1/classes/ABCDEF/follow?student_token=x") as ws:
            assert close_code(ws) == 1013
