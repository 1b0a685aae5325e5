"""The hall's drawings (docs/classroom.md): what a drawing costs the server. One class in
process (FastAPI's TestClient, no network), one drawing poll; ``--students`` students each send
a 28×28 (the shipped mistakes gallery's digits), one after another; then the instructor's
gallery is fetched ``--looks`` times, as the dashboard does once a second.

    .venv/bin/python bench/class_drawings.py [--students 200]
"""

from __future__ import annotations

import argparse
import time

from fastapi.testclient import TestClient

from deepviz.app.main import create_app
from deepviz.app.settings import Settings
from deepviz.lessons import lenet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--looks", type=int, default=20)
    args = parser.parse_args()
    digits = lenet.mistakes()["images"]
    with TestClient(create_app(Settings(max_work_per_address=64))) as client:
        made = client.post("/api/v1/classes").json()
        url, instructor = f"/api/v1/classes/{made['code']}", {"Authorization": f"Bearer {made['instructor_token']}"}
        client.post(f"{url}/polls", json={"question": "Draw a 7", "kind": "drawing", "target": 7}, headers=instructor)
        tokens = [client.post(f"{url}/join", json={}).json()["student_token"] for _ in range(args.students)]
        started = time.perf_counter()
        for i, token in enumerate(tokens):
            pixels = digits[i % len(digits)].astype(int).tolist()
            sent = client.post(
                f"{url}/polls/p1/drawings", json={"pixels": pixels}, headers={"Authorization": f"Bearer {token}"}
            )
            assert sent.status_code == 200, sent.text
        each = (time.perf_counter() - started) / args.students
        started = time.perf_counter()
        for _ in range(args.looks):
            gallery = client.get(f"{url}/polls/p1/gallery", headers=instructor)
        look = (time.perf_counter() - started) / args.looks
    print(f"{args.students} drawings sent one after another: {1000 * each:.1f} ms each (request, reading, broker)")
    print(f"the gallery of {args.students}: {1000 * look:.1f} ms, {len(gallery.content) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
