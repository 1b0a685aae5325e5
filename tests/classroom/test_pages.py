"""The classroom pages' server side: /class and /join are served, and the join link's QR code
(GET /api/v1/classes/{code}/qr.svg) encodes /join?code=<the code as typed, read normally>."""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET

import segno

from tests.classroom.conftest import Class


def qr_of(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, xmldecl=False, svgns=True)
    return out.getvalue()


def test_the_qr_code_is_the_join_link_of_the_code_read_as_people_type_it(make_client):
    with make_client() as client:
        answer = client.get("/api/v1/classes/k7qx2m/qr.svg")
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
        assert ET.fromstring(answer.content).tag == "{http://www.w3.org/2000/svg}svg"
        assert answer.content == qr_of("http://testserver/join?code=K7QX2M")
        assert answer.content != client.get("/api/v1/classes/K7QX2N/qr.svg").content


def test_a_code_that_cannot_be_one_gets_a_422_naming_it(make_client):
    with make_client() as client:
        for bad in ("K7QX2", "K7QX2M9", "K7QX0M", "<svg>"):
            answer = client.get(f"/api/v1/classes/{bad}/qr.svg")
            assert answer.status_code == 422, bad
            assert answer.json()["detail"][0]["loc"] == ["path", "code"]


def test_the_dashboard_and_the_join_page_are_served_with_the_class_bar(make_client):
    with make_client() as client:
        for path in ("/class", "/join", "/backprop"):
            page = client.get(path)
            assert page.status_code == 200
            assert 'id="class-bar"' in page.text and "/static/js/classbar.js" in page.text
        assert 'maxlength="40"' in client.get("/join").text  # the name's limit is the server's


def connected(lesson, count: int) -> bool:
    """Whether the dashboard's count reaches `count` (a follower's presence is written just
    after its snapshot is sent), asking for a few seconds at most."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if lesson.client.get(lesson.url, headers=lesson.instructor).json()["connected"] == count:
            return True
        time.sleep(0.02)
    return False


def test_the_instructor_sees_how_many_pages_follow_now_not_only_who_joined(make_client):
    with make_client() as client:
        lesson = Class(client)
        ada, grace = lesson.join("Ada"), lesson.join()
        assert connected(lesson, 0)
        with lesson.follow(ada) as one, lesson.follow(grace) as two:
            one.receive_json(), two.receive_json()
            assert connected(lesson, 2)
            two.close()
            assert connected(lesson, 1)
        assert connected(lesson, 0)
        assert lesson.client.get(lesson.url, headers=lesson.instructor).json()["students"] == 2
